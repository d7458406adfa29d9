"""A Sphinx extension that fixes what keeps the course site from being accessible.

Enabled in ``_config.yml`` (``sphinx: extra_extensions``); the browser test
``tests/test_accessibility.py`` runs axe-core over the built pages. It does
three things the themes and writers do not:

- **figure descriptions**: a lesson shows a figure with
  :func:`course.lessonkit.figure_text.show`, which stores its description in the
  notebook output's metadata (``metadata["image/png"]["alt"]``). myst-nb keeps
  only width and height from there and names the image by the SHA-256 of its
  bytes, so this extension reads the executed notebook, matches images by
  that hash and sets their ``alt`` (otherwise Sphinx writes the file path);
- **named disclosure buttons**: pydata-sphinx-theme opens the sidebar's
  sections with a ``<summary>`` holding only an icon; each gets an
  ``aria-label`` naming the section it opens;
- **the reference list**: docutils writes citations as ``role="doc-biblioentry"``
  items of a ``role="list"``; that role is deprecated and not a list item, so
  citations are written as ``role="listitem"``.

The course title in the sidebar sits in a navigation landmark through the
template ``book/_assets/templates/course-home-link.html`` (see ``html_sidebars``).
"""

from __future__ import annotations

import hashlib
import json
from binascii import a2b_base64
from pathlib import Path

from docutils import nodes

#: Image outputs myst-nb stores base64-encoded (and names by the hash of the decoded bytes).
_BASE64_IMAGES = ("image/png", "image/jpeg", "image/gif")


def figure_descriptions(notebook: dict) -> dict[str, str]:
    """``{sha256 of the image bytes: description}`` of a notebook's described image outputs."""
    found = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            metadata = output.get("metadata", {})
            for mime in _BASE64_IMAGES:
                alt = (metadata.get(mime) or {}).get("alt")
                if mime in data and alt:
                    content = data[mime]
                    content = "".join(content) if isinstance(content, list) else content
                    found[hashlib.sha256(a2b_base64(content)).hexdigest()] = str(alt)
    return found


def _describe_images(app, doctree) -> None:
    source = Path(app.env.doc2path(app.env.docname))
    if source.suffix != ".ipynb":
        return
    descriptions = figure_descriptions(json.loads(source.read_text(encoding="utf-8")))
    for image in doctree.findall(nodes.image):
        alt = descriptions.get(Path(image.get("uri", "")).stem)
        if alt:
            image["alt"] = alt


def _name_summaries(tree) -> None:
    """Give every icon-only ``<summary>`` of the navigation the name of its section."""
    for summary in tree.find_all("summary"):
        if summary.get("aria-label") or summary.get_text(strip=True):
            continue
        link = summary.parent.find_previous_sibling("a") if summary.parent else None
        section = link.get_text(" ", strip=True) if link else "this section"
        summary["aria-label"] = f"Pages of {section}"


def _wrap_toctree(app, pagename, templatename, context, doctree) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "names_summaries", False):
        return

    def generate_named(*args, **kwargs):
        from bs4 import BeautifulSoup

        html = generate(*args, **kwargs)
        if isinstance(html, str):
            tree = BeautifulSoup(html, "html.parser")
            _name_summaries(tree)
            return str(tree)
        _name_summaries(html)
        return html

    generate_named.names_summaries = True
    context["generate_toctree_html"] = generate_named


def _visit_citation(self, node) -> None:
    if not isinstance(node.previous_sibling(), type(node)):
        self.body.append('<div role="list" class="citation-list">\n')
    self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _depart_citation(self, node) -> None:
    self.body.append("</div>\n")
    if not isinstance(node.next_node(descend=False, siblings=True), type(node)):
        self.body.append("</div>\n")


def setup(app):
    app.connect("doctree-read", _describe_images)
    # After pydata-sphinx-theme has put its toctree function into the context.
    app.connect("html-page-context", _wrap_toctree, priority=900)
    app.add_node(nodes.citation, override=True, html=(_visit_citation, _depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
