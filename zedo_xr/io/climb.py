"""Reader for the climbing mocap joint positions (holosoma-retargeting demo data, 53 joints)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.io._common import concat_sequences, extend, list_files, pose_array

CLIMB_LICENCE = (
    "Climbing motion-capture demo data from holosoma-retargeting 0.1.0 (Amazon FAR Team), Apache License 2.0."
)
CLIMB_FPS = 120.0
HEAD_TOP_BEYOND_HEAD = 0.10
"""Head top: metres beyond ``Head`` along ``Neck -> Head`` (the data have no head-top marker)."""

# H36M joint -> climbing joint name (by name, not index). neck (nose) = Head; head top is
# extrapolated from Neck -> Head.
CLIMB_TO_H36M: dict[str, str] = {
    "pelvis": "Hips",
    "right_hip": "RightUpLeg",
    "right_knee": "RightLeg",
    "right_ankle": "RightFoot",
    "left_hip": "LeftUpLeg",
    "left_knee": "LeftLeg",
    "left_ankle": "LeftFoot",
    "spine": "Spine1",
    "thorax": "Neck",
    "neck": "Head",
    "left_shoulder": "LeftArm",
    "left_elbow": "LeftForeArm",
    "left_wrist": "LeftHand",
    "right_shoulder": "RightArm",
    "right_elbow": "RightForeArm",
    "right_wrist": "RightHand",
}


def _find_joint_names(file: Path) -> Path:
    for folder in (file.parent, *file.parents):
        candidate = folder / "joint_names.txt"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"joint_names.txt not found beside or above {file}")


def climb_to_h36m(points: np.ndarray, names: list[str]) -> np.ndarray:
    """Map ``(T, 53, 3)`` climbing joints to ``(T, 17, 3)`` H36M joints by name."""
    from zedo_xr.skeleton import H36M_JOINTS

    index = {n: i for i, n in enumerate(names)}
    missing = sorted({v for v in CLIMB_TO_H36M.values() if v not in index})
    if missing:
        raise ValueError(f"joint_names: expected climbing joints {missing}, not found in {names}")
    out = np.empty((points.shape[0], len(H36M_JOINTS), 3), dtype=points.dtype)
    for j, name in enumerate(H36M_JOINTS):
        if name == "head":
            out[:, j] = extend(points[:, index["Neck"]], points[:, index["Head"]], HEAD_TOP_BEYOND_HEAD)
        else:
            out[:, j] = points[:, index[CLIMB_TO_H36M[name]]]
    return out


def load_climb(path_or_dir: str | Path, *, joint_names: str | Path | None = None) -> xr.DataArray:
    """Load climbing ``.npy`` joint positions as ``(frame, joint, coord)`` H36M poses.

    Parameters
    ----------
    path_or_dir
        One ``*_joint_positions_*.npy`` file or a directory searched recursively for ``*.npy``.
    joint_names
        The 53-line ``joint_names.txt``; by default the nearest one beside or above the data.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Metres, Z-up (as stored), 120 fps, coords ``sequence`` (the file's folder name, e.g.
        ``mocap_climb_seq_0``) and ``frame_in_sequence``.
    """
    files = list_files(path_or_dir, "*.npy")
    parts = []
    for file in files:
        names_file = Path(joint_names) if joint_names is not None else _find_joint_names(file)
        names = [n.strip() for n in names_file.read_text().splitlines() if n.strip()]
        points = np.load(file)  # plain float array, no pickle
        if points.ndim != 3 or points.shape[1:] != (len(names), 3):
            raise ValueError(f"{file.name}: expected shape (T, {len(names)}, 3), got {points.shape}")
        parts.append((file.parent.name, climb_to_h36m(points, names)))
    pos, seq, index = concat_sequences(parts)
    return pose_array(
        pos,
        fps=CLIMB_FPS,
        source=f"holosoma-retargeting 0.1.0 climbing mocap: {Path(path_or_dir).name}",
        licence=CLIMB_LICENCE,
        sequence=seq,
        frame_in_sequence=index,
    )
