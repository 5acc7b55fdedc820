"""The offline HTML site's configuration (docs/conf.py): the toc is myst.yml's, every page is in it,
and pages with a kernel are read as notebooks. The build itself runs in ``nox -s docs``."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _conf():
    spec = importlib.util.spec_from_file_location("docs_conf", DOCS / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _toc_files(entries: list[dict]) -> list[str]:
    out = []
    for e in entries:
        if "file" in e:
            out.append(str(Path(e["file"]).with_suffix("")))
        out += _toc_files(e.get("children", []))
    return out


def test_toctrees_are_the_myst_toc() -> None:
    conf = _conf()
    toc = yaml.safe_load((DOCS / "myst.yml").read_text())["project"]["toc"]
    text = conf._toctrees(toc)
    listed = [
        line
        for block in re.findall(r"```\{toctree\}\n(.*?)```", text, re.S)
        for line in block.splitlines()
        if line and not line.startswith(":")
    ]
    assert listed == [f for f in _toc_files(toc) if f != "index"]
    captions = re.findall(r":caption: (.+)", text)
    assert captions == [e["title"] for e in toc if "children" in e]
    assert conf.html_theme == "sphinx_book_theme" and "myst_nb" in conf.extensions
    assert conf.nb_execution_raise_on_error is True


def test_pages_with_a_kernel_become_notebooks() -> None:
    conf = _conf()
    page = ["---\ntitle: Guide\nkernelspec:\n  name: python3\n---\n\ntext\n"]
    conf._prepare_source(None, "guide/page", page)
    assert page[0].startswith("---\nfile_format: mystnb\ntitle: Guide\n")
    plain = ["---\ntitle: Plain\n---\n\ntext\n"]
    conf._prepare_source(None, "plain", plain)
    assert plain[0] == "---\ntitle: Plain\n---\n\ntext\n"
    root = ["# Home\n"]
    conf._prepare_source(None, "index", root)
    assert "{toctree}" in root[0]


def test_pages_outside_the_toc_are_left_out() -> None:
    conf = _conf()
    toc = yaml.safe_load((DOCS / "myst.yml").read_text())["project"]["toc"]
    listed = set(_toc_files(toc))
    assert listed <= conf._PAGES  # every toc page exists
    left_out = {p.removesuffix(".md") for p in conf.exclude_patterns if p.endswith(".md")}
    assert left_out == conf._PAGES - listed


def test_left_out_pages_also_in_the_build_copy(tmp_path: Path) -> None:
    # nox -s docs builds from a copy in docs/_build/src: "_build" in that path hides nothing.
    src = tmp_path / "docs" / "_build" / "src"
    (src / "notebooks").mkdir(parents=True)
    for name in ("conf.py", "myst.yml"):
        (src / name).write_text((DOCS / name).read_text())
    (src / "notebooks" / "draft.md").write_text("# Draft\n")
    spec = importlib.util.spec_from_file_location("docs_conf_copy", src / "conf.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert "notebooks/draft.md" in module.exclude_patterns
