"""Failure cases (the paper's Figure 6): one 2D pose, several 3D poses.

ZeDO minimises the reprojection error under a pose prior; a single frame of 2D keypoints does not
determine depth ordering (a limb towards or away from the camera projects alike), so different
hypotheses can all reproject onto the same 2D within a few pixels while differing by tens of
centimetres in 3D. This experiment lifts CMU test (in-domain) and Bandai-Namco 1 (cross-domain)
with S = 10 k-means hypotheses (GT 2D, the default lift preset), and per frame measures

- ``reprojection_error`` of every hypothesis (px);
- the left/right limb-length asymmetry of every hypothesis (a ground-truth-free plausibility
  check: a hypothesis whose joints slid along their camera rays into a non-human shape still
  reprojects perfectly);
- the 3D spread of the *consistent* hypotheses (reprojection error below ``REPROJ_PX`` and
  asymmetry below ``SYMMETRY``): the largest root-aligned MPJPE between two of them (mm);
- each hypothesis' MPJPE against the ground truth.

Frames with at least three consistent hypotheses and the largest spread are the failure cases.
The CMU ones are stored as a small zarr store (``paper_failures_cmu.zarr``) for the notebook's
viewer; Bandai-Namco data is CC BY-NC and never committed (CONTRIBUTING.md), so for Bandai only
the frame positions and the scalar errors are stored, and the notebook relifts those frames from
``../shared/data`` when it is present.

Rerun: ``python -c "from benchmarks.paper import failures; failures.run()"``.
"""

from __future__ import annotations

import shutil
import time
from typing import Any

import numpy as np

from benchmarks.common import RESULTS, TestSet, views

FRAMES = 200
HYPOTHESES = 10
REPROJ_PX = 5.0
SYMMETRY = 0.10  # a plausible body: left and right limbs within 10 % of each other on average
# (right, left) bones of the H36M skeleton, as joint index pairs.
LIMB_PAIRS = (
    ((1, 2), (4, 5)),
    ((2, 3), (5, 6)),
    ((0, 1), (0, 4)),
    ((14, 15), (11, 12)),
    ((15, 16), (12, 13)),
    ((8, 14), (8, 11)),
)
MIN_CONSISTENT = 3
KEEP = 5
SETS = (("cmu-test", "in-domain"), ("bandai1", "cross-domain"))
ZARR = RESULTS / "paper_failures_cmu.zarr"


def failure_views(name: str, role: str, frames: int = FRAMES):
    """The evaluation views of this experiment (deterministic: seed 0)."""
    return views(TestSet(name, role, frames).poses(), "exact")


