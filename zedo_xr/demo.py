"""The bundled demo clip and the ``zedo demo`` job.

The clip is 5 s of a CMU motion-capture jump (test split, permissive licence, see the file's
metadata), stored as 17 H36M joints in metres in a Z-up world. The demo films it with one fixed
virtual H36M camera (the intrinsics and placement of :func:`zedo_xr.datasets.make_views`), lifts
the 2D keypoints with the bundled prior, scores the result against the ground truth and writes a
zarr store and a self-contained HTML viewer.
"""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.schema import pose_dataarray

DEMO_FILE = "demo_cmu_jumping.npz"


def load_demo_clip() -> xr.DataArray:
    """The bundled demo clip as ``(frame, joint, coord)`` world poses in metres (Z up).

    Examples
    --------
    >>> clip = load_demo_clip()
    >>> clip.dims, clip.attrs["fps"]
    (('frame', 'joint', 'coord'), 30.0)
    """
    with resources.files("zedo_xr.data").joinpath(DEMO_FILE).open("rb") as f:
        data = np.load(f, allow_pickle=False)
        positions, joints = data["positions"], [str(j) for j in data["joints"]]
        meta = json.loads(str(data["metadata"]))
    return pose_dataarray(
        positions,
        joints=joints,
        fps=meta["fps"],
        name="position",
        attrs={"source": meta["source"], "licence": meta["licence"], "up_axis": "z"},
    )


def run_demo(
    *,
    out: str | Path = "zedo-demo",
    hypotheses: int = 5,
    frames: int | None = None,
    settings: str = "default",
    device: str = "auto",
    seed: int = 0,
    progress: bool = True,
    html: bool = True,
    **lift_kwargs: Any,
) -> dict[str, Any]:
    """Lift the demo clip, score it, and write ``out/demo.zarr`` and ``out/demo.html``.

    Returns a summary dict (scores in mm, frames per second, paths).
    """
    from zedo_xr.datasets import make_views
    from zedo_xr.estimator.driver import lift
    from zedo_xr.io.store import to_zarr
    from zedo_xr.metrics import evaluate

    clip = load_demo_clip()
    if frames is not None:
        clip = clip.isel(frame=slice(0, frames))
    views = make_views(clip, seed=seed, camera="fixed")
    start = time.perf_counter()
    lifted = lift(
        views,
        hypotheses=hypotheses,
        settings=settings,
        device=device,
        seed=seed,
        progress=progress,
        **lift_kwargs,
    )
    seconds = time.perf_counter() - start
    scores = evaluate(lifted)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    store = out / "demo.zarr"
    to_zarr(lifted, store, mode="w")
    summary: dict[str, Any] = {
        "frames": int(lifted.sizes["frame"]),
        "hypotheses": hypotheses,
        "settings": settings,
        "device": lifted.attrs["zedo_device"],
        "seconds": round(seconds, 2),
        "frames_per_second": round(lifted.sizes["frame"] / seconds, 2),
        "scores_mm": _summary_scores(scores),
        "zarr": str(store),
    }
    if html:
        from zedo_xr.viz import write_html

        summary["html"] = str(write_html(lifted, out / "demo.html"))
    return summary


def _summary_scores(scores: xr.Dataset) -> dict[str, float]:
    """The summary means of :func:`zedo_xr.metrics.evaluate` (``mpjpe_mean``, ...)."""
    return {k: round(float(v), 2) for k, v in scores.attrs.items() if k.endswith("_mean") and np.isfinite(v)}
