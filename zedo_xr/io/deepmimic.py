"""Reader for DeepMimic motion clips (JSON keyframes) via forward kinematics of ``humanoid.urdf``.

Clips are Y-up with the character facing +X (right side +Z). They are rotated to the Z-up world
with :data:`~zedo_xr.io._common.Y_UP_TO_Z_UP` (a proper rotation), so the character faces +X with
its right side at -Y.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.camera import axis_rotation, on_numpy, quaternion_matrix
from zedo_xr.io._common import concat_sequences, list_files, pose_array, y_up_to_z_up

DEEPMIMIC_LICENCE = (
    "Motion clips and humanoid URDF from pybullet 3.2.7 (Bullet Physics SDK, Erwin Coumans et al., "
    "zlib licence), originally from DeepMimic: X. B. Peng, P. Abbeel, S. Levine, M. van de Panne, "
    "'DeepMimic: Example-Guided Deep Reinforcement Learning of Physics-Based Character Skills', "
    "ACM Transactions on Graphics (SIGGRAPH) 2018."
)

URDF_SCALE = 0.25
"""pybullet loads ``humanoid.urdf`` with ``globalScaling=0.25``: URDF units / 4 = metres."""

# Joint offsets in metres in the parent frame (URDF origin xyz / 4), used when no URDF is given.
DEFAULT_OFFSETS: dict[str, tuple[float, float, float]] = {
    "chest": (0.0, 0.236151, 0.0),
    "neck": (0.0, 0.223894, 0.0),
    "right_hip": (0.0, 0.0, 0.084887),
    "left_hip": (0.0, 0.0, -0.084887),
    "right_knee": (0.0, -0.421546, 0.0),
    "left_knee": (0.0, -0.421546, 0.0),
    "right_ankle": (0.0, -0.40987, 0.0),
    "left_ankle": (0.0, -0.40987, 0.0),
    "right_shoulder": (-0.02405, 0.2435, 0.18311),
    "left_shoulder": (-0.02405, 0.2435, -0.18311),
    "right_elbow": (0.0, -0.274788, 0.0),
    "left_elbow": (0.0, -0.274788, 0.0),
    "right_wrist": (0.0, -0.258947, 0.0),
    "left_wrist": (0.0, -0.258947, 0.0),
}

# H36M neck/nose and head top: points in the neck link frame (metres; see the data README).
NOSE_IN_NECK = (0.0, 0.12, 0.0)
HEAD_TOP_IN_NECK = (0.0, 0.235, 0.0)

# Slices of the 44 floats of a keyframe.
_ROOT_POS, _ROOT_ROT, _CHEST, _NECK = slice(1, 4), slice(4, 8), slice(8, 12), slice(12, 16)
# side: (hip quat, knee angle, ankle quat (unused: no H36M joint below), shoulder quat, elbow)
_LIMBS = {
    "right": (slice(16, 20), 20, slice(21, 25), slice(25, 29), 29),
    "left": (slice(30, 34), 34, slice(35, 39), slice(39, 43), 43),
}


def _quaternions(q: np.ndarray) -> np.ndarray:
    """``(T, 4)`` keyframe quaternions, **w** first as DeepMimic stores them, to ``(T, 3, 3)``."""
    return on_numpy(quaternion_matrix, q)


def read_urdf_offsets(urdf: str | Path, scale: float = URDF_SCALE) -> dict[str, np.ndarray]:
    """Joint origins of a URDF (``{joint name: xyz * scale}``), in the parent link frame."""
    # pybullet's humanoid.urdf ends with a NUL byte, which the XML parser rejects.
    root = ET.fromstring(Path(urdf).read_bytes().replace(b"\x00", b""))
    offsets = {}
    for joint in root.iter("joint"):
        origin = joint.find("origin")
        xyz = origin.get("xyz", "0 0 0") if origin is not None else "0 0 0"
        offsets[joint.get("name", "")] = np.array(xyz.split(), dtype=float) * scale
    missing = sorted(set(DEFAULT_OFFSETS) - set(offsets))
    if missing:
        raise ValueError(f"urdf: {urdf} lacks the humanoid joints {missing}")
    return offsets


def deepmimic_fk(frames: np.ndarray, offsets: dict[str, np.ndarray] | None = None) -> np.ndarray:
    """Forward kinematics of DeepMimic keyframes to the 17 H36M joints, Y-up as stored.

    Parameters
    ----------
    frames : ndarray, shape (T, 44)
        Keyframes as in the clip files (duration, root position, quaternions w-first, angles).
    offsets
        Joint offsets in metres (:func:`read_urdf_offsets`); default :data:`DEFAULT_OFFSETS`.

    Returns
    -------
    ndarray, shape (T, 17, 3)
        Metres in the clip's own Y-up frame.
    """
    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != 44:
        raise ValueError(f"frames: expected shape (T, 44), got {f.shape}")
    off = {k: np.asarray(v, float) for k, v in (offsets or DEFAULT_OFFSETS).items()}

    def child(p, R, name):  # p_child = p_parent + R_parent . offset_child
        return p + R @ off[name]

    root = f[:, _ROOT_POS]
    R_root = _quaternions(f[:, _ROOT_ROT])
    chest = child(root, R_root, "chest")
    R_chest = R_root @ _quaternions(f[:, _CHEST])
    neck = child(chest, R_chest, "neck")
    R_neck = R_chest @ _quaternions(f[:, _NECK])
    nose = neck + R_neck @ np.array(NOSE_IN_NECK)
    head_top = neck + R_neck @ np.array(HEAD_TOP_IN_NECK)
    legs, arms = {}, {}
    for side, (hip_q, knee_a, _ankle_q, shoulder_q, elbow_a) in _LIMBS.items():
        hip = child(root, R_root, f"{side}_hip")
        R_hip = R_root @ _quaternions(f[:, hip_q])
        knee = child(hip, R_hip, f"{side}_knee")
        R_knee = R_hip @ on_numpy(axis_rotation, "z", f[:, knee_a])
        ankle = child(knee, R_knee, f"{side}_ankle")
        legs[side] = (hip, knee, ankle)
        shoulder = child(chest, R_chest, f"{side}_shoulder")
        R_shoulder = R_chest @ _quaternions(f[:, shoulder_q])
        elbow = child(shoulder, R_shoulder, f"{side}_elbow")
        R_elbow = R_shoulder @ on_numpy(axis_rotation, "z", f[:, elbow_a])
        wrist = child(elbow, R_elbow, f"{side}_wrist")
        arms[side] = (shoulder, elbow, wrist)
    joints = [
        root, *legs["right"], *legs["left"], chest, neck, nose, head_top,
        *arms["left"], *arms["right"],
    ]  # fmt: skip
    return np.stack(joints, axis=1)


def _rate(durations: np.ndarray) -> float:
    """Dominant frame rate of keyframe durations (the last key has duration 0)."""
    d = durations[durations > 0]
    if d.size == 0:
        raise ValueError("Frames: no keyframe has a positive duration; cannot infer fps")
    values, counts = np.unique(np.round(d, 4), return_counts=True)
    fps = 1.0 / values[np.argmax(counts)]
    nearest = round(fps)
    # Stored durations are rounded (0.033332, 0.0417): snap to the integer rate they stand for.
    return float(nearest) if abs(fps - nearest) < 0.005 * nearest else float(fps)


def load_deepmimic(path_or_dir: str | Path, *, urdf: str | Path | None = None) -> xr.DataArray:
    """Load DeepMimic clip(s) as ``(frame, joint, coord)`` H36M poses, metres, Z-up.

    Parameters
    ----------
    path_or_dir
        A clip file (JSON ``{"Loop", "Frames"}``) or a directory searched recursively for
        ``*.txt`` clips (concatenated in sorted order).
    urdf
        ``humanoid.urdf`` to read the joint offsets from (scaled by 0.25). Default: the
        offsets of pybullet's humanoid (:data:`DEFAULT_OFFSETS`).

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Non-index coords ``sequence`` (clip path relative to the directory, without suffix),
        ``frame_in_sequence`` and ``time`` (seconds from the clip start, from the keyframe
        durations). ``attrs["fps"]`` is the dominant rate over all frames;
        ``attrs["fps_per_sequence"]`` a JSON object of each clip's rate.
    """
    base = Path(path_or_dir)
    files = list_files(base, "*.txt")
    offsets = read_urdf_offsets(urdf) if urdf is not None else None
    parts, times, rates = [], [], {}
    for file in files:
        clip = json.loads(file.read_text())
        frames = np.asarray(clip["Frames"], dtype=np.float64)
        name = (file.relative_to(base) if base.is_dir() else Path(file.name)).with_suffix("")
        durations = frames[:, 0]
        parts.append((name.as_posix(), y_up_to_z_up(deepmimic_fk(frames, offsets))))
        times.append(np.concatenate([[0.0], np.cumsum(durations[:-1])]))
        rates[name.as_posix()] = _rate(durations)
    pos, names, index = concat_sequences(parts)
    per_frame_rate = np.array([rates[n] for n in names])
    values, counts = np.unique(per_frame_rate, return_counts=True)
    return pose_array(
        pos,
        fps=float(values[np.argmax(counts)]),
        source=f"DeepMimic clips (pybullet 3.2.7): {base.name}",
        licence=DEEPMIMIC_LICENCE,
        sequence=names,
        frame_in_sequence=index,
        time=np.concatenate(times),
        attrs={"fps_per_sequence": json.dumps(rates)},
    )
