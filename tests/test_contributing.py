"""CONTRIBUTING.md's module map lists exactly the modules of ``zedo_xr/`` (one line each)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CONTRIBUTING = REPO / "CONTRIBUTING.md"
MAP_LINE = re.compile(r"^(zedo_xr/\S+\.py)\s+\S")


def map_entries(text: str) -> list[str]:
    """Module paths of the ``## Module map`` section's code block, in order."""
    section = text.split("## Module map", 1)
    if len(section) < 2:
        return []
    block = section[1].split("```", 2)
    lines = block[1].splitlines() if len(block) > 2 else []
    return [m.group(1) for line in lines if (m := MAP_LINE.match(line))]


def package_modules() -> list[str]:
    """Python modules of ``zedo_xr/`` that git tracks or would track (new, not ignored)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", "zedo_xr"],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    return sorted({p for p in out if p.endswith(".py") and (REPO / p).is_file()})


def test_map_parser():
    text = "x\n## Module map\n\n```text\nzedo_xr/a.py   does a\nzedo_xr/b/c.py  c\nnot a line\n```\n"
    assert map_entries(text) == ["zedo_xr/a.py", "zedo_xr/b/c.py"]
    assert map_entries("no map") == []


def test_module_map_matches_the_package():
    listed = map_entries(CONTRIBUTING.read_text())
    modules = package_modules()
    duplicated = sorted({m for m in listed if listed.count(m) > 1})
    missing = [m for m in modules if m not in listed]
    extra = [m for m in listed if m not in modules]
    problems = []
    if missing:
        problems.append(
            "add these lines (path, then what the module is for):\n"
            + "\n".join(f"  {m:<33} ..." for m in missing)
        )
    if extra:
        problems.append("remove these lines (no such module):\n" + "\n".join(f"  {m}" for m in extra))
    if duplicated:
        problems.append("listed twice:\n" + "\n".join(f"  {m}" for m in duplicated))
    if listed and listed != sorted(listed):
        problems.append("keep the lines sorted by path")
    assert not problems, "CONTRIBUTING.md's module map is out of date; " + "\n".join(problems)


def test_contributing_links_the_design_document():
    text = CONTRIBUTING.read_text()
    assert "docs/design.md" in text
    assert (REPO / "docs" / "design.md").is_file()
    toc = (REPO / "docs" / "myst.yml").read_text()
    assert "file: design.md" in toc
