"""Lesson parameters: the notebook's ``parameters`` cell and ``--param`` overrides."""

from __future__ import annotations

import ast
from pathlib import Path

from .errors import UsageError

#: Default of a parameter whose value is not a Python literal (an expression).
NOT_LITERAL = object()


def read_notebook(path: Path):
    """A lesson source (MyST markdown or .ipynb) as an nbformat v4 notebook."""
    import jupytext

    return jupytext.read(str(path))


def parameters_cell(nb):
    """The code cell tagged ``parameters``, or None."""
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.get("metadata", {}).get("tags", []):
            return cell
    return None


def notebook_parameters(nb) -> dict[str, object]:
    """Names and default values assigned at top level in the ``parameters`` cell.

    A default that is not a Python literal maps to :data:`NOT_LITERAL`.
    """
    cell = parameters_cell(nb)
    if cell is None:
        return {}
    source = "\n".join(
        line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))
    )
    tree = ast.parse(source)
    params: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        else:
            continue
        for target in targets:
            if isinstance(target, ast.Name):
                try:
                    params[target.id] = ast.literal_eval(value)
                except ValueError:
                    params[target.id] = NOT_LITERAL
    return params


def parse_value(text: str) -> object:
    """A ``--param`` value: a Python literal (``5``, ``0.5``, ``[1, 2]``, ``'a'``) or else a string."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _check_type(label: str, default: object, value: object) -> None:
    if default is NOT_LITERAL or default is None:
        return
    numeric = (int, float)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, numeric):
        ok = isinstance(value, numeric) and not isinstance(value, bool)
    elif isinstance(default, (list, tuple)):
        ok = isinstance(value, (list, tuple))
    else:
        ok = isinstance(value, type(default))
    if not ok:
        raise UsageError(
            f"--param {label}: expected a value like the default {default!r} "
            f"({type(default).__name__}), got {value!r}"
        )


def _plain(value: object, label: str) -> object:
    """``value`` as the JSON-like types papermill can inject (tuples become lists)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v, label) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, label) for k, v in value.items()}
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    raise UsageError(f"--param {label}: values of type {type(value).__name__} are not supported")


def parse_overrides(args: list[str], lessons: dict[str, dict[str, object]]) -> dict[str, dict]:
    """Turn ``["distributions.nu=5", ...]`` into ``{"distributions": {"nu": 5}}``.

    ``lessons`` maps each lesson name to its parameters (name -> default).
    Unknown lessons and parameters, malformed items and values of the wrong
    kind raise :class:`UsageError` naming the valid choices.
    """
    overrides: dict[str, dict] = {}
    for item in args or []:
        key, sep, text = item.partition("=")
        lesson, dot, name = key.strip().partition(".")
        if not sep or not dot or not lesson or not name:
            raise UsageError(
                f"--param {item!r}: expected LESSON.NAME=VALUE, e.g. distributions.nu=5"
            )
        if lesson not in lessons:
            raise UsageError(
                f"--param {item!r}: unknown lesson {lesson!r}; lessons: "
                f"{', '.join(lessons) or '(none)'}"
            )
        params = lessons[lesson]
        if name not in params:
            valid = ", ".join(params) if params else "(none: the lesson has no parameters cell)"
            raise UsageError(
                f"--param {item!r}: lesson {lesson!r} has no parameter {name!r}; "
                f"its parameters: {valid}"
            )
        value = parse_value(text.strip())
        _check_type(key, params[name], value)
        overrides.setdefault(lesson, {})[name] = _plain(value, key)
    return overrides
