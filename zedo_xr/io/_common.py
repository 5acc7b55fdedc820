"""Shared helpers of the readers: DataArray construction, sequence concatenation, file lists.

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

from zedo_xr.schema import FRAME, SchemaError, labels, pose_dataarray

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
    """Wrap ``(frame, 17, 3)`` metres as the readers' DataArray.

    :func:`zedo_xr.schema.pose_dataarray` builds the array; this adds the readers' provenance
    (``source``, ``licence``, ``up_axis``) and where each frame came from.
    """
    provenance = {"up_axis": "z", "source": source, "licence": licence, **(attrs or {})}
    da = pose_dataarray(positions, fps=fps, name=name, attrs=provenance)
    coords: dict[str, Any] = {}
    if sequence is not None:
        coords[SEQUENCE] = (FRAME, labels(sequence))
    if frame_in_sequence is not None:
        coords[FRAME_IN_SEQUENCE] = (FRAME, np.asarray(frame_in_sequence, dtype=np.int64))
    if time is not None:
        coords[TIME] = (FRAME, np.asarray(time, dtype=np.float64), {"units": "s"})
    return da.assign_coords(coords)


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


def extend(a: np.ndarray, b: np.ndarray, length: float) -> np.ndarray:
    """Point ``length`` beyond ``b`` along the direction ``a -> b`` (e.g. a head top)."""
    d = b - a
    return b + length * d / np.linalg.norm(d, axis=-1, keepdims=True)
