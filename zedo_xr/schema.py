"""Dimension, variable and joint names of the data model, constructors, and input validation.

Every check raises :class:`SchemaError` with one message that names the variable, what was
expected and what was found. Functions validate only what they need (as movement does), so
extra dims such as ``individual`` or ``camera`` ride along.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import xarray as xr

FRAME = "frame"
HYPOTHESIS = "hypothesis"
JOINT = "joint"
COORD = "coord"
UV = "uv"
INDIVIDUAL = "individual"  # optional: several people (movement's name); rides along like any extra dim
ROW, COL = "row", "col"
COORDS_3D: tuple[str, ...] = ("x", "y", "z")
COORDS_2D: tuple[str, ...] = ("u", "v")

H36M_JOINTS: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
"""The 17 Human3.6M joints in order, the labels of ``joint``. ``neck`` is H36M's neck/nose joint,
``head`` the head top. The H36M tree, left/right pairs and other skeletons are in ``skeleton``."""

KEYPOINTS = "keypoints"
CONFIDENCE = "confidence"
K_VAR = "K"
POSE3D = "pose3d"
POSE3D_GT = "pose3d_gt"
REPROJECTION_ERROR = "reprojection_error"
BEST_HYPOTHESIS = "best_hypothesis"
VALID = "valid"
INTERPOLATED = "interpolated"

VARIABLE_DIMS: dict[str, tuple[str, ...]] = {
    KEYPOINTS: (FRAME, JOINT, UV),
    CONFIDENCE: (FRAME, JOINT),
    POSE3D: (FRAME, HYPOTHESIS, JOINT, COORD),
    POSE3D_GT: (FRAME, JOINT, COORD),
    REPROJECTION_ERROR: (FRAME, HYPOTHESIS),
    BEST_HYPOTHESIS: (FRAME,),
    VALID: (FRAME,),
    INTERPOLATED: (FRAME,),
}
"""Required dims of each variable of the data model (extra dims may ride along)."""

# A human is at most ~2.5 m across; root-relative coordinates beyond this are millimetres.
_MAX_METRES = 50.0


class SchemaError(ValueError):
    """A dataset or array does not follow the zedo-xr data model."""


def _names(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in values]


def require_dims(da: xr.DataArray, dims: Sequence[str], name: str) -> None:
    """Raise unless ``da`` has every dim in ``dims`` (it may have more)."""
    missing = [d for d in dims if d not in da.dims]
    if missing:
        raise SchemaError(
            f"{name}: expected dims including {tuple(dims)}, got {tuple(da.dims)} (missing {tuple(missing)})"
        )


def require_size(da: xr.DataArray, dim: str, size: int, name: str) -> None:
    """Raise unless dimension ``dim`` of ``da`` has length ``size``."""
    if da.sizes[dim] != size:
        raise SchemaError(f"{name}: expected {size} entries along '{dim}', got {da.sizes[dim]}")


def require_nonempty(da: xr.DataArray, name: str) -> None:
    """Raise if any dimension of ``da`` has length 0."""
    empty = [d for d, n in da.sizes.items() if n == 0]
    if empty or da.size == 0:
        raise SchemaError(f"{name}: expected a non-empty array, got sizes {dict(da.sizes)}")


def require_joint_names(da: xr.DataArray, name: str) -> None:
    """Raise unless the ``joint`` coordinate names H36M joints (any subset, any order)."""
    if JOINT not in da.coords:
        raise SchemaError(f"{name}: expected a '{JOINT}' coordinate with H36M joint names, got none")
    unknown = [j for j in _names(da[JOINT].values) if j not in H36M_JOINTS]
    if unknown:
        raise SchemaError(
            f"{name}: unknown joint names {unknown}; expected names from {list(H36M_JOINTS)} "
            "(convert other skeletons with zedo_xr.skeleton)"
        )


def validate_keypoints(da: xr.DataArray, name: str = KEYPOINTS) -> None:
    """Check a 2D keypoint array: dims ``(frame, joint, uv)``, pixel units, H36M names.

    NaN values are allowed (they mark missing joints); infinities are not.
    """
    require_dims(da, VARIABLE_DIMS[KEYPOINTS], name)
    require_size(da, UV, 2, name)
    require_nonempty(da, name)
    require_joint_names(da, name)
    values = np.asarray(da.values, dtype=float)
    if np.isinf(values).any():
        raise SchemaError(f"{name}: expected finite pixel values or NaN for missing, got inf")
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise SchemaError(f"{name}: every keypoint is NaN; expected pixel coordinates")
    if finite.size >= 4 and np.abs(finite).max() <= 1.0:
        raise SchemaError(
            f"{name}: expected pixel coordinates (origin top-left), got values all within "
            f"[-1, 1] (max |value| {np.abs(finite).max():.3g}); they look normalised. "
            "Multiply by the image size or pass pixel keypoints."
        )


def validate_confidence(da: xr.DataArray, name: str = CONFIDENCE) -> None:
    """Check a confidence array: dims ``(frame, joint)``, values in [0, 1] or NaN."""
    require_dims(da, VARIABLE_DIMS[CONFIDENCE], name)
    values = np.asarray(da.values, dtype=float)
    finite = values[np.isfinite(values)]
    if finite.size and (finite.min() < 0 or finite.max() > 1):
        raise SchemaError(
            f"{name}: expected values in [0, 1], got range [{finite.min():.3g}, {finite.max():.3g}]"
        )


def validate_pose3d(da: xr.DataArray, name: str = POSE3D, *, hypotheses: bool = False) -> None:
    """Check a 3D pose array: dims ``(frame, [hypothesis,] joint, coord)`` in metres."""
    dims = VARIABLE_DIMS[POSE3D] if hypotheses else VARIABLE_DIMS[POSE3D_GT]
    require_dims(da, dims, name)
    require_size(da, COORD, 3, name)
    require_nonempty(da, name)
    values = np.asarray(da.values, dtype=float)
    if np.isinf(values).any():
        raise SchemaError(f"{name}: expected finite values in metres, got inf")
    finite = values[np.isfinite(values)]
    if finite.size and np.abs(finite).max() > _MAX_METRES:
        raise SchemaError(
            f"{name}: expected metres, got values up to {np.abs(finite).max():.4g}; "
            "they look like millimetres (divide by 1000)"
        )


def as_intrinsics(K: Any, name: str = K_VAR) -> xr.DataArray:
    """Return intrinsics as a DataArray with dims ``(..., row, col)`` after checking them.

    Accepts a 3x3 array, an ``(n, 3, 3)`` array (taken as per ``frame``), or a DataArray whose
    last two dims are ``row`` and ``col``. K must be finite and upper-triangular with positive
    focal lengths and ``K[2, 2] == 1`` (pinhole pixels).
    """
    if K is None:
        raise SchemaError(f"{name}: expected 3x3 camera intrinsics in pixels, got None")
    if isinstance(K, xr.DataArray):
        da = K
        require_dims(da, (ROW, COL), name)
        da = da.transpose(..., ROW, COL)
    else:
        arr = np.asarray(K, dtype=float)
        if arr.ndim == 2:
            da = xr.DataArray(arr, dims=(ROW, COL))
        elif arr.ndim == 3:
            da = xr.DataArray(arr, dims=(FRAME, ROW, COL))
        else:
            raise SchemaError(f"{name}: expected shape (3, 3) or (frame, 3, 3), got shape {arr.shape}")
    if da.sizes[ROW] != 3 or da.sizes[COL] != 3:
        raise SchemaError(f"{name}: expected a 3x3 matrix, got {da.sizes[ROW]}x{da.sizes[COL]}")
    values = np.asarray(da.values, dtype=float)
    if not np.isfinite(values).all():
        raise SchemaError(f"{name}: expected finite intrinsics, got NaN or inf")
    lower = values[..., [1, 2, 2], [0, 0, 1]]
    if np.abs(lower).max(initial=0.0) > 1e-9 * max(1.0, np.abs(values).max()):
        raise SchemaError(
            f"{name}: expected an upper-triangular pinhole matrix [[fx, s, cx], [0, fy, cy], "
            f"[0, 0, 1]], got non-zero entries below the diagonal: {lower.reshape(-1, 3)[0]}"
        )
    fx, fy = values[..., 0, 0], values[..., 1, 1]
    if (fx <= 0).any() or (fy <= 0).any():
        raise SchemaError(
            f"{name}: expected positive focal lengths fx, fy in pixels, got "
            f"fx={np.min(fx):.4g}, fy={np.min(fy):.4g}"
        )
    if not np.allclose(values[..., 2, 2], 1.0):
        raise SchemaError(f"{name}: expected K[2, 2] == 1, got {values[..., 2, 2].ravel()[0]:.4g}")
    return da.astype(float)


def validate_lift_input(ds: xr.Dataset, K: Any = None) -> xr.DataArray:
    """Check a dataset to lift and return its intrinsics as ``(..., row, col)``.

    ``K`` overrides the dataset's ``K`` variable when given.
    """
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"dataset: expected an xarray.Dataset, got {type(ds).__name__}")
    if KEYPOINTS not in ds:
        raise SchemaError(
            f"dataset: expected a '{KEYPOINTS}' variable with dims (frame, joint, uv), "
            f"got variables {list(ds.data_vars)}"
        )
    validate_keypoints(ds[KEYPOINTS])
    if CONFIDENCE in ds:
        validate_confidence(ds[CONFIDENCE])
    if K is None:
        if K_VAR not in ds:
            raise SchemaError(
                f"{K_VAR}: expected camera intrinsics, as lift(K=...) or a '{K_VAR}' variable "
                "with dims (row, col) or (frame, row, col); got neither"
            )
        K = ds[K_VAR]
    K_da = as_intrinsics(K)
    if FRAME in K_da.dims and K_da.sizes[FRAME] != ds.sizes[FRAME]:
        raise SchemaError(
            f"{K_VAR}: expected one matrix per frame ({ds.sizes[FRAME]}), got {K_da.sizes[FRAME]}"
        )
    return K_da


def labels(names: Iterable[Hashable]) -> np.ndarray:
    """Labels (strings, or ids such as individuals) as an object array: zarr v3 stores these
    without a spec warning."""
    return np.array(list(names), dtype=object)


def joint_coord(names: Iterable[str] = H36M_JOINTS) -> np.ndarray:
    """Joint names as an object array (see :func:`labels`)."""
    return labels(names)


def pose_dataarray(
    positions: Any,
    *,
    joints: Sequence[str] = H36M_JOINTS,
    fps: float | None = None,
    name: str = "position",
    attrs: dict[str, Any] | None = None,
) -> xr.DataArray:
    """Wrap an ``(frame, joint, 3)`` array of metres as a DataArray of the data model.

    Examples
    --------
    >>> import numpy as np
    >>> da = pose_dataarray(np.zeros((2, 17, 3)), fps=50.0)
    >>> da.dims, da.attrs["fps"]
    (('frame', 'joint', 'coord'), 50.0)
    """
    arr = np.asarray(positions)
    if arr.ndim != 3 or arr.shape[-1] != 3 or arr.shape[1] != len(joints):
        raise SchemaError(f"{name}: expected shape (frame, {len(joints)}, 3), got shape {arr.shape}")
    all_attrs: dict[str, Any] = {"units": "m"}
    if fps is not None:
        all_attrs["fps"] = float(fps)
    all_attrs.update(attrs or {})
    return xr.DataArray(
        arr,
        dims=(FRAME, JOINT, COORD),
        coords={FRAME: np.arange(arr.shape[0]), JOINT: joint_coord(joints), COORD: labels(COORDS_3D)},
        name=name,
        attrs=all_attrs,
    )