def pairwise_spread(rel: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Largest MPJPE (mm) between two consistent hypotheses per frame.

    ``rel (F, S, J, 3)`` root-relative poses in metres, ``ok (F, S)`` which hypotheses count.
    Frames with fewer than two consistent hypotheses get 0.
    """
    d = np.linalg.norm(rel[:, :, None] - rel[:, None, :], axis=-1).mean(-1) * 1000.0  # (F, S, S)
    pair = ok[:, :, None] & ok[:, None, :]
    return np.where(pair, d, 0.0).max(axis=(1, 2))


def analyse(out) -> dict[str, np.ndarray]:
    """Per-frame reprojection errors, consistent-hypothesis spread and per-hypothesis MPJPE."""
    from zedo_xr.metrics import evaluate

    pose = out.pose3d.transpose("frame", "hypothesis", "joint", "coord").values
    rel = pose - pose[:, :, :1]
    reproj = out.reprojection_error.transpose("frame", "hypothesis").values
    asym = asymmetry(pose)
    ok = (reproj < REPROJ_PX) & (asym < SYMMETRY)
    scores = evaluate(out)
    mpjpe = scores.mpjpe.transpose("frame", "hypothesis").values
    pa = scores.pa_mpjpe.transpose("frame", "hypothesis").values
    return {
        "reproj": reproj,
        "asym": asym,
        "ok": ok,
        "n_ok": ok.sum(1),
        "spread": pairwise_spread(rel, ok),
        "mpjpe": mpjpe,
        "pa_mpjpe": pa,
    }


def asymmetry(pose: np.ndarray) -> np.ndarray:
    """Mean relative left/right bone-length difference, ``(..., J, 3) -> (...)``."""

    def length(a: int, b: int) -> np.ndarray:
        return np.linalg.norm(pose[..., a, :] - pose[..., b, :], axis=-1)

    diffs = [
        np.abs(length(*right) - length(*left)) / (0.5 * (length(*right) + length(*left)) + 1e-9)
        for right, left in LIMB_PAIRS
    ]
    return np.mean(diffs, axis=0)


def pick(stats: dict[str, np.ndarray], keep: int = KEEP, gap: int = 3) -> list[int]:
    """Frames with >= MIN_CONSISTENT consistent hypotheses and the largest spread, ``gap`` apart."""
    order = np.argsort(-stats["spread"])
    chosen: list[int] = []
    for f in order:
        if stats["n_ok"][f] < MIN_CONSISTENT:
            continue
        if all(abs(int(f) - c) >= gap for c in chosen):
            chosen.append(int(f))
        if len(chosen) == keep:
            break
    return sorted(chosen)


def run(quick: bool = False, *, prior: str = "default") -> dict[str, Any]:
    import torch

    from benchmarks.paper import LIFT, lift_settings, write
    from benchmarks.paper.table1 import prior_info
    from zedo_xr.estimator.driver import lift
    from zedo_xr.io.store import to_zarr

    torch.set_num_threads(1)
    n = 30 if quick else FRAMES
    sets: dict[str, Any] = {}
    for name, role in SETS:
        ds = failure_views(name, role, n)
        t0 = time.perf_counter()
        out = lift(ds, hypotheses=HYPOTHESES, prior=prior, progress=False, **LIFT)
        seconds = time.perf_counter() - t0
        st = analyse(out)
        frames = pick(st)
        multi = st["n_ok"] >= MIN_CONSISTENT
        reproj_choice = st["mpjpe"][np.arange(len(st["mpjpe"])), st["reproj"].argmin(1)]
        sets[name] = {
            "role": role,
            "frames": int(out.sizes["frame"]),
            "seconds": round(seconds, 1),
            "picked": frames,
            "summary": {
                "frames_with_3plus_consistent": int(multi.sum()),
                "hypotheses_consistent_fraction": float(st["ok"].mean()),
                "hypotheses_reprojecting_fraction": float((st["reproj"] < REPROJ_PX).mean()),
                "median_spread_mm": float(np.median(st["spread"][multi])) if multi.any() else None,
                "frames_spread_over_100mm": int((st["spread"][multi] > 100).sum()),
                "frames_spread_over_200mm": int((st["spread"][multi] > 200).sum()),
                "mpjpe_oracle": float(np.nanmean(st["mpjpe"].min(1))),
                "mpjpe_lowest_reprojection": float(np.nanmean(reproj_choice)),
                "mpjpe_best_hypothesis": float(
                    np.nanmean(st["mpjpe"][np.arange(len(st["mpjpe"])), out.best_hypothesis.values])
                ),
                "mpjpe_mean_over_hypotheses": float(np.nanmean(st["mpjpe"])),
            },
            "cases": [
                {
                    "position": f,
                    "frame": int(out.frame.values[f]),
                    "spread_mm": float(st["spread"][f]),
                    "n_consistent": int(st["n_ok"][f]),
                    "reprojection_px": st["reproj"][f].round(2).tolist(),
                    "asymmetry": st["asym"][f].round(3).tolist(),
                    "consistent": st["ok"][f].tolist(),
                    "mpjpe_mm": st["mpjpe"][f].round(1).tolist(),
                    "pa_mpjpe_mm": st["pa_mpjpe"][f].round(1).tolist(),
                    "best_hypothesis": int(out.best_hypothesis.values[f]),
                }
                for f in frames
            ],
        }
        print(
            f"{name}: picked {frames}, spreads {[round(float(st['spread'][f])) for f in frames]} mm",
            flush=True,
        )
        if name == "cmu-test" and not quick:
            small = out.isel(frame=frames)
            keep = [
                "keypoints",
                "confidence",
                "K",
                "pose3d_gt",
                "pose3d",
                "reprojection_error",
                "best_hypothesis",
            ]
            small = small[[v for v in keep if v in small]]
            small["pose3d"] = small.pose3d.astype("float32")
            small["pose3d_gt"] = small.pose3d_gt.astype("float32")
            shutil.rmtree(ZARR, ignore_errors=True)
            to_zarr(small, ZARR)
    payload = {
        "experiment": "Failure cases (Figure 6): hypotheses that reproject onto the same 2D but differ in 3D",
        "protocol": f"make_views GT-2D views (seed 0), {n} evenly spaced frames per set, S = "
        f"{HYPOTHESES} k-means hypotheses, the default lift preset; "
        "consistent hypothesis: "
        f"reprojection error < {REPROJ_PX} px and "
        f"left/right limb asymmetry < {SYMMETRY:.0%}; spread: largest root-aligned MPJPE between "
        f"two consistent hypotheses; picked: the {KEEP} frames (>= {MIN_CONSISTENT} "
        "consistent hypotheses, >= 3 positions apart) of largest spread",
        "hypotheses": HYPOTHESES,
        "reprojection_px": REPROJ_PX,
        "symmetry": SYMMETRY,
        "prior": prior_info(prior),
        "lift_settings": lift_settings(),
        "zarr": ZARR.relative_to(RESULTS.parents[1]).as_posix(),
        "sets": sets,
    }
    return write("failures", payload, quick=quick)


if __name__ == "__main__":
    run()
