"""How the loop's settings move the leave-one-source-out cross-domain cells (S = 1, exact 2D).

For every finished cross-domain cell of a recipe (:mod:`benchmarks.generalization`), lift the
cell's test frames (the same 300 frames and virtual cameras as the table) with the default lift
settings and with each variant of :data:`VARIANTS` (one setting changed at a time), and report
MPJPE / PA-MPJPE per cell and their mean. This is a *measurement*, not a tuning: the defaults were
chosen on the tuning set (``benchmarks/results/tune.md``) and are not changed from these figures,
which are test sets.

Rerun::

    python -m benchmarks.generalization_loop --recipe balanced-3000

writes ``benchmarks/results/generalization_loop.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np

from benchmarks.common import machine, markdown_table, views, write_results
from benchmarks.generalization import SOURCES, TEST_FRAMES, cell_prior, test_poses

VARIANTS: tuple[dict[str, Any], ...] = (
    {},
    {"iterations": 50},
    {"iterations": 200},
    {"step_size": 0.3},
    {"step_size": 0.8},
    {"t_max": 0.05},
    {"t_max": 0.07},
    {"t_max": 0.2},
    {"initial_pool": 200},
)
"""Lift-setting changes (``LiftSettings.replace`` names); ``{}`` is the default."""


def label(variant: dict[str, Any]) -> str:
    """``"default"`` or ``"name=value, ..."``."""
    return ", ".join(f"{k}={v}" for k, v in variant.items()) or "default"


def run(recipe: str, variants=VARIANTS, frames: int = TEST_FRAMES, name: str = "generalization_loop"):
    """Score every variant on every finished cross-domain cell of ``recipe``."""
    import torch

    import zedo_xr
    from zedo_xr.estimator.settings import LiftSettings
    from zedo_xr.metrics import evaluate

    torch.set_num_threads(1)
    cells = {s: cell_prior(recipe, s) for s in SOURCES}
    cells = {s: d for s, d in cells.items() if (d / "card.json").exists()}
    data = {s: views(test_poses(s, frames), "exact", seed=0) for s in cells}
    rows = []
    for variant in variants:
        settings = LiftSettings().replace(**variant)
        row: dict[str, Any] = {"settings": label(variant)}
        for source, prior_dir in cells.items():
            out = zedo_xr.lift(data[source], prior=str(prior_dir), settings=settings, seed=0, progress=False)
            a = evaluate(out).attrs
            row[f"{source}_mpjpe"], row[f"{source}_pa_mpjpe"] = a["mpjpe_mean"], a["pa_mpjpe_mean"]
        for m in ("mpjpe", "pa_mpjpe"):
            row[f"mean_{m}"] = float(np.mean([row[f"{s}_{m}"] for s in cells]))
        rows.append(row)
        print(json.dumps({k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}), flush=True)
    payload = {
        "priors": f"recipe `{recipe}` cross-domain priors",
        "frames": frames,
        "cells": list(cells),
        "rows": rows,
        "protocol": "cross-domain cells of the leave-one-source-out table, exact 2D, S = 1, "
        "GT-2D virtual cameras (seed 0); mm",
        "machine": machine(),
    }
    cols = ["settings", "mean_mpjpe", "mean_pa_mpjpe"] + [
        f"{s}_{m}" for s in cells for m in ("mpjpe", "pa_mpjpe")
    ]
    md = [
        "# Loop settings on the cross-domain cells (a measurement, not a tuning)",
        "",
        f"Priors: recipe `{recipe}` cross-domain priors; S = 1, {frames} test frames per held-out "
        "source, exact 2D; one setting changed at a time from the default lift settings "
        "(`zedo_xr/estimator/settings.py`). Millimetres. The defaults stay as chosen on the tuning "
        "set (`tune.md`): these are test sets.",
        "",
        markdown_table(rows, cols),
        "",
        f"Rerun: `python -m benchmarks.generalization_loop --recipe {recipe}`.",
    ]
    write_results(name, payload, "\n".join(md))
    return payload


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--recipe", default="balanced-3000")
    ap.add_argument("--frames", type=int, default=TEST_FRAMES)
    ap.add_argument("--name", default="generalization_loop")
    args = ap.parse_args(argv)
    run(args.recipe, frames=args.frames, name=args.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
