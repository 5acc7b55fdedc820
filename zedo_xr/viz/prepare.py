"""Data preparation shared by both viewers: a lifted dataset -> plain numpy arrays (:class:`View`).

Projection comes from :func:`zedo_xr.camera.project` and MPJPE from :func:`zedo_xr.metrics.mpjpe`,
so the viewer reports the numbers the rest of the package computes. The 3D box and the 2D zoom
are fitted to the person here; :mod:`zedo_xr.viz.figure` only draws.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr import schema
from zedo_xr.skeleton import H36M_JOINTS

_KNOWN_DIMS = {
    schema.FRAME,
    schema.HYPOTHESIS,
    schema.JOINT,
    schema.COORD,
    schema.UV,
    schema.ROW,
    schema.COL,
}
_PELVIS = H36M_JOINTS.index("pelvis")
VALID = "valid"
"""Optional ``(frame,)`` flag: False where a lift had too little evidence (its pose is NaN)."""
INTERPOLATED = "interpolated"
"""Optional ``(frame,)`` flag: True where a sequence lift bridged a gap without detections."""

_PAD_3D = 0.12  # metres around the person in the 3D box
_MIN_EXTENT_3D = 0.6  # metres: a person seen side-on still gets a readable box
_PAD_2D = 0.12  # share of the person's larger side around the 2D zoom

PARAMS_DOC = """
    Parameters
    ----------
    ds
        Lifted dataset: ``pose3d (frame, hypothesis, joint, coord)`` in metres, camera frame;
        optionally ``pose3d_gt``, ``keypoints``, ``confidence``, ``K``, ``reprojection_error``,
        ``best_hypothesis`` and ``valid`` (see :mod:`zedo_xr.schema`). Joints are matched by
        name. Frames without a pose (NaN, or ``valid`` False) are drawn empty and say so.
    frames
        Positions along ``frame`` to show (int, slice or sequence); all by default.
    max_frames
        Keep at most this many frames, taking every n-th one (None keeps all).
    hypotheses
        How many hypotheses to show (int: the first n, as ``lift(hypotheses=n)``) or which
        (sequence of positions); all by default. "best" always picks among all of them.
    show_gt
        Draw ``pose3d_gt`` (dashed black) and report MPJPE (root-aligned, mm) when present.
    show_2d
        Add the image panel, zoomed to the person: input keypoints (confidence 0 hidden) and
        each hypothesis reprojected with ``K``.
    root_relative
        Put the pelvis at the origin in the 3D scene (the 2D panel still projects the
        absolute poses).
    title
        Title prefix; the frame label (and best hypothesis) follow it.
    select
        Labels for extra dims, e.g. ``{"individual": "alice"}``; any other extra dim is
        reduced to its first entry.
