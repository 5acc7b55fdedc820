"""Non-oracle hypothesis choice on the leave-one-source-out cross-domain sets: S = 50 vs S = 1.

For every finished cross-domain cell of a recipe (:mod:`benchmarks.generalization`), lift
``FRAMES`` evenly spaced test frames (exact 2D, GT-2D protocol, seed 0) with S hypotheses, then
score each selection rule of :mod:`zedo_xr.estimator.select` on the same hypotheses (so the rules
differ only in the choice), beside the oracle minimum and a plain S = 1 lift of the same frames.
The one tuned parameter, ``START_GATE`` of the ``start`` rule, was chosen with
``--offset 7`` (other frames) on the ``shipped-3000`` priors (``generalization_select_dev.md``).

Rerun::

    python -m benchmarks.generalization_select --recipe old [--hypotheses 50] [--frames 40]

writes ``benchmarks/results/generalization_select.{json,md}``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from benchmarks.common import evenly_spaced, machine, markdown_table, views, write_results
from benchmarks.generalization import SOURCES, cell_prior, split

FRAMES = 40
RULES = ("consensus", "reprojection", "residual", "combined", "denoising", "size", "fit", "start")


def _errors(pred, gt) -> tuple[np.ndarray, np.ndarray]:
    """Per-(frame, hypothesis) MPJPE and PA-MPJPE, mm."""
    from zedo_xr.metrics import mpjpe, pa_mpjpe

    e = mpjpe(pred, gt).transpose("frame", "hypothesis").values
    p = pa_mpjpe(pred, gt).transpose("frame", "hypothesis").values
    return e, p


def score_source(source: str, prior_dir: str, S: int, frames: int, offset: int = 0) -> dict[str, Any]:
    """Every rule's mean MPJPE / PA-MPJPE at S hypotheses, the oracle and S = 1 on one test set
    (``frames`` evenly spaced frames of its test part after the first ``offset``)."""
    import torch

    import zedo_xr
    from zedo_xr.estimator.driver import resolve_settings
    from zedo_xr.estimator.pipeline import lift_arrays
    from zedo_xr.estimator.select import denoising_energy, selection_score, typical_size
    from zedo_xr.prior import load_prior
    from zedo_xr.schema import VARIABLE_DIMS

    part = split(source)[1]
    ds = views(evenly_spaced(part.isel(frame=slice(offset, None)), frames), "exact", seed=0)
    # One lift as plain arrays: they also carry the initial-fit error, which the dataset leaves out.
    start = time.perf_counter()
    out = lift_arrays(
        *(ds[v].values for v in ("keypoints", "confidence", "K")),
        prior=prior_dir,
        hypotheses=S,
        seed=0,
        device="cpu",
    )
    seconds = time.perf_counter() - start
    gt = ds["pose3d_gt"]
    labelled = xr.DataArray(out["pose3d"], dims=VARIABLE_DIMS["pose3d"], coords={"joint": gt["joint"]})
    e, p = _errors(labelled, gt)
    pose = torch.as_tensor(out["pose3d"])
    relative = pose - pose[..., :1, :]
    prior = load_prior(prior_dir)
    relative = relative.float()
    with torch.no_grad():
        # the loop's residual: RMS noise prediction at the last (smallest) time of the default loop
        t_min = resolve_settings("default").loop.t_min
        residual = prior.eps(relative.flatten(0, 1), t_min).pow(2).mean((-1, -2)).sqrt()
        evidence = {
            "reprojection_error": torch.as_tensor(out["reprojection_error"]),
            "residual": residual.reshape(relative.shape[:2]),
            "relative": relative,
            "energy": denoising_energy(prior, relative),
            "size_reference": typical_size(prior),
            "initial_error": torch.as_tensor(out["initial_error"]),
        }
    row: dict[str, Any] = {"test": source, "S": S, "frames": int(e.shape[0]), "seconds_S": round(seconds, 1)}
    idx = np.arange(e.shape[0])
    for rule in RULES:
        choice = selection_score(rule, **evidence).argmin(-1).cpu().numpy()
        row[f"{rule}_mpjpe"] = float(e[idx, choice].mean())
        row[f"{rule}_pa_mpjpe"] = float(p[idx, choice].mean())
    row["oracle_mpjpe"], row["oracle_pa_mpjpe"] = float(e.min(1).mean()), float(p.min(1).mean())
    one = zedo_xr.lift(ds, hypotheses=1, prior=prior_dir, seed=0, progress=False, device="cpu")
    e1, p1 = _errors(one["pose3d"], gt)
    row["S1_mpjpe"], row["S1_pa_mpjpe"] = float(e1.mean()), float(p1.mean())
    return row


def run(
    recipe: str = "old",
    S: int = 50,
    frames: int = FRAMES,
    *,
    offset: int = 0,
    prior: str | None = None,
    sources: tuple[str, ...] = SOURCES,
    name: str = "generalization_select",
) -> dict[str, Any]:
    """Score every rule on the cross-domain cells of ``recipe`` (or with one ``prior`` for every
    source in ``sources``, which must then be sources that prior never trained on)."""
    import torch

    torch.set_num_threads(1)
    rows = []
    for source in sources:
        prior_dir = cell_prior(recipe, source) if prior is None else Path(prior)
        if prior is None and not (prior_dir / "card.json").exists():
            print(f"{source}: no cross-domain prior for recipe {recipe!r} yet, skipped", flush=True)
            continue
        rows.append(score_source(source, str(prior_dir), S, frames, offset))
        print(rows[-1], flush=True)
    keys = ["S1", *RULES, "oracle"]
    mean = {
        f"{k}_{m}": float(np.mean([r[f"{k}_{m}"] for r in rows])) if rows else float("nan")
        for k in keys
        for m in ("mpjpe", "pa_mpjpe")
    }
    what = f"recipe `{recipe}` cross-domain priors" if prior is None else f"prior `{prior}`"
    rerun = machine_args(recipe, S, frames, prior, sources, name, offset)
    payload = {
        "priors": what,
        "S": S,
        "frames": frames,
        "offset": offset,
        "rows": rows,
        "mean": mean,
        "protocol": "cross-domain cells of the leave-one-source-out table, exact 2D, "
        "GT-2D virtual cameras (seed 0); mm",
        "machine": machine(),
    }
    cols = ["test"] + [f"{k}_{m}" for k in keys for m in ("mpjpe", "pa_mpjpe")]
    md = [
        "# Choosing one of S hypotheses without ground truth (cross-domain cells)",
        "",
        f"Priors: {what}; S = {S} on {frames} evenly spaced test frames"
        + (f" (after the first {offset}: other frames than the table's)" if offset else "")
        + " "
        "per held-out source (exact 2D), every rule applied to the same hypotheses; `S1` is a "
        "plain single-hypothesis lift of the same frames, `oracle` the minimum over hypotheses. "
        "Millimetres. Rules: see `zedo_xr/estimator/select.py` "
        "(every lift's rule is its `DEFAULT_RULE`).",
        "",
        markdown_table([*rows, {"test": "mean", **mean}], cols),
        "",
        f"Rerun: `python -m benchmarks.generalization_select {rerun}`.",
    ]
    write_results(name, payload, "\n".join(md))
    return payload


def machine_args(recipe, S, frames, prior, sources, name, offset=0) -> str:
    """The command-line arguments that rerun :func:`run` with these settings."""
    args = f"--hypotheses {S} --frames {frames} --name {name}" + (f" --offset {offset}" if offset else "")
    if prior is None:
        return f"--recipe {recipe} " + args
    return f"--prior {prior} --sources {' '.join(sources)} " + args


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generalization_select")
    ap.add_argument("--recipe", default="old")
    ap.add_argument("--hypotheses", type=int, default=50)
    ap.add_argument("--frames", type=int, default=FRAMES)
    ap.add_argument("--prior", default=None, help="one prior for every source (else the recipe's cells)")
    ap.add_argument("--sources", nargs="+", default=list(SOURCES))
    ap.add_argument("--name", default="generalization_select", help="results file name")
    ap.add_argument(
        "--offset",
        type=int,
        default=0,
        help="skip this many test frames first (other frames, for choosing a rule)",
    )
    args = ap.parse_args(argv)
    run(
        args.recipe,
        args.hypotheses,
        args.frames,
        prior=args.prior,
        sources=tuple(args.sources),
        name=args.name,
        offset=args.offset,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
