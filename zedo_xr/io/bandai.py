"""Reader for the Bandai-Namco research motion dataset (BVH, cm, Y-up) as H36M poses.

The data are CC BY-NC 4.0 (non-commercial): read them from the development data folder only
(CONTRIBUTING.md); nothing derived from them may be committed or shipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.io._common import concat_sequences, list_files, pose_array, y_up_to_z_up
from zedo_xr.io.bvh import BVH, read_bvh

BANDAI_LICENCE = (
    "Bandai-Namco-Research-Motiondataset-1 (c) 2022 Bandai Namco Research Inc., licensed under "
    "CC BY-NC 4.0 (https://creativecommons.org/licenses/by-nc/4.0/): non-commercial use only. "
    "Source: https://github.com/BandaiNamcoResearchInc/Bandai-Namco-Research-Motiondataset. "
    "Cite: M. Kobayashi et al., Motion Capture Dataset for Practical Use of AI-based Motion "
    "Editing and Stylization, arXiv:2306.08861, 2023."
)
CM = 0.01
NOSE_ALONG_HEAD = 0.06
"""Neck/nose: metres from ``Head`` along the head's local +X (bone) axis."""
HEAD_TOP_ALONG_HEAD = 0.17
"""Head top: metres from ``Head`` along its local +X (thorax -> head top about 0.236 m)."""

# H36M joint -> Bandai joint(s); several names are averaged.
BANDAI_TO_H36M: dict[str, tuple[str, ...]] = {
    "pelvis": ("UpperLeg_L", "UpperLeg_R"),  # hip-joint midpoint, as H36M's pelvis
    "right_hip": ("UpperLeg_R",),
    "right_knee": ("LowerLeg_R",),
    "right_ankle": ("Foot_R",),
    "left_hip": ("UpperLeg_L",),
    "left_knee": ("LowerLeg_L",),
    "left_ankle": ("Foot_L",),
    "spine": ("Spine", "Chest"),  # 202 mm above Hips, closer to H36M's 233 than Spine alone
    "thorax": ("Neck",),
    "left_shoulder": ("UpperArm_L",),
    "left_elbow": ("LowerArm_L",),
    "left_wrist": ("Hand_L",),
    "right_shoulder": ("UpperArm_R",),
    "right_elbow": ("LowerArm_R",),
    "right_wrist": ("Hand_R",),
}


def bandai_to_h36m(bvh: BVH) -> np.ndarray:
    """Forward kinematics of a Bandai BVH to ``(T, 17, 3)`` H36M joints, metres, **Y-up**."""
    from zedo_xr.skeleton import H36M_JOINTS

    positions, rotations = bvh.forward_kinematics()
    out = np.empty((bvh.n_frames, len(H36M_JOINTS), 3))
    head = bvh.index("Head")
    head_axis = rotations[:, head, :, 0]  # the head's local +X in world axes
    for j, name in enumerate(H36M_JOINTS):
        if name == "neck":
            out[:, j] = positions[:, head] + NOSE_ALONG_HEAD / CM * head_axis
        elif name == "head":
            out[:, j] = positions[:, head] + HEAD_TOP_ALONG_HEAD / CM * head_axis
        else:
            idx = [bvh.index(s) for s in BANDAI_TO_H36M[name]]
            out[:, j] = positions[:, idx].mean(axis=1)
    return out * CM


def load_bandai(path_or_dir: str | Path) -> xr.DataArray:
    """Load Bandai-Namco BVH file(s) as ``(frame, joint, coord)`` H36M poses, metres, Z-up.

    Parameters
    ----------
    path_or_dir
        One ``.bvh`` file or a directory searched recursively for ``*.bvh``.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Coords ``sequence`` (file stem) and ``frame_in_sequence``; ``attrs["fps"]`` from the
        files' ``Frame Time`` (30). Licence CC BY-NC 4.0: do not redistribute derived data.
    """
    parts, rates = [], set()
    for file in list_files(path_or_dir, "*.bvh"):
        bvh = read_bvh(file)
        rates.add(round(bvh.fps, 3))
        parts.append((file.stem, y_up_to_z_up(bandai_to_h36m(bvh))))
    if len(rates) != 1:
        raise ValueError(f"fps: expected one frame rate in all files, got {sorted(rates)}")
    pos, names, index = concat_sequences(parts)
    return pose_array(
        pos,
        fps=rates.pop(),
        source=f"Bandai-Namco-Research-Motiondataset-1 BVH: {Path(path_or_dir).name}",
        licence=BANDAI_LICENCE,
        sequence=names,
        frame_in_sequence=index,
    )
