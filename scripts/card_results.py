"""Copy the measured results of a prior into its card: held-out scores and the recipe's effects.

Run after ``python -m benchmarks.run accuracy`` (held-out scores of the bundled prior) and
``python -m benchmarks.generalization report`` (the leave-one-source-out table and the
one-at-a-time ablation of the recipe's augmentations)::

    python scripts/card_results.py zedo_xr/prior/default

Only rows computed with this very prior (by content hash) are copied; the card's ``content_hash``
covers the weights only, so adding these fields keeps the prior loadable and verified.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def held_out(card: dict) -> dict:
    """Accuracy benchmark rows of this prior (S = 1 and S = 50), millimetres."""
    acc = json.loads((RESULTS / "accuracy.json").read_text())
    if acc["lift_attrs"].get("zedo_prior_hash") != card["content_hash"]:
        raise SystemExit(
            "benchmarks/results/accuracy.json: expected rows of this prior "
            f"({card['content_hash'][:12]}), got {str(acc['lift_attrs'].get('zedo_prior_hash'))[:12]}: "
            "run `python -m benchmarks.run accuracy --threads 1` first"
        )
    keep = ("dataset", "role", "condition", "S", "frames", "mpjpe", "pa_mpjpe", "mpjpe_best", "pa_mpjpe_best")
    rows = [{k: round(r[k], 1) if isinstance(r[k], float) else r[k] for k in keep} for r in acc["rows"]]
    return {
        "protocol": "benchmarks/results/accuracy.md (GT-2D virtual cameras, seed 0, default settings)",
        "command": acc["machine"]["command"],
        "rows": rows,
    }


def recipe_effects() -> dict:
    """Mean cross-domain change of each recipe against its baseline on the cells both finished."""
    gen = json.loads((RESULTS / "generalization.json").read_text())
    out = {
        "protocol": "leave-one-source-out cells at an equal small budget "
        "(benchmarks/results/generalization.md); negative = better than the recipe's baseline",
        "budget": gen["budget"],
    }
    for recipe, summary in gen["summary"].items():
        change = summary.get("vs_baseline")
        if change:
            out[recipe] = {
                "settings": gen["recipes"][recipe],
                "sources": gen.get("recipe_sources", {}).get(recipe, "every source"),
                "baseline": change["baseline"],
                "cells": change["cells"],
                **{
                    k: f"{100 * v:+.1f} %"
                    for k, v in change.items()
                    if k not in ("cells", "baseline") and v is not None
                },
            }
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python scripts/card_results.py")
    ap.add_argument("prior_dir", type=Path)
    args = ap.parse_args(argv)
    path = args.prior_dir / "card.json"
    card = json.loads(path.read_text())
    card["held_out"] = held_out(card)
    card["recipe_effects"] = recipe_effects()
    path.write_text(json.dumps(card, indent=1) + "\n")
    print(f"{path}: held_out ({len(card['held_out']['rows'])} rows) and recipe_effects written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
