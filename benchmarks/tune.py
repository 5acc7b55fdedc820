"""Estimator design measurements (issue 4): what the ``default`` settings are based on.

Every variant is scored on a *tuning* set: CMU test frames placed between the frames of the
accuracy benchmark (offset by half the spacing) seen from cameras of another seed, so the
choices are not fitted to the reported test frames. GT 2D unless stated. Measured:

* initial fit: official Adam (hips) vs yaw grid driven by hips / torso / all joints, with and
  without a pitch search;
* step rule and iterations: parity (``dt = 1/1000``, 1000 iterations) vs Tweedie steps of size
  ``gamma`` for 50-400 iterations;
* warm-up fraction, translation weights (``c^2`` vs ``c^4``), final ray projection;
* hypothesis selection rules against the oracle (S = 10) under exact and noisy 2D.

Rerun: ``python -m benchmarks.run tune``; writes ``benchmarks/results/tune.{json,md}``.
"""

from __future__ import annotations

import math
import time
from typing import Any

from benchmarks.common import evenly_spaced, machine, markdown_table, write_results

N_FRAMES = 200


def _tuning_views(n: int, condition: str = "exact", seed: int = 1):
    from benchmarks.common import SHARED_DATA, views
    from zedo_xr import io

    poses = io.load_cmu(SHARED_DATA / "cmu" / "cmu_h36m17.npz", "test")
    return views(evenly_spaced(poses, n, offset=0.5), condition, seed=seed)


KNOBS = ("pitches", "yaw_modes", "select")
"""Search knobs only this benchmark varies: internal to the pipeline, not lift settings."""


def _score(
    ds, *, hypotheses: int = 1, prior: str = "default", settings: str = "default", **overrides: Any
) -> dict[str, Any]:
    from zedo_xr.device import resolve_device
    from zedo_xr.estimator import driver
    from zedo_xr.estimator.pipeline import _TuningKnobs
    from zedo_xr.estimator.settings import resolve_settings
    from zedo_xr.metrics import evaluate

    knobs = _TuningKnobs(**{k: overrides.pop(k) for k in KNOBS if k in overrides})
    run = dict(
        prior=prior,
        hypotheses=hypotheses,
        settings=resolve_settings(settings, **overrides),
        device=resolve_device("auto"),
        seed=0,
        batch_size=None,
        dtype="float32",
        knobs=knobs,
    )
    start = time.perf_counter()
    # The driver's eager path with the internal knobs (lift() itself always uses their defaults).
    out = driver._lift_eager(ds, *driver._prepare(ds, None), **run)
    seconds = time.perf_counter() - start
    a = evaluate(out).attrs
    return {
        "mpjpe": a["mpjpe_mean"],
        "pa_mpjpe": a["pa_mpjpe_mean"],
        "mpjpe_min": a["mpjpe_min_mean"],
        "mpjpe_best": a["mpjpe_best_mean"],
        "pa_mpjpe_best": a["pa_mpjpe_best_mean"],
        "seconds": round(seconds, 2),
        "fps": round(ds.sizes["frame"] / seconds, 2),
    }


def run(*, quick: bool = False, prior: str = "default", threads: int | None = None) -> dict[str, Any]:
    import torch

    if threads:
        torch.set_num_threads(threads)
    n = 40 if quick else N_FRAMES
    ds = _tuning_views(n)
    sections: dict[str, list[dict[str, Any]]] = {}

    def record(section: str, label: str, **kw: Any) -> None:
        row = {"variant": label, **_score(ds_for.get(section, ds), prior=prior, **kw)}
        sections.setdefault(section, []).append(row)
        print(
            f"[{section}] {label:<40} MPJPE {row['mpjpe']:6.1f} PA {row['pa_mpjpe']:6.1f} "
            f"{row['fps']:7.1f} frames/s",
            flush=True,
        )

    ds_for: dict[str, Any] = {}
    base = dict(settings="default")
    # Initial fit
    record("initial", "parity: Adam 500 steps, hips", initial="adam", initial_joints="hips", **base)
    for joints in ("hips", "torso", "all"):
        record("initial", f"grid, {joints}", initial="grid", initial_joints=joints, **base)
    record(
        "initial",
        "grid, all, pitch -20..20 deg",
        initial="grid",
        initial_joints="all",
        pitches=tuple(math.radians(a) for a in (-20, -10, 0, 10, 20)),
        **base,
    )
    record(
        "initial",
        "grid, all, pitch full turn (8)",
        initial="grid",
        initial_joints="all",
        pitches=tuple(k * math.pi / 4 for k in range(8)),
        **base,
    )
    # Step rule and iterations
    record("step", "parity: dt 1/1000, 1000 it", settings="parity")
    record(
        "step",
        "parity step, grid init, 1000 it",
        step="parity",
        step_size=1e-3,
        iterations=1000,
        translation_power=4.0,
    )
    for iterations in (50, 100, 200, 400):
        for gamma in (0.1, 0.2, 0.5):
            record(
                "step",
                f"tweedie gamma {gamma}, {iterations} it",
                step="tweedie",
                step_size=gamma,
                iterations=iterations,
            )
    # Warm-up, translation weights, final projection
    for warmup in (0.0, 0.1, 0.2, 0.4):
        record("loop", f"warm-up {warmup:.0%}", warmup=warmup, **base)
    record("loop", "translation weights c^4", translation_power=4.0, **base)
    record("loop", "final ray projection", final_projection=True, **base)
    ds_for["loop-noisy"] = _tuning_views(n, "noise5px")
    record("loop-noisy", "5 px noise: default", **base)
    record("loop-noisy", "5 px noise: final ray projection", final_projection=True, **base)
    # Hypothesis selection
    for condition in ("exact", "noise5px"):
        section = f"select-{condition}"
        ds_for[section] = _tuning_views(max(20, n // 4), condition)
        for rule in ("reprojection", "residual", "consensus", "combined"):
            record(section, f"S=10, {rule}", hypotheses=10, select=rule, **base)

    payload = {"machine": machine(), "frames": n, "quick": quick, "prior": prior, "sections": sections}
    md = ["# Estimator design measurements (tuning set: CMU test, offset frames, seed 1)", ""]
    for section, rows in sections.items():
        cols = ["variant", "mpjpe", "pa_mpjpe", "fps", "seconds"]
        if section.startswith("select"):
            cols = ["variant", "mpjpe", "mpjpe_min", "mpjpe_best", "pa_mpjpe_best", "seconds"]
        md += [f"## {section}", "", markdown_table(rows, cols), ""]
    md.append(
        f"Command: `{payload['machine']['command']}`; {payload['machine'].get('cpu_model', '')}, "
        f"{payload['machine']['torch_threads']} threads."
    )
    write_results("tune" if not quick else "tune_quick", payload, "\n".join(md))
    return payload
