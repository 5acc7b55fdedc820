"""The MyST notebooks open as notebooks: jupytext (in the viz extra) reads them with the repository's
``jupytext.toml``, which pairs them with an ``.ipynb`` for outputs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.md"))


def test_jupytext_is_in_the_viz_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert any(dep.startswith("jupytext") for dep in extras["viz"])


def test_jupytext_config_pairs_the_notebooks() -> None:
    jupytext_config = pytest.importorskip("jupytext.config")
    path = jupytext_config.find_jupytext_configuration_file(str(ROOT / "notebooks"))
    assert path is not None and Path(path) == ROOT / "jupytext.toml"
    config = jupytext_config.load_jupytext_configuration_file(path)
    formats = config.default_formats(str(ROOT / "notebooks" / "quickstart.md"))
    assert formats == "ipynb,md:myst"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_reads_as_a_notebook(path: Path) -> None:
    jupytext = pytest.importorskip("jupytext")
    nb = jupytext.read(path)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.source.strip() for c in code)
    # The round trip to .ipynb and back keeps every cell (what a paired save does).
    again = jupytext.reads(jupytext.writes(nb, fmt="ipynb"), fmt="ipynb")
    assert [c.source for c in again.cells] == [c.source for c in nb.cells]
