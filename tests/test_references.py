"""Every reference in the package, the docs and the notebooks points inside the repository.

A reader who has only this repository cannot follow ``../shared/...``, "DESIGN.md §5", "issue 4"
or "the ecosystem notes": each such pointer is rewritten to the repository's own design document
(``docs/design.md``), a module, or the fact itself. This test keeps them out.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCANNED = ("zedo_xr", "docs", "notebooks", "CONTRIBUTING.md", "README.md")
TEXT_SUFFIXES = {".py", ".md", ".yml", ".yaml", ".toml", ".json", ".txt", ".cfg", ".ini"}
SKIPPED_PARTS = {"_build", ".ipynb_checkpoints", "__pycache__"}

OUTSIDE_POINTERS = {
    "a path to the workspace beside the checkout": re.compile(r"\.\./shared|(?<![\w-])shared/"),
    "the development data folder built from path parts": re.compile(r"""["']shared["']\s*/"""),
    "an absolute path on a development machine": re.compile(r"/work/"),
    "the planning document outside the repository": re.compile(r"\bDESIGN\.md"),
    "an issue-tracker number": re.compile(r"\b[Ii]ssues?\s+#?\d+"),
    "notes outside the repository": re.compile(
        r"ecosystem[ -]notes|zedo-official-implementation|reference notes"
    ),
}


def _files() -> list[Path]:
    """Tracked and new (not ignored) text files under the scanned paths."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *SCANNED],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split("\n")
        paths = [REPO / line for line in out if line]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (e.g. an sdist)
        paths = [p for s in SCANNED for p in ([REPO / s] if (REPO / s).is_file() else (REPO / s).rglob("*"))]
    return sorted(
        p
        for p in paths
        if p.is_file()
        and not p.is_symlink()
        and p.suffix in TEXT_SUFFIXES
        and not SKIPPED_PARTS & set(p.relative_to(REPO).parts)
    )


def find_outside_pointers(text: str) -> list[tuple[int, str, str]]:
    """``(line number, what, line)`` for every pointer out of the repository in ``text``."""
    hits = []
    for number, line in enumerate(text.splitlines(), 1):
        for what, pattern in OUTSIDE_POINTERS.items():
            if pattern.search(line):
                hits.append((number, what, line.strip()))
    return hits


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Read `../shared/DESIGN.md` first.", True),
        ("Bandai data live in /work/shared/data.", True),
        ('root = Path(__file__).parents[3] / "shared" / "data"', True),
        ("Targets (issue 4): ...", True),
        ("see Issue #12", True),
        ("see the ecosystem notes, §3", True),
        ("the paper (§3.2) and docs/design.md", False),
        ("the shared-time fast path; weights shared across frames", False),
        ("tests that read data use the `shared_data` fixture", False),
    ],
)
def test_patterns(text, found):
    assert bool(find_outside_pointers(text)) is found


def test_scans_the_package_docs_and_notebooks():
    files = {p.relative_to(REPO).as_posix() for p in _files()}
    assert {"zedo_xr/schema.py", "CONTRIBUTING.md", "docs/myst.yml"} <= files
    assert any(f.startswith("notebooks/") for f in files)


def _found() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in _files():
        for number, what, line in find_outside_pointers(path.read_text(errors="replace")):
            name = path.relative_to(REPO).as_posix()
            found.setdefault(name, []).append(f"{name}:{number}: {what}: {line[:120]}")
    return found


def test_no_pointers_out_of_the_repository():
    found = [hit for hits in _found().values() for hit in hits]
    assert not found, (
        "references a reader of this repository cannot follow (point to docs/design.md, a "
        "module, or state the fact):\n" + "\n".join(found)
    )
