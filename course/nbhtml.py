"""An executed notebook as one standalone HTML page, for reports.

The course site goes through Jupyter Book; a report is a single page that must
open from disk, offline, and print to PDF. This renderer writes:

- markdown cells and ``text/markdown`` outputs through markdown-it (CommonMark,
  tables, ``$...$`` / ``$$...$$`` math kept for MathJax; raw HTML is escaped);
- ``image/png`` (and jpeg, svg) outputs as data URIs inside the page;
- ``text/html`` outputs (pandas tables, the report's banners) as they are;
- ``text/plain`` and streams as preformatted text;
- code inputs only for cells tagged ``show-input`` (a report shows results).

Math is typeset by the MathJax vendored in ``book/_assets/mathjax``, which
:func:`write_page` copies next to the page (``mathjax/``): no CDN, no request
leaving the machine.
"""

from __future__ import annotations

import base64
import html
import shutil
from pathlib import Path

from .project import REPO_ROOT

#: The MathJax the course vendors (npm package mathjax, version 3.2.2; see book/_assets/mathjax/README.md).
MATHJAX_DIR = REPO_ROOT / "book" / "_assets" / "mathjax"
HIDE_TAGS = {"remove-cell", "remove-input", "hide-input", "parameters", "injected-parameters"}
REMOVE_CELL_TAGS = {"remove-cell", "parameters", "injected-parameters"}

CSS = """
:root { --ink: #1d232a; --muted: #5b6570; --rule: #d8dde3; --accent: #2c5d8f; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--ink);
       line-height: 1.5; margin: 0; background: #fff; }
main { max-width: 56rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.8rem; margin: 0.2rem 0 0.6rem; line-height: 1.25; }
h2 { font-size: 1.35rem; margin: 2rem 0 0.6rem; padding-bottom: 0.2rem;
     border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.1rem; margin: 1.4rem 0 0.4rem; }
p, ul, ol { margin: 0.5rem 0; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.9em;
       background: #f3f5f7; padding: 0.05em 0.3em; border-radius: 3px; }
pre { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.8rem;
      background: #f6f8fa; border: 1px solid var(--rule); border-radius: 4px;
      padding: 0.6rem 0.8rem; overflow-x: auto; line-height: 1.35; white-space: pre; }
pre code { background: none; padding: 0; font-size: 1em; }
.output { margin: 0.6rem 0; }
.output img { max-width: 100%; height: auto; display: block; margin: 0.4rem auto; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.4rem 0 0.8rem;
        font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--rule); padding: 0.2rem 0.6rem; text-align: right; }
th { background: #f3f5f7; font-weight: 600; }
thead th { border-bottom: 2px solid #aab3bd; }
.table-wrap { overflow-x: auto; }
.math.display { overflow-x: auto; margin: 0.6rem 0; }
.report-warning, .report-note { border-left: 5px solid; border-radius: 4px; padding: 0.5rem 0.9rem;
                                margin: 0.8rem 0; }
.report-warning { border-color: #c0392b; background: #fdecea; }
.report-note { border-color: #d4a017; background: #fff8e1; }
.report-warning-title, .report-note-title { font-weight: 700; margin: 0 0 0.2rem; }
.stderr { background: #fff8e1; }
.input { background: #eef3f8; }
@media print {
  @page { size: A4; margin: 15mm 14mm 16mm 14mm; }
  main { max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  .output img, table, pre, .report-warning { break-inside: avoid; }
  pre { white-space: pre-wrap; font-size: 0.72rem; }
  .table-wrap { overflow: visible; }
}
"""

MATHJAX_CONFIG = """window.MathJax = {
  tex: { inlineMath: [['\\\\(', '\\\\)']], displayMath: [['\\\\[', '\\\\]']],
         processEscapes: false },
  options: { ignoreHtmlClass: 'no-math', processHtmlClass: 'math' },
  chtml: { displayOverflow: 'overflow' }
};"""


def _markdown():
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": False, "typographer": False}).enable("table")

    def render_math(content: str, options: dict) -> str:
        if options.get("display_mode"):
            return f'<div class="math display">\\[{html.escape(content)}\\]</div>\n'
        return f'<span class="math inline">\\({html.escape(content)}\\)</span>'

    dollarmath_plugin(md, double_inline=True, allow_labels=False, allow_space=True,
                      renderer=render_math)
    return md


