#!/usr/bin/env bash
# Measure the set-up and build times recorded in benchmarks/RESULTS.md:
# a fresh clone of this repository, `bash setup.sh --no-build` (clean set-up),
# `python -m course build` twice (clean build, then a rebuild with no change).
# Each step reports wall-clock time and the CPU time (user + system) it used,
# which is less sensitive to other load on the machine.
# Usage: bash benchmarks/bench_build.sh [WORKDIR]   (default: a new temporary folder)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d /tmp/glmm-course-bench.XXXXXX)}
clone="$work/clone"
rm -rf "$clone"
mkdir -p "$work"
git clone --quiet "$repo" "$clone"
cd "$clone"

measure() {  # measure LABEL LOG COMMAND...
  local label=$1 log=$2; shift 2
  python3 - "$label" "$log" "$@" <<'PY'
import resource, subprocess, sys, time
label, log, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
start = time.perf_counter()
with open(log, "w") as out:
    code = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT)
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{label}: {wall:.1f} s wall, {usage.ru_utime + usage.ru_stime:.1f} s CPU (exit {code})")
sys.exit(code)
PY
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GB", $2/1048576}' /proc/meminfo), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
measure "clean set-up (venv + pinned requirements)" "$work/setup.log" bash setup.sh --no-build
measure "clean build" "$work/build1.log" .venv/bin/python -m course build
measure "no-change rebuild" "$work/build2.log" .venv/bin/python -m course build
grep -h "^Done in" "$work/build1.log" "$work/build2.log"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "logs and clone in $work"
