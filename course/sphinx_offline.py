"""A small Sphinx extension that keeps the course site free of outside URLs.

Jupyter Book always loads sphinx-thebe, which puts a ``<script>`` into every
page holding the URL of thebe on a CDN (used only by launch buttons, which the
course turns off) and loads ``sphinx-thebe.js``. Neither does anything here, so
this extension drops both from every page. Enabled in ``_config.yml`` under
``sphinx: extra_extensions``.
"""

from __future__ import annotations


def _is_thebe(script) -> bool:
    filename = getattr(script, "filename", None) or ""
    body = (getattr(script, "attributes", None) or {}).get("body", "") or ""
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def _drop_thebe(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe(s)]


def setup(app):
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
