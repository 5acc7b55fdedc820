"""Sphinx configuration of the offline HTML site (``nox -s docs``).

The pages are the MyST sources that jupyter-book 2 reads (``myst.yml``); Sphinx with MyST-NB and
the book theme renders them to static HTML without network access (jupyter-book 2 downloads its
theme at build time, which CI cannot). The table of contents is read from ``myst.yml``, so it has
one home. Notebooks are executed on every build and any error fails it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
MYST = yaml.safe_load((HERE / "myst.yml").read_text())

project = MYST["project"]["title"]
author = "zedo-xr contributors"
extensions = ["myst_nb", "sphinx_design"]  # sphinx-design: the API page's dropdowns
exclude_patterns = ["_build", "_scripts", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "notebooks/*.ipynb"]
root_doc = "index"


def _toc_docs(entries: list[dict]) -> set[str]:
    docs: set[str] = set()
    for entry in entries:
        if "file" in entry:
            docs.add(str(Path(entry["file"]).with_suffix("")))
        docs |= _toc_docs(entry.get("children", []))
    return docs


# Like jupyter-book 2 with an explicit toc, the site is the toc's pages: a page outside it (e.g. a
# notebook not yet listed) is left out, not built as an orphan.
_PAGES = {str((Path(d) / f).relative_to(HERE).with_suffix(""))
          for d, _, files in os.walk(HERE, followlinks=True)
          if "_build" not in Path(d).relative_to(HERE).parts
          for f in files if f.endswith(".md")}
exclude_patterns += sorted(f"{doc}.md" for doc in _PAGES - _toc_docs(MYST["project"]["toc"]))
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
myst_title_to_header = True  # front-matter `title:` is the page's heading, as in jupyter-book 2
nb_execution_mode = "force"
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True
# A live ipywidgets viewer needs a kernel: on a static page it is a placeholder, as on any site.
suppress_warnings = ["mystnb.unknown_mime_type"]
html_theme = "sphinx_book_theme"
html_title = MYST["project"]["title"]
html_theme_options = {"home_page_in_toc": True, "show_toc_level": 2}
html_static_path: list[str] = []

# plotly's "notebook" renderer writes HTML with plotly.js inlined: the figures work offline.
os.environ.setdefault("PLOTLY_RENDERER", "notebook")


def _doc(entry: dict) -> str:
    return str(Path(entry["file"]).with_suffix(""))


def _toctrees(toc: list[dict]) -> str:
    """``myst.yml``'s toc as hidden toctrees: loose pages in one, each titled group in its own."""
    blocks: list[tuple[str | None, list[str]]] = []
    for entry in toc:
        if "children" in entry:
            blocks.append((entry["title"], [_doc(c) for c in entry["children"]]))
        elif _doc(entry) != root_doc:
            if not blocks or blocks[-1][0] is not None:
                blocks.append((None, []))
            blocks[-1][1].append(_doc(entry))
    text = ""
    for caption, docs in blocks:
        options = ":hidden:\n" + (f":caption: {caption}\n" if caption else "")
        text += "\n```{toctree}\n" + options + "\n" + "\n".join(docs) + "\n```\n"
    return text


def _prepare_source(app, docname: str, source: list[str]) -> None:
    """The root page gets the toc; pages with a kernel are notebooks, as in jupyter-book 2.

    jupyter-book 2 executes any page whose front matter names a kernel; MyST-NB also wants
    ``file_format: mystnb`` (or a jupytext header), added here so the sources stay as they are.
    """
    text = source[0]
    if docname == root_doc:
        text += "\n" + _toctrees(MYST["project"]["toc"])
    head = text.split("\n---", 1)[0] if text.startswith("---\n") else ""
    if "kernelspec:" in head and "jupytext:" not in head and "file_format:" not in head:
        text = "---\nfile_format: mystnb\n" + text[4:]
    source[0] = text


# plotly's notebook renderer puts a MathJax <script> from a CDN before every figure; the figures
# have no LaTeX and an offline page cannot load it, so it is dropped.
_MATHJAX_CDN = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/mathjax/[^"]*">'
                          r"</script>")


def _offline_outputs(app, doctree, docname: str) -> None:
    from docutils import nodes

    for node in doctree.findall(nodes.raw):
        text = node.astext()
        if _MATHJAX_CDN.search(text):
            node.replace_self(nodes.raw("", _MATHJAX_CDN.sub("", text), format=node["format"]))


def setup(app) -> None:
    app.connect("source-read", _prepare_source)
    app.connect("doctree-resolved", _offline_outputs)
