#!/usr/bin/env bash
# Set up glmm-course on Debian 12 and build the site:
#   1. Debian packages the build needs (chromium prints the PDF handouts,
#      poppler-utils' pdfinfo/pdftotext check them), installed only if missing;
#   2. a virtual environment .venv with the pinned requirements;
#   3. `python -m course build`: lessons -> executed notebooks -> site + handouts.
#
# Usage: bash setup.sh [--no-build] [extra arguments for `python -m course build`]
#   --no-build   stop after the set-up (what .ci/run uses before the tests)
# Environment: PYTHON=python3.11 picks the interpreter for the venv.
set -euo pipefail
cd "$(dirname "$0")"

build=1
build_args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) build_args+=("$arg") ;;
  esac
done

step() { printf '\n==> %s\n' "$*"; }
started=$SECONDS

# 1. Debian packages --------------------------------------------------------
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
command -v pdfinfo >/dev/null 2>&1 || missing+=(poppler-utils)
if ((${#missing[@]})); then
  step "Installing Debian packages: ${missing[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || {
      echo "error: need root (or sudo) to run: apt-get install -y ${missing[*]}" >&2
      exit 1
    }
    sudo="sudo"
  fi
  $sudo apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
else
  step "Debian packages: chromium and poppler-utils already installed"
fi

# 2. Python environment -----------------------------------------------------
python=${PYTHON:-}
if [ -z "$python" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python=$candidate; break; fi
  done
fi
[ -n "$python" ] || { echo "error: Python 3.11 not found (set PYTHON=/path/to/python3.11)" >&2; exit 1; }
version=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ "$version" != "3.11" ]; then
  echo "error: $python is Python $version; the pinned requirements are for Python 3.11 (set PYTHON=...)" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  step "Creating .venv with $python"
  "$python" -m venv .venv || {
    echo "error: could not create a venv; on Debian: apt-get install -y python3-venv" >&2
    exit 1
  }
fi
step "Installing the pinned requirements into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
echo "set-up took $((SECONDS - started)) s"

# 3. Build ------------------------------------------------------------------
if ((build)); then
  step "Building the course: python -m course build ${build_args[*]:-}"
  .venv/bin/python -m course build "${build_args[@]}"
  cat <<EOF

The site is in _build/html (open _build/html/index.html, or serve it with
  .venv/bin/python -m http.server -d _build/html
and visit http://localhost:8000/). PDF handouts: _build/html/handouts/.
EOF
fi
