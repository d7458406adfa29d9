"""One way to say "the inputs are the same": a hash of named parts.

Lessons (:mod:`course.execute`), handouts (:mod:`course.handouts`) and reports
(:mod:`course.report.make`) are made again only when their key changes. Each
lists what its output depends on as ``(name, content)`` pairs; the name keeps
two parts from running into each other (and says what changed when a key is
debugged), the length prefix keeps one part's bytes from passing for another's.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

__all__ = ["cache_key", "file_parts", "json_part"]


def cache_key(parts) -> str:
    """The SHA-256 hex digest of ``parts``, an iterable of ``(name, content)`` with
    ``content`` bytes or text (text is hashed as UTF-8)."""
    digest = hashlib.sha256()
    for name, content in parts:
        data = content.encode() if isinstance(content, str) else bytes(content)
        label = str(name).encode()
        digest.update(len(label).to_bytes(8, "big") + label)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


def json_part(value) -> str:
    """``value`` as canonical JSON (sorted keys), for a part that is a mapping or list."""
    return json.dumps(value, sort_keys=True, default=repr)


def file_parts(folder: Path, root: Path) -> list[tuple[str, bytes]]:
    """Every file under ``folder`` (compiled Python left out) as a part named by its path
    relative to ``root``, in a fixed order; nothing for a missing folder."""
    if not folder.is_dir():
        return []
    return [(path.relative_to(root).as_posix(), path.read_bytes())
            for path in sorted(folder.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"]
