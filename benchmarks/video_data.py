"""Video clips for the video benchmark: real mocap as 25-30 fps sequences seen by one camera.

Each clip is ``frames`` consecutive poses of one mocap sequence, subsampled to about 25-30 fps,
filmed by one fixed virtual H36M-like camera (:func:`zedo_xr.datasets.make_views` with
``camera="fixed"``), then corrupted like a 2D detector's output (:func:`corrupt`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from benchmarks.common import SHARED_DATA

SOURCES = ("cmu-test", "bandai1", "hdm05")


@dataclass(frozen=True)
class Corruption:
    """Detector-like corruption of GT 2D keypoints (fractions of joints or frames)."""

    noise_px: float = 5.0
    drop_joints: float = 0.02
    outliers: float = 0.01
    outlier_px: tuple[float, float] = (30.0, 80.0)
    missing_frames: float = 0.05


def load_source(name: str) -> xr.DataArray:
    """World poses (frame, joint, coord) with ``sequence`` coords and ``attrs["fps"]``."""
    from zedo_xr import io

    if name == "cmu-test":
        return io.load_cmu(SHARED_DATA / "cmu" / "cmu_h36m17.npz", "test")
    if name == "bandai1":
        root = SHARED_DATA / "bandai1" / "Bandai-Namco-Research-Motiondataset-1" / "data"
        # A spread of motions without reading all 175 files (BVH parsing is slow).
        files = sorted(root.glob("*.bvh"))[::12]
        return xr.concat([io.load_bandai(f) for f in files], "frame")
    if name == "hdm05":
        return _load_hdm05(SHARED_DATA / "hdm05" / "hdm05_h36m17.npz")
    raise ValueError(f"source: expected one of {SOURCES}, got {name!r}")


def _load_hdm05(path: Path) -> xr.DataArray:
    try:
        from zedo_xr.io import load_hdm05  # type: ignore[attr-defined]

        return load_hdm05(path)
    except ImportError:
        from zedo_xr.schema import pose_dataarray

        with np.load(path) as data:  # plain arrays only: no pickle
            da = pose_dataarray(np.asarray(data["poses"], float), fps=float(data["fps"]))
            return da.assign_coords(sequence=("frame", np.asarray(data["sequence"]).astype(str)))


def clips(poses: xr.DataArray, n_clips: int, frames: int) -> list[xr.DataArray]:
    """``n_clips`` clips of ``frames`` frames at 24-30 fps, from as many sequences as possible.

    The stride is the smallest integer bringing the rate to at most 30 fps. Sequences long
    enough are taken in a fixed spread over their sorted names; a clip starts in the middle of
    its sequence (the start of mocap takes is often a T-pose).
    """
    fps = float(poses.attrs["fps"])
    stride = int(np.ceil(fps / 30.0 - 1e-9))
    seq = np.asarray(poses["sequence"].values).astype(str)
    names, counts = np.unique(seq, return_counts=True)
    long_enough = names[counts >= frames * stride]
    if len(long_enough) == 0:
        raise ValueError(f"no sequence has {frames * stride} frames")
    pick = long_enough[np.linspace(0, len(long_enough) - 1, n_clips).round().astype(int)]
    out, used = [], {}
    for name in pick:
        idx = np.flatnonzero(seq == name)
        k = used.get(name, 0)
        used[name] = k + 1
        span = frames * stride
        start = min(len(idx) - span, (len(idx) - span) // 2 + k * span) if k else (len(idx) - span) // 2
        start = max(0, start)
        clip = poses.isel(frame=idx[start : start + span : stride])
        clip = clip.assign_attrs(fps=fps / stride, clip=f"{name}@{start}")
        out.append(clip.assign_coords(frame=np.arange(frames)))
    return out


def corrupt(ds: xr.Dataset, spec: Corruption, seed: int) -> xr.Dataset:
    """Add pixel noise, dropped joints, gross outliers and frames without the person.

    Returns a copy with ``keypoints``/``confidence`` changed and boolean ``outlier (frame,
    joint)`` and ``person_missing (frame,)`` marking what was injected.
    """
    rng = np.random.default_rng(seed)
    kp = np.array(ds.keypoints.values, dtype=float)
    conf = np.array(ds.confidence.values, dtype=float)
    F, J, _ = kp.shape
    kp = kp + rng.normal(0.0, spec.noise_px, kp.shape)
    outlier = rng.random((F, J)) < spec.outliers
    angle = rng.uniform(0, 2 * np.pi, (F, J))
    radius = rng.uniform(*spec.outlier_px, (F, J))
    kp[outlier] += np.stack([np.cos(angle), np.sin(angle)], -1)[outlier] * radius[outlier, None]
    dropped = rng.random((F, J)) < spec.drop_joints
    missing = rng.random(F) < spec.missing_frames
    dropped |= missing[:, None]
    kp[dropped] = np.nan
    conf[dropped] = 0.0
    out = ds.copy()
    out["keypoints"] = ds.keypoints.copy(data=kp)
    out["confidence"] = ds.confidence.copy(data=conf)
    out["outlier"] = (("frame", "joint"), outlier & ~dropped)
    out["person_missing"] = ("frame", missing)
    return out


def clip_views(clip: xr.DataArray, spec: Corruption, seed: int) -> xr.Dataset:
    """One fixed camera for the clip (GT-2D protocol), then the corruption."""
    from zedo_xr.datasets import make_views

    # A clip that travels far (a dash) does not fit the image at 4-6 m: step the camera back.
    for distance in ((4.0, 6.0), (7.0, 9.0), (10.0, 14.0)):
        try:
            ds = make_views(clip, seed=seed, camera="fixed", distance=distance)
        except ValueError:
            continue
        return corrupt(ds, spec, seed)
    raise ValueError(f"clip {clip.attrs.get('clip')}: does not fit the image from 14 m")
