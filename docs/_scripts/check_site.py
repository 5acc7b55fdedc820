"""Check a built site (``docs/_build/site``) after ``jupyter book build --site --execute``.

Fails (exit status 1) unless

1. every file of the toc in ``docs/myst.yml`` produced its content JSON;
2. no cell output is an error (``--strict`` catches most, this catches the rest, e.g. a page
   that was served from a stale execution cache);
3. every page with code cells was executed (it has at least one output);
4. pages named with ``--expect-mime PAGE=MIME`` have an output of that MIME type (e.g. the
   quickstart's plotly figure).

Outputs on stderr are listed as warnings. Prints one line per page: code cells, outputs by type.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
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


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from walk(v)


def check(site: Path, expect: dict[str, str]) -> list[str]:
    config = yaml.safe_load((DOCS / "myst.yml").read_text())
    wanted = {str(Path(f).with_suffix("")) for f in toc_files(config["project"]["toc"])}
    problems: list[str] = []
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((site / "content").glob("*.json")):
        data = json.loads(path.read_text())
        found[str(Path(data["location"].lstrip("/")).with_suffix(""))] = data
    for name in sorted(wanted - set(found)):
        problems.append(f"{name}: no content JSON in {site / 'content'}")
    for name in sorted(set(found) & wanted):
        data = found[name]
        nodes = list(walk(data["mdast"]))
        cells = [n for n in nodes if n.get("type") == "block" and n.get("kind") == "notebook-code"]
        outputs = [n["jupyter_data"] for n in nodes
                   if n.get("type") == "output" and "jupyter_data" in n]
        kinds: Counter[str] = Counter()
        for out in outputs:
            otype = out.get("output_type")
            if otype == "error":
                tb = "\n".join(out.get("traceback", []))[-2000:]
                err = f"{out.get('ename')}: {out.get('evalue')}"
                problems.append(f"{name}: cell raised {err}\n{tb}")
                kinds["error"] += 1
            elif otype == "stream":
                kinds[out.get("name", "stream")] += 1
                if out.get("name") == "stderr":
                    print(f"warning: {name}: stderr output: {str(out.get('text'))[:300]!r}")
            else:
                for mime in out.get("data", {}):
                    kinds[mime] += 1
        if cells and not outputs:
            problems.append(f"{name}: {len(cells)} code cells but no outputs (not executed?)")
        if name in expect and kinds[expect[name]] == 0:
            problems.append(f"{name}: no output of type {expect[name]}")
        summary = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "no outputs"
        print(f"{name:28} {len(cells):3} code cells   {summary}")
    for extra in ("myst.xref.json", "config.json"):
        if not (site / extra).exists():
            problems.append(f"missing {site / extra}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=DOCS / "_build" / "site")
    parser.add_argument("--expect-mime", action="append", default=[], metavar="PAGE=MIME")
    args = parser.parse_args(argv)
    expect = dict(item.split("=", 1) for item in args.expect_mime)
    problems = check(args.site, expect)
    for p in problems:
        print(f"FAIL {p}")
    print(f"site check: {'FAILED' if problems else 'ok'} ({args.site})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
