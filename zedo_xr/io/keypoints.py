"""Plain arrays of any supported skeleton -> a dataset to lift; detector scores -> confidence.

:func:`keypoints_dataset` is the one place where 2D keypoints from outside (numpy arrays, the
JSON and npz readers, the command line) become the data model: the source skeleton is converted
to the 17 Human3.6M joints by joint *name* (:func:`zedo_xr.skeleton.to_h36m`), joints the skeleton
lacks get NaN and confidence 0, and detector scores pass through :func:`detector_scores`.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.schema import (
    CONFIDENCE,
    COORD,
    COORDS_2D,
    COORDS_3D,
    FRAME,
    INDIVIDUAL,
    JOINT,
    K_VAR,
    KEYPOINTS,
    POSE3D_GT,
    UV,
    SchemaError,
    as_intrinsics,
    labels,
    validate_confidence,
    validate_keypoints,
    validate_pose3d,
)

SCORE_CLIP_MAX = 1.5
"""Detector scores up to this value are clipped to 1; above it they are refused.

Heatmap-based detectors report the peak of a heatmap, which overshoots 1 by a few percent
(AlphaPose reaches 1.04). A value above 1.5 is not such an overshoot but another scale (0-100,
COCO visibility flags 0/1/2), which clipping would turn into confident joints.
"""


def detector_scores(values: Any, name: str = CONFIDENCE) -> np.ndarray:
    """Detector scores as confidences in [0, 1]: NaN -> 0, overshoot up to 1.5 clipped to 1.

    Parameters
    ----------
    values : array-like
        Scores of any shape.
    name : str
        Variable named in the warning and in the error.

    Returns
    -------
    ndarray of float
        Same shape, values in [0, 1]. When some scores lie in (1, 1.5], one ``UserWarning``
        says how many were clipped and the largest.

    Raises
    ------
    SchemaError
        Scores below 0 or above :data:`SCORE_CLIP_MAX`, or infinite.

    Examples
    --------
    >>> detector_scores([0.2, np.nan, 0.9]).tolist()
    [0.2, 0.0, 0.9]
    """
    scores = np.asarray(values, dtype=float)
    if np.isinf(scores).any():
        raise SchemaError(f"{name}: expected scores in [0, 1] or NaN, got inf")
    finite = scores[np.isfinite(scores)]
    if finite.size and (finite.min() < 0 or finite.max() > SCORE_CLIP_MAX):
        raise SchemaError(
            f"{name}: expected scores in [0, 1] (detector overshoot up to {SCORE_CLIP_MAX} is "
            f"clipped), got range [{finite.min():.3g}, {finite.max():.3g}]"
        )
    over = finite > 1.0
    if over.any():
        warnings.warn(
            f"{name}: clipped {int(over.sum())} detector scores above 1 (largest {finite.max():.3g}) to 1",
            UserWarning,
            stacklevel=3,
        )
    return np.clip(np.nan_to_num(scores, nan=0.0), 0.0, 1.0)


def _points_array(
    keypoints: Any, skel: Any, joints: Sequence[str] | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """``(frame, [individual,] joint, 2|3)`` -> points and the third column (scores) if any.

    A ``(joint, 2|3)`` array is one frame (a single image).
    """
    arr = np.asarray(keypoints, dtype=float)
    if arr.ndim not in (2, 3, 4) or arr.shape[-1] not in (2, 3):
        raise SchemaError(
            f"{KEYPOINTS}: expected shape (frame, joint, 2) or (frame, individual, joint, 2) "
            f"(a third column of scores is allowed), got shape {arr.shape}"
        )
    if arr.ndim == 2:
        arr = arr[None]
    n_joints = len(skel.joints if joints is None else joints)
    if arr.shape[-2] != n_joints:
        from zedo_xr.skeleton import SKELETONS

        if joints is not None:
            raise SchemaError(
                f"{KEYPOINTS}: expected {n_joints} joints (one per name in joints), got {arr.shape[-2]}"
            )
        same = sorted(k for k, v in SKELETONS.items() if len(v.joints) == arr.shape[-2])
        hint = f" (skeletons with {arr.shape[-2]} joints: {', '.join(same)})" if same else ""
        raise SchemaError(
            f"{KEYPOINTS}: expected the {n_joints} joints of skeleton {skel.name!r}, got "
            f"{arr.shape[-2]}{hint}"
        )
    return arr[..., :2], (arr[..., 2] if arr.shape[-1] == 3 else None)


def _individual_coord(n: int, individuals: Sequence[Hashable] | None) -> np.ndarray:
    if individuals is None:
        return np.arange(n)
    names = list(individuals)
    if len(names) != n:
        raise SchemaError(f"individuals: expected {n} names (one per individual), got {len(names)}")
    if all(isinstance(x, str) for x in names):
        return labels(names)
    return np.asarray(names)


def _image_attrs(image_size: Any, points: np.ndarray) -> dict[str, int]:
    size = np.asarray(image_size, dtype=float).ravel()
    if size.shape != (2,) or not np.isfinite(size).all() or (size <= 0).any():
        raise SchemaError(f"image_size: expected (width, height) in pixels, got {image_size!r}")
    width, height = size
    finite = np.isfinite(points).all(-1)
    if finite.any():
        u, v = points[finite, 0], points[finite, 1]
        inside = (u >= -0.5 * width) & (u <= 1.5 * width) & (v >= -0.5 * height) & (v <= 1.5 * height)
        if not inside.any():
            raise SchemaError(
                f"{KEYPOINTS}: expected pixels of a {width:g} x {height:g} image, got every "
                f"keypoint far outside it (u in [{u.min():.4g}, {u.max():.4g}], v in "
                f"[{v.min():.4g}, {v.max():.4g}])"
            )
    return {"image_width": round(float(width)), "image_height": round(float(height))}


def keypoints_dataset(
    keypoints: Any,
    skeleton: str = "h36m17",
    *,
    confidence: Any = None,
    K: Any = None,
    fps: float | None = None,
    image_size: Any = None,
    individuals: Sequence[Hashable] | None = None,
    joints: Sequence[str] | None = None,
    pose3d_gt: Any = None,
    attrs: dict[str, Any] | None = None,
) -> xr.Dataset:
    """Build a dataset to lift from a numpy array of 2D keypoints of any supported skeleton.

    Parameters
    ----------
    keypoints : array-like, shape (frame, joint, 2) or (frame, individual, joint, 2)
        Pixels, origin top-left, u right, v down; NaN marks a missing joint. A last axis of 3
        is ``[u, v, score]`` (the usual detector layout) and the score is the confidence. A
        ``(joint, 2)`` array is a single frame.
    skeleton : str
        The joint set of the joint axis, one of :data:`zedo_xr.skeleton.SKELETONS` (e.g.
        ``"coco17"``, ``"halpe26"``, ``"openpose25"``, ``"mediapipe33"``; default ``"h36m17"``).
        It is converted to the 17 H36M joints by name; joints it lacks get NaN and confidence 0.
    confidence : array-like, shape (frame, [individual,] joint), optional
        Detector scores in [0, 1]; 0 or NaN marks a missing joint. Scores slightly above 1
        (heatmap overshoot) are clipped with a warning, see :func:`detector_scores`. Default:
        the third column of ``keypoints``, else 1 where the keypoint is finite.
    K : array-like, optional
        ``(3, 3)`` or ``(frame, 3, 3)`` intrinsics in pixels, stored as variable ``K``.
    fps : float, optional
        Frame rate, stored in ``attrs["fps"]``.
    image_size : (width, height), optional
        Size in pixels of the images the keypoints were detected in, stored as
        ``attrs["image_width"]``, ``attrs["image_height"]``; keypoints that all lie far outside
        it are refused (wrong units).
    individuals : sequence, optional
        Names (or ids) of the individuals of a 4-D ``keypoints``; default ``0, 1, ...``.
    joints : sequence of str, optional
        Names of the joint axis when it holds a subset of the skeleton's joints (in any
        order); default the skeleton's joints in its order.
    pose3d_gt : array-like, shape (frame, joint, 3), optional
        Ground truth in metres, camera frame, on the same joints as ``keypoints``.
    attrs : dict, optional
        Further dataset attributes.

    Returns
    -------
    xarray.Dataset
        ``keypoints (frame, [individual,] joint, uv)`` on the 17 H36M joints and
        ``confidence (frame, [individual,] joint)``, plus ``K`` and ``pose3d_gt`` when given;
        ``attrs["skeleton_source"]`` names the source skeleton.

    Raises
    ------
    SchemaError
        Wrong shapes, joint names that the skeleton lacks, non-pixel values, bad ``K``.

    Examples
    --------
    COCO-17 keypoints of 10 frames, e.g. from a detector:

    >>> import numpy as np, zedo_xr
    >>> coco = np.random.default_rng(0).uniform(300, 700, (10, 17, 2))
    >>> ds = zedo_xr.keypoints_dataset(coco, "coco17", K=[[1000, 0, 500], [0, 1000, 500], [0, 0, 1]],
    ...                                fps=30)
    >>> dict(ds.keypoints.sizes)
    {'frame': 10, 'joint': 17, 'uv': 2}
    >>> float(ds.confidence.sel(joint="head").max())   # COCO has no head top
    0.0
    """
    from zedo_xr.skeleton import get_skeleton, to_h36m

    skel = get_skeleton(skeleton)
    names = list(skel.joints if joints is None else joints)
    points, scores = _points_array(keypoints, skel, joints)
    if confidence is None and scores is not None:
        confidence = scores
    dims: tuple[str, ...] = (FRAME, JOINT) if points.ndim == 3 else (FRAME, INDIVIDUAL, JOINT)
    coords: dict[Hashable, Any] = {FRAME: np.arange(points.shape[0]), JOINT: labels(names)}
    if points.ndim == 4:
        coords[INDIVIDUAL] = _individual_coord(points.shape[1], individuals)
    if confidence is None:
        conf = np.isfinite(points).all(-1).astype(float)
    else:
        conf = np.asarray(confidence, dtype=float)
        if conf.shape != points.shape[:-1]:
            raise SchemaError(
                f"{CONFIDENCE}: expected shape {points.shape[:-1]} (frame, [individual,] joint), "
                f"got shape {conf.shape}"
            )
        conf = detector_scores(conf)
    pts = xr.DataArray(points, dims=(*dims, UV), coords={**coords, UV: labels(COORDS_2D)})
    h36m, h36m_conf = to_h36m(pts, skel, xr.DataArray(conf, dims=dims, coords=coords))
    all_attrs = {"skeleton_source": skel.name, **(attrs or {})}
    if fps is not None:
        all_attrs["fps"] = float(fps)
    if image_size is not None:
        all_attrs.update(_image_attrs(image_size, points))
    ds = xr.Dataset(
        {
            KEYPOINTS: h36m.transpose(*dims, UV).assign_attrs(units="pixels"),
            CONFIDENCE: h36m_conf.transpose(*dims),
        },
        attrs=all_attrs,
    )
    ds[KEYPOINTS].attrs.pop("source_skeleton", None)
    if K is not None:
        ds[K_VAR] = as_intrinsics(K).assign_attrs(units="pixels")
    if pose3d_gt is not None:
        ds = _with_ground_truth(ds, pose3d_gt, skel, names)
    validate_keypoints(ds[KEYPOINTS])
    validate_confidence(ds[CONFIDENCE])
    return ds


def _with_ground_truth(ds: xr.Dataset, pose3d_gt: Any, skel: Any, names: list[str]) -> xr.Dataset:
    from zedo_xr.skeleton import to_h36m

    gt = np.asarray(pose3d_gt, dtype=float)
    if gt.shape != (ds.sizes[FRAME], len(names), 3):
        raise SchemaError(
            f"{POSE3D_GT}: expected shape ({ds.sizes[FRAME]}, {len(names)}, 3), got shape {gt.shape}"
        )
    da = xr.DataArray(gt, dims=(FRAME, JOINT, COORD), coords={JOINT: labels(names)})
    gt_h36m, _ = to_h36m(da, skel)
    gt_h36m = gt_h36m.assign_coords({FRAME: ds[FRAME].values}).assign_attrs(units="m")
    gt_h36m.attrs.pop("source_skeleton", None)
    ds[POSE3D_GT] = gt_h36m.transpose(FRAME, JOINT, COORD)
    ds = ds.assign_coords({COORD: labels(COORDS_3D)})
    validate_pose3d(ds[POSE3D_GT], POSE3D_GT)
    return ds
