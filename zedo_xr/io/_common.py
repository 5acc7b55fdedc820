"""Shared helpers of the readers: DataArray construction, sequence concatenation, rotations.

Every 3D reader returns ``(frame, joint, coord)`` in metres, Z-up world, H36M joint names, with
attrs ``fps``, ``source`` and ``licence``. Several sequences are concatenated along ``frame``;
the non-index coords ``sequence`` (object strings) and ``frame_in_sequence`` (int) say where
each frame came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.schema import COORD, COORDS_3D, FRAME, JOINT, SchemaError, joint_coord, labels
from zedo_xr.skeleton import H36M_JOINTS

SEQUENCE = "sequence"
FRAME_IN_SEQUENCE = "frame_in_sequence"
TIME = "time"

# (x, y, z) Y-up  ->  (x, -z, y) Z-up. det = +1: a proper rotation, not the y<->z mirror.
Y_UP_TO_Z_UP = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def y_up_to_z_up(points: np.ndarray) -> np.ndarray:
    """Rotate ``(..., 3)`` points from a Y-up world to Z-up (rotation of +90 deg about x)."""
    return np.asarray(points) @ Y_UP_TO_Z_UP.T


def pose_array(
    positions: np.ndarray,
    *,
    fps: float | None,
    source: str,
    licence: str,
    sequence: Sequence[str] | np.ndarray | None = None,
    frame_in_sequence: np.ndarray | None = None,
    time: np.ndarray | None = None,
    attrs: dict[str, Any] | None = None,
    name: str = "position",
) -> xr.DataArray:
    """Wrap ``(frame, 17, 3)`` metres as the readers' DataArray."""
    arr = np.asarray(positions)
    if arr.ndim != 3 or arr.shape[1:] != (len(H36M_JOINTS), 3):
        raise SchemaError(
            f"{name}: expected shape (frame, {len(H36M_JOINTS)}, 3), got shape {arr.shape}"
        )
    n = arr.shape[0]
    coords: dict[str, Any] = {
        FRAME: np.arange(n),
        JOINT: joint_coord(),
        COORD: labels(COORDS_3D),
    }
    if sequence is not None:
        coords[SEQUENCE] = (FRAME, labels(sequence))
    if frame_in_sequence is not None:
        coords[FRAME_IN_SEQUENCE] = (FRAME, np.asarray(frame_in_sequence, dtype=np.int64))
    if time is not None:
        coords[TIME] = (FRAME, np.asarray(time, dtype=np.float64), {"units": "s"})
    all_attrs: dict[str, Any] = {"units": "m", "up_axis": "z"}
    if fps is not None:
        all_attrs["fps"] = float(fps)
    all_attrs["source"] = source
    all_attrs["licence"] = licence
    all_attrs.update(attrs or {})
    return xr.DataArray(arr, dims=(FRAME, JOINT, COORD), coords=coords, name=name, attrs=all_attrs)


def concat_sequences(
    parts: Sequence[tuple[str, np.ndarray]],
    frame_index: Sequence[np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stack ``[(name, (T, J, 3))]`` into positions, per-frame sequence names and indices."""
    if not parts:
        raise SchemaError("sequences: expected at least one sequence, got none")
    positions = np.concatenate([p for _, p in parts], axis=0)
    names = np.concatenate([np.full(len(p), n, dtype=object) for n, p in parts])
    if frame_index is None:
        frame_index = [np.arange(len(p)) for _, p in parts]
    index = np.concatenate([np.asarray(i, dtype=np.int64) for i in frame_index])
    return positions, names, index


def list_files(path_or_dir: str | Path, pattern: str) -> list[Path]:
    """One file, or the sorted files matching ``pattern`` below a directory (recursive)."""
    path = Path(path_or_dir)
    if path.is_dir():
        files = sorted(path.rglob(pattern))
        if not files:
            raise FileNotFoundError(f"{path}: no files matching {pattern!r}")
        return files
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    return [path]


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` quaternions **w, x, y, z** (normalised here) to ``(..., 3, 3)`` matrices."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
            np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
            np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def axis_rotation(axis: str, angle: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` rotation matrices about ``x``, ``y`` or ``z`` by ``angle`` radians."""
    c, s = np.cos(angle), np.sin(angle)
    one, zero = np.ones_like(c), np.zeros_like(c)
    if axis == "x":
        rows = [[one, zero, zero], [zero, c, -s], [zero, s, c]]
    elif axis == "y":
        rows = [[c, zero, s], [zero, one, zero], [-s, zero, c]]
    elif axis == "z":
        rows = [[c, -s, zero], [s, c, zero], [zero, zero, one]]
    else:
        raise ValueError(f"axis: expected 'x', 'y' or 'z', got {axis!r}")
    return np.stack([np.stack(r, -1) for r in rows], -2)


def extend(a: np.ndarray, b: np.ndarray, length: float) -> np.ndarray:
    """Point ``length`` beyond ``b`` along the direction ``a -> b`` (e.g. a head top)."""
    d = b - a
    return b + length * d / np.linalg.norm(d, axis=-1, keepdims=True)
