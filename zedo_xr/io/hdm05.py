"""Reader for the HDM05 clips converted to the 17 H36M joints (``hdm05_h36m17.npz``).

Also home of :func:`read_h36m17_npz`, the loader shared with :mod:`zedo_xr.io.cmu_iclone`: both
files store plain arrays (``poses``, ``sequence``, ``frame``, ``action``, optionally ``actor``,
``fps``) and are read without pickle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.io._common import pose_array
from zedo_xr.schema import FRAME

HDM05_LICENCE = (
    "HDM05 (Max-Planck-Institut fuer Informatik / Universitaet Bonn), Creative Commons "
    "Attribution-ShareAlike 3.0 Unported. 'The data used in this project was obtained from HDM05.' "
    "Cite M. Mueller, T. Roeder, M. Clausen, B. Eberhardt, B. Krueger, A. Weber, Documentation Mocap "
    "Database HDM05, Technical Report CG-2007-2, Universitaet Bonn, 2007. Weights trained on it "
    "are an adaptation: CC BY-SA 3.0 with this attribution."
)
HDM05_JOINTS = (
    "ASF bone ends: pelvis = root, hips = hipjoint, knees = femur, ankles = tibia, spine = "
    "upperback, thorax = thorax, neck = upperneck (skull base), head = end of the ASF head bone "
    "(only ~9 cm above the skull base, lower than H36M's head), shoulders = clavicle ends"
)
ACTION, ACTOR = "action", "actor"
_REQUIRED = ("poses", "sequence", "frame", "action", "fps")


def read_h36m17_npz(
    path: str | Path, *, source: str, licence: str, attrs: dict | None = None
) -> xr.DataArray:
    """Load a plain-array ``*_h36m17.npz`` (no pickle) as ``(frame, joint, coord)`` poses.

    Parameters
    ----------
    path
        The ``.npz`` file with ``poses (N, 17, 3)`` metres (Z up), ``sequence (N,)``,
        ``frame (N,)``, ``action (N,)``, optionally ``actor (N,)``, and the scalar ``fps``.
    source, licence, attrs
        Recorded in the DataArray's attrs.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Coords along ``frame``: ``sequence``, ``frame_in_sequence`` (index into the original
        file's frames), ``action`` and, where stored, ``actor``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"path: expected an existing .npz file, got {path}")
    with np.load(path, allow_pickle=False) as data:
        missing = [k for k in _REQUIRED if k not in data.files]
        if missing:
            raise ValueError(f"{path.name}: expected arrays {list(_REQUIRED)}, missing {missing}")
        arrays = {k: np.asarray(data[k]) for k in data.files}
    poses = arrays["poses"].astype(np.float32)
    n = len(poses)
    for key in ("sequence", "frame", "action", "actor"):
        if key in arrays and arrays[key].shape != (n,):
            raise ValueError(f"{path.name}: {key}: expected shape ({n},), got {arrays[key].shape}")
    da = pose_array(
        poses,
        fps=float(arrays["fps"]),
        source=source,
        licence=licence,
        sequence=arrays["sequence"].astype(object),
        frame_in_sequence=arrays["frame"],
        attrs=attrs,
    )
    labels = {ACTION: (FRAME, arrays["action"].astype(object))}
    if "actor" in arrays:
        labels[ACTOR] = (FRAME, arrays["actor"].astype(object))
    return da.assign_coords(labels)


def load_hdm05(path: str | Path) -> xr.DataArray:
    """Load ``hdm05_h36m17.npz``: 5 actors, 288 clips of 11 motion classes, 30 fps.

    Parameters
    ----------
    path
        The ``hdm05_h36m17.npz`` file.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Metres, Z-up world, floor near z = 0, H36M joint names (with HDM05's joint definitions,
        ``attrs["joint_definitions"]``), coords ``sequence`` (clip name), ``frame_in_sequence``
        (index into the 120 fps clip), ``action`` (HDM05 class, e.g. ``"squat1Reps"``) and
        ``actor`` (``bd``, ``bk``, ``dg``, ``mm`` or ``tr``).

    Examples
    --------
    >>> from zedo_xr.io.hdm05 import load_hdm05
    >>> da = load_hdm05("hdm05_h36m17.npz")  # doctest: +SKIP
    >>> squats = da.where(da.action == "squat1Reps", drop=True)  # doctest: +SKIP
    """
    return read_h36m17_npz(
        path,
        source=f"HDM05 cut clips as H36M-17 ({Path(path).name})",
        licence=HDM05_LICENCE,
        attrs={"joint_definitions": HDM05_JOINTS},
    )