_MD = None


def markdown_to_html(text: str) -> str:
    global _MD
    if _MD is None:
        _MD = _markdown()
    out = _MD.render(text)
    return out.replace("<table>", '<div class="table-wrap"><table>').replace(
        "</table>", "</table></div>")


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def _image(mime: str, data, metadata: dict) -> str:
    if mime == "image/svg+xml":
        payload = base64.b64encode(_text(data).encode()).decode()
    else:
        payload = _text(data).replace("\n", "")
    meta = metadata.get(mime, {}) if isinstance(metadata, dict) else {}
    size, alt = "", "figure"
    if isinstance(meta, dict):
        for dim in ("width", "height"):
            if dim in meta:
                size += f' {dim}="{int(meta[dim])}"'
        # the description a figure was shown with (course.lessonkit.figure_text.show)
        alt = str(meta.get("alt") or alt)
    return f'<img src="data:{mime};base64,{payload}"{size} alt="{html.escape(alt)}">'


def render_output(output) -> str:
    kind = output.get("output_type")
    if kind == "stream":
        cls = "stderr" if output.get("name") == "stderr" else "stdout"
        text = _text(output.get("text", ""))
        return f'<pre class="{cls}">{html.escape(text)}</pre>' if text.strip() else ""
    if kind == "error":
        return (f'<pre class="stderr">{html.escape(output.get("ename", ""))}: '
                f'{html.escape(output.get("evalue", ""))}</pre>')
    data = output.get("data", {})
    metadata = output.get("metadata", {})
    for mime in ("image/png", "image/jpeg", "image/svg+xml"):
        if mime in data:
            return _image(mime, data[mime], metadata)
    if "text/html" in data:
        body = _text(data["text/html"])
        if "<table" in body:
            body = f'<div class="table-wrap">{body}</div>'
        return body
    if "text/markdown" in data:
        return markdown_to_html(_text(data["text/markdown"]))
    if "text/latex" in data:
        latex = _text(data["text/latex"]).strip().strip("$")
        return f'<div class="math display">\\[{html.escape(latex)}\\]</div>'
    if "text/plain" in data:
        return f"<pre>{html.escape(_text(data['text/plain']))}</pre>"
    return ""


def render_body(nb) -> str:
    parts = []
    for cell in nb.cells:
        tags = set(cell.get("metadata", {}).get("tags", []))
        if tags & REMOVE_CELL_TAGS:
            continue
        if cell.cell_type == "markdown":
            source = _text(cell.source)
            if source.lstrip().startswith("<!--") and source.rstrip().endswith("-->"):
                continue
            parts.append(markdown_to_html(source))
        elif cell.cell_type == "code":
            if "show-input" in tags and not (tags & HIDE_TAGS - {"hide-input"}):
                parts.append(f'<pre class="input"><code>{html.escape(_text(cell.source))}'
                             "</code></pre>")
            if "remove-output" in tags:
                continue
            for output in cell.get("outputs", []):
                rendered = render_output(output)
                if rendered:
                    parts.append(f'<div class="output">{rendered}</div>')
    return "\n".join(parts)


def render_page(nb, title: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n"
        f"<script>{MATHJAX_CONFIG}</script>\n"
        '<script defer src="mathjax/tex-chtml.js"></script>\n'
        f"</head>\n<body>\n<main>\n{render_body(nb)}\n</main>\n</body>\n</html>\n"
    )


def copy_mathjax(folder: Path) -> Path:
    """Copy the vendored MathJax into ``folder/mathjax`` (what the page loads)."""
    target = Path(folder) / "mathjax"
    if not (MATHJAX_DIR / "tex-chtml.js").is_file():
        from .errors import CourseError

        raise CourseError(f"the vendored MathJax is missing: {MATHJAX_DIR}/tex-chtml.js")
    shutil.copytree(MATHJAX_DIR, target, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("README.md"))
    return target


def write_page(nb, path: Path, title: str) -> Path:
    """Write ``nb`` as ``path`` (an HTML page) with MathJax copied beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    copy_mathjax(path.parent)
    path.write_text(render_page(nb, title), encoding="utf-8")
    return path
