"""Check the built HTML site (``docs/_build/html``) after ``nox -s docs``.

Fails (exit status 1) unless

1. every file of the toc in ``docs/myst.yml`` produced its HTML page, linked from the home page;
2. no page shows a Python traceback (the build raises on notebook errors; this catches the rest);
3. every page with code cells shows outputs (it was executed);
4. the quickstart holds its plotly figure with plotly.js inlined (the site works offline).

Prints one line per page: code cells and outputs.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

DOCS = Path(__file__).resolve().parents[1]


def toc_files(entries: list[dict[str, Any]]) -> Iterator[str]:
    for e in entries:
        if "file" in e:
            yield e["file"]
        yield from toc_files(e.get("children", []))


def check(site: Path) -> list[str]:
    config = yaml.safe_load((DOCS / "myst.yml").read_text())
    pages = [str(Path(f).with_suffix("")) for f in toc_files(config["project"]["toc"])]
    problems: list[str] = []
    home = (site / "index.html").read_text() if (site / "index.html").exists() else ""
    for name in pages:
        path = site / f"{name}.html"
        if not path.exists():
            problems.append(f"{name}: no page {path}")
            continue
        html = path.read_text()
        if name != "index" and f'href="{name}.html"' not in home:
            problems.append(f"{name}: not linked from the home page's navigation")
        cells = html.count('class="cell docutils container"')
        outputs = html.count('class="cell_output docutils container"')
        if "Traceback (most recent call last)" in html or 'class="output traceback' in html:
            problems.append(f"{name}: a cell shows a traceback")
        if cells and not outputs:
            problems.append(f"{name}: {cells} code cells but no outputs (not executed?)")
        print(f"{name}: {cells} code cells, {outputs} outputs")
    quickstart = site / "notebooks" / "quickstart.html"
    if quickstart.exists():
        html = quickstart.read_text()
        if not re.search(r"Plotly\.newPlot", html) or '<script src="https://cdn.plot.ly' in html:
            problems.append("notebooks/quickstart: no plotly figure with plotly.js inlined")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", type=Path, default=DOCS / "_build" / "html")
    args = parser.parse_args(argv)
    problems = check(args.site)
    for p in problems:
        print("FAIL", p)
    print("site ok" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