"""


@dataclass
class View:
    """Everything a viewer draws, as numpy arrays over the shown frames.

    ``S`` slots are the shown hypotheses, plus a last "best" slot when the dataset has
    ``best_hypothesis``.
    """

    frame_labels: list[str]
    slot_labels: list[str]  # (S,)
    has_best: bool
    pose: np.ndarray  # (F, S, J, 3) metres, as displayed
    reproj: np.ndarray | None  # (F, S, J, 2) pixels
    error: np.ndarray | None  # (F, S) pixels
    mpjpe: np.ndarray | None  # (F, S) millimetres, root-aligned
    best: np.ndarray | None  # (F,) hypothesis label of the best one
    gt: np.ndarray | None  # (F, J, 3)
    keypoints: np.ndarray | None  # (F, J, 2), NaN where missing or confidence 0
    no_pose: np.ndarray  # (F,) True where the frame has no pose at all
    interpolated: np.ndarray  # (F,) True where the pose was bridged, not lifted
    range3d: np.ndarray  # (3, 2): the box around the person
    scene3d: np.ndarray  # (3, 2): the box around the person and the camera
    camera: np.ndarray | None  # (5, 3): camera centre and the image corners at depth
    range2d: np.ndarray | None  # (2, 2): u and v extent around the person
    image2d: np.ndarray | None  # (2, 2): the whole image (2 cx, 2 cy) and the person
    image_size: tuple[float, float] | None  # (2 cx, 2 cy) pixels: the image's frame
    title: str | None
    frame_ms: float

    @property
    def n_hyp(self) -> int:
        return len(self.slot_labels) - int(self.has_best)

    @property
    def show_2d(self) -> bool:
        return self.range2d is not None


# --------------------------------------------------------------------------------------------
# Selection


def _check_dataset(ds: Any) -> None:
    if not isinstance(ds, xr.Dataset):
        raise schema.SchemaError(f"dataset: expected an xarray.Dataset, got {type(ds).__name__}")
    if schema.POSE3D not in ds:
        raise schema.SchemaError(
            f"dataset: expected a '{schema.POSE3D}' variable with dims "
            f"{schema.VARIABLE_DIMS[schema.POSE3D]} (run lift first), got variables "
            f"{list(ds.data_vars)}"
        )


def _select_extra_dims(ds: xr.Dataset, select: Mapping[Hashable, Any] | None) -> xr.Dataset:
    select = dict(select or {})
    unknown = [d for d in select if d not in ds.dims]
    if unknown:
        raise schema.SchemaError(
            f"select: expected dims of the dataset {tuple(ds.dims)}, got {tuple(unknown)}"
        )
    ds = ds.sel(select)
    first = {d: 0 for d in ds.dims if d not in _KNOWN_DIMS}
    return ds.isel(first) if first else ds


def _positions(n: int, which: int | slice | Sequence[int] | None, name: str) -> np.ndarray:
    if which is None:
        return np.arange(n)
    if isinstance(which, slice):
        return np.arange(n)[which]
    if isinstance(which, int | np.integer):
        return np.arange(n)[int(which) : int(which) + 1]
    pos = np.asarray(which, dtype=int).ravel()
    if pos.size and (pos.min() < -n or pos.max() >= n):
        raise ValueError(f"{name}: expected positions in [0, {n}), got {pos.tolist()}")
    return np.arange(n)[pos]


def _hypothesis_positions(n: int, hypotheses: int | Sequence[int] | None) -> np.ndarray:
    if isinstance(hypotheses, int | np.integer):
        # A count, as in lift(hypotheses=S): the first S hypotheses.
        if hypotheses < 1:
            raise ValueError(f"hypotheses: expected a count >= 1, got {hypotheses}")
        return np.arange(min(int(hypotheses), n))
    return _positions(n, hypotheses, "hypotheses")


def _frame_positions(n: int, frames: Any, max_frames: int | None) -> np.ndarray:
    """The user's frames (positions), then an even stride down to ``max_frames``."""
    pos = _positions(n, frames, "frames")
    if max_frames is not None and pos.size > max_frames:
        if max_frames < 1:
            raise ValueError(f"max_frames: expected a count >= 1, got {max_frames}")
        pos = pos[:: -(-pos.size // max_frames)]
    if pos.size == 0:
        raise ValueError("frames: the selection is empty")
    return pos


def _array(da: xr.DataArray, dims: tuple[str, ...]) -> np.ndarray:
    return np.asarray(da.transpose(*dims).values, dtype=float)


def _labels(ds: xr.Dataset, dim: str, fallback: Sequence[int] | np.ndarray) -> list[str]:
    if dim in ds.coords:
        return [str(v) for v in ds[dim].values]
    return [str(p) for p in fallback]


# --------------------------------------------------------------------------------------------
# Poses, keypoints, reprojection, scores


@dataclass
class _Slots:
    pose: np.ndarray  # (F, S, J, 3)
    labels: list[str]
    hpos: np.ndarray  # positions of the shown hypotheses among all of them
    best_idx: np.ndarray | None  # (F,) position of the best hypothesis, None without one
    best_ok: np.ndarray  # (F,) the best hypothesis is known


def _slots(ds: xr.Dataset, hypotheses: Any) -> tuple[_Slots, list[str]]:
    """The shown hypotheses plus the "best" slot; also every hypothesis' name."""
    pose_all = _array(ds[schema.POSE3D], (schema.FRAME, schema.HYPOTHESIS, schema.JOINT, schema.COORD))
    n_frame, n_all = pose_all.shape[:2]
    names = _labels(ds, schema.HYPOTHESIS, range(n_all))
    hpos = _hypothesis_positions(n_all, hypotheses)
    slots = [pose_all[:, h] for h in hpos]
    labels = [f"hypothesis {names[h]}" for h in hpos]
    best_idx, best_ok = None, np.zeros(n_frame, dtype=bool)
    if schema.BEST_HYPOTHESIS in ds:
        raw = np.asarray(ds[schema.BEST_HYPOTHESIS].values, dtype=float).reshape(n_frame)
        best_ok = np.isfinite(raw) & (raw >= 0)  # -1: a frame without a pose
        best_idx = np.where(best_ok, raw, 0).astype(int).clip(0, n_all - 1)
        best_pose = pose_all[np.arange(n_frame), best_idx]
        best_pose[~best_ok] = np.nan
        slots.append(best_pose)
        labels.append("best")
    return _Slots(np.stack(slots, axis=1), labels, hpos, best_idx, best_ok), names


def _keypoints(ds: xr.Dataset) -> np.ndarray | None:
    if schema.KEYPOINTS not in ds:
        return None
    keypoints = _array(ds[schema.KEYPOINTS], (schema.FRAME, schema.JOINT, schema.UV))
    if schema.CONFIDENCE in ds:
        conf = _array(ds[schema.CONFIDENCE], (schema.FRAME, schema.JOINT))
        keypoints[~(conf > 0)] = np.nan
    return keypoints


def _intrinsics(ds: xr.Dataset, n_frame: int) -> np.ndarray | None:
    if schema.K_VAR not in ds:
        return None
    K = np.asarray(schema.as_intrinsics(ds[schema.K_VAR]).values, dtype=float)
    return np.broadcast_to(K, (n_frame, 3, 3)) if K.ndim == 2 else K


def reproject(pose: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pixels of ``(F, S, J, 3)`` camera-frame poses under ``(F, 3, 3)`` K, NaN behind the camera.

    :func:`zedo_xr.camera.project` does the projection (on CPU tensors: a viewer draws at most a
    few hundred frames).
    """
    import torch

    from zedo_xr.camera import project

    points = torch.from_numpy(np.ascontiguousarray(pose, dtype=np.float64))
    Kt = torch.from_numpy(np.ascontiguousarray(K, dtype=np.float64))[:, None]
    uv = project(points, Kt).numpy()
    in_front = pose[..., 2:3] > 1e-6
    return np.where(in_front, uv, np.nan)


def _masked_mean(values: np.ndarray, mask: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` where ``mask``; NaN (without a warning) where nothing is left."""
    mask = mask & np.isfinite(values)
    total = np.where(mask, values, 0.0).sum(axis=axis)
    count = mask.sum(axis=axis)
    out = np.full(np.shape(total), np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def _errors(
    ds: xr.Dataset, slots: _Slots, reproj: np.ndarray | None, keypoints: np.ndarray | None
) -> np.ndarray | None:
    """Reprojection error (px) per frame and slot: the lift's own, or measured from K."""
    if schema.REPROJECTION_ERROR in ds:
        err_all = _array(ds[schema.REPROJECTION_ERROR], (schema.FRAME, schema.HYPOTHESIS))
        cols = [err_all[:, h] for h in slots.hpos]
        if slots.best_idx is not None:
            best = err_all[np.arange(len(err_all)), slots.best_idx]
            cols.append(np.where(slots.best_ok, best, np.nan))
        return np.stack(cols, axis=1)
    if reproj is None or keypoints is None:
        return None
    dist = np.linalg.norm(reproj - keypoints[:, None], axis=-1)
    return _masked_mean(dist, np.isfinite(keypoints[:, None, :, 0]), axis=-1)


def _mpjpe(pose: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Root-aligned MPJPE (mm) per frame and slot, by :func:`zedo_xr.metrics.mpjpe`."""
    from zedo_xr.metrics import mpjpe

    joints = {schema.JOINT: schema.joint_coord()}
    pred = xr.DataArray(pose, dims=(schema.FRAME, "slot", schema.JOINT, schema.COORD), coords=joints)
    truth = xr.DataArray(gt, dims=(schema.FRAME, schema.JOINT, schema.COORD), coords=joints)
    return np.asarray(mpjpe(pred, truth).transpose(schema.FRAME, "slot").values, dtype=float)


def _flag(ds: xr.Dataset, name: str, n_frame: int) -> np.ndarray:
    if name not in ds:
        return np.zeros(n_frame, dtype=bool)
    return np.asarray(ds[name].values, dtype=bool).reshape(n_frame)


def _no_pose(ds: xr.Dataset, pose: np.ndarray) -> np.ndarray:
    """Frames where no hypothesis has a single finite joint, or that ``valid`` marks False."""
    empty = ~np.isfinite(pose).any(axis=(1, 2, 3))
    if VALID in ds:
        empty |= ~_flag(ds, VALID, len(pose))
    return empty


# --------------------------------------------------------------------------------------------
# Boxes: the person in 3D and 2D, the camera layout, the whole image


def _finite_range(*arrays: np.ndarray | None, axis_size: int) -> np.ndarray | None:
    """Per-coordinate (min, max) over the finite points of ``(..., axis_size)`` arrays."""
    points = [a.reshape(-1, axis_size) for a in arrays if a is not None]
    if not points:
        return None
    flat = np.concatenate(points)
    flat = flat[np.isfinite(flat).all(axis=1)]
    if not len(flat):
        return None
    return np.stack([flat.min(axis=0), flat.max(axis=0)], axis=-1)


def _box(lo_hi: np.ndarray, pad: float, min_extent: float) -> np.ndarray:
    """Grow a ``(C, 2)`` range by ``pad`` on each side, to at least ``min_extent``."""
    centre = lo_hi.mean(axis=1)
    half = np.maximum((lo_hi[:, 1] - lo_hi[:, 0]) / 2 + pad, min_extent / 2)
    return np.stack([centre - half, centre + half], axis=-1)


def _camera_frustum(K: np.ndarray | None, depth: float) -> np.ndarray | None:
    """Camera centre and the four image corners back-projected to ``depth`` metres."""
    if K is None:
        return None
    k = K[0]
    w, h = 2 * k[0, 2], 2 * k[1, 2]
    corners = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]])
    xy = (corners - k[:2, 2]) / np.diag(k)[:2] * depth
    return np.concatenate([np.zeros((1, 3)), np.column_stack([xy, np.full(4, depth)])])


_DEPTH_OUTLIER = 1.5
"""A hypothesis whose root is this factor nearer or farther than the frame's reference depth is
left out of the person's box (it stays in the camera layout)."""


def _near_the_person(pose: np.ndarray, gt: np.ndarray | None) -> np.ndarray:
    """``pose`` (F, S, J, 3) with hypotheses far off in depth set to NaN, for the person's box.

    Scale and depth trade off along the camera rays: a shrunken hypothesis near the camera or an
    overgrown one far away reprojects as well as the right one. The reference depth of a frame is
    the ground truth's root when given, else the median root depth over hypotheses.
    """
    depth = pose[:, :, _PELVIS, 2]
    if gt is not None:
        ref = gt[:, _PELVIS, 2][:, None]
    else:
        with np.errstate(all="ignore"):
            ref = np.nanmedian(np.where(np.isfinite(depth), depth, np.nan), axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = depth / ref
        far = (ratio > _DEPTH_OUTLIER) | (ratio < 1 / _DEPTH_OUTLIER)
    return np.where(far[:, :, None, None], np.nan, pose)


def _boxes_3d(
    pose: np.ndarray, gt: np.ndarray | None, K: np.ndarray | None, root_relative: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The person's box, the camera-layout box and the camera's frustum."""
    near = pose if root_relative else _near_the_person(pose, gt)
    person = _finite_range(near, gt, axis_size=3)
    if person is None:  # nothing to fit: a 2 m box in front of the camera
        person = np.array([[-1.0, 1.0], [-1.0, 1.0], [2.0, 4.0]])
    box = _box(person, _PAD_3D, _MIN_EXTENT_3D)
    if root_relative:
        return box, box, None
    frustum = _camera_frustum(K, depth=0.15 * float(max(person[2, 1], 1.0)))
    # The camera layout shows every hypothesis (the person's range is a part of theirs).
    every_pose = _finite_range(pose, gt, axis_size=3)
    shown = person if every_pose is None else every_pose
    scene = _finite_range(shown.T, frustum, np.zeros((1, 3)), axis_size=3)
    assert scene is not None
    return box, _box(scene, 0.1 * float(np.ptp(scene, axis=1).max()), _MIN_EXTENT_3D), frustum


def _boxes_2d(
    keypoints: np.ndarray | None, reproj: np.ndarray | None, K: np.ndarray | None
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The 2D zoom on the person and the whole image (which also holds the person)."""
    person = _finite_range(keypoints, reproj, axis_size=2)
    if person is None:
        return None, None
    zoom = _box(person, _PAD_2D * float(np.ptp(person, axis=1).max()), 40.0)
    image = zoom
    if K is not None:
        frame = np.array([[0.0, 2 * K[:, 0, 2].max()], [0.0, 2 * K[:, 1, 2].max()]])
        image = np.stack([np.minimum(zoom[:, 0], frame[:, 0]), np.maximum(zoom[:, 1], frame[:, 1])], axis=-1)
    return zoom, image


# --------------------------------------------------------------------------------------------


def _frame_ms(ds: xr.Dataset, pos: np.ndarray) -> float:
    fps = float(ds.attrs.get("fps", 0) or 0)
    stride = int(pos[1] - pos[0]) if pos.size > 1 else 1
    frame_ms = 1000.0 * max(stride, 1) / fps if fps > 0 else 100.0
    return max(frame_ms, 20.0)


def _selected(
    ds: xr.Dataset, frames: Any, max_frames: int | None, select: Mapping[Hashable, Any] | None
) -> tuple[xr.Dataset, np.ndarray]:
    """Validate, pick the extra dims' entry and the frames, and order the joints as H36M."""
    _check_dataset(ds)
    ds = _select_extra_dims(ds, select)
    if schema.HYPOTHESIS not in ds[schema.POSE3D].dims:
        ds[schema.POSE3D] = ds[schema.POSE3D].expand_dims(schema.HYPOTHESIS, axis=1)
    schema.validate_pose3d(ds[schema.POSE3D], hypotheses=True)
    schema.require_joint_names(ds[schema.POSE3D], schema.POSE3D)
    pos = _frame_positions(ds.sizes[schema.FRAME], frames, max_frames)
    ds = ds.isel({schema.FRAME: pos})
    # Bones are defined on the H36M order: reorder by name, missing joints become NaN.
    return ds.reindex({schema.JOINT: schema.joint_coord()}), pos


def prepare(
    ds: xr.Dataset,
    *,
    frames: int | slice | Sequence[int] | None = None,
    max_frames: int | None = None,
    hypotheses: int | Sequence[int] | None = None,
    show_gt: bool = True,
    show_2d: bool = True,
    root_relative: bool = False,
    title: str | None = None,
    select: Mapping[Hashable, Any] | None = None,
) -> View:
    """Everything :func:`zedo_xr.viz.plot` and :func:`zedo_xr.viz.widget` draw.
    {params}
    Returns
    -------
    View
    """
    ds, pos = _selected(ds, frames, max_frames, select)
    slots, names = _slots(ds, hypotheses)
    pose = slots.pose
    gt = None
    if show_gt and schema.POSE3D_GT in ds:
        gt = _array(ds[schema.POSE3D_GT], (schema.FRAME, schema.JOINT, schema.COORD))
    keypoints = _keypoints(ds)
    K = _intrinsics(ds, len(pos))
    reproj = reproject(pose, K) if K is not None else None
    error = _errors(ds, slots, reproj, keypoints)
    mpjpe = _mpjpe(pose, gt) if gt is not None else None
    if root_relative:
        pose = pose - pose[:, :, _PELVIS : _PELVIS + 1]
        gt = None if gt is None else gt - gt[:, _PELVIS : _PELVIS + 1]
    range3d, scene3d, camera = _boxes_3d(pose, gt, K, root_relative)
    if not show_2d:
        keypoints = reproj = None
    range2d, image2d = _boxes_2d(keypoints, reproj, K)
    best = None
    if slots.best_idx is not None:
        best = np.array([names[b] if ok else "" for b, ok in zip(slots.best_idx, slots.best_ok, strict=True)])
    return View(
        frame_labels=_labels(ds, schema.FRAME, pos),
        slot_labels=slots.labels,
        has_best=slots.best_idx is not None,
        pose=pose,
        reproj=reproj,
        error=error,
        mpjpe=mpjpe,
        best=best,
        gt=gt,
        keypoints=keypoints,
        no_pose=_no_pose(ds, slots.pose),
        interpolated=_flag(ds, INTERPOLATED, len(pos)),
        range3d=range3d,
        scene3d=scene3d,
        camera=camera,
        range2d=range2d,
        image2d=image2d,
        image_size=None
        if K is None or range2d is None
        else (float(2 * K[:, 0, 2].max()), float(2 * K[:, 1, 2].max())),
        title=title,
        frame_ms=_frame_ms(ds, pos),
    )


prepare.__doc__ = (prepare.__doc__ or "").replace("{params}", PARAMS_DOC)
