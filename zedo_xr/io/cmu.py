"""Reader for the CMU mocap subset converted to the 17 H36M joints (``cmu_h36m17.npz``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.io._common import concat_sequences, pose_array

CMU_LICENCE = (
    "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu): free for research use; may be "
    "included in commercially-sold products but not resold directly, even converted. "
    "Acknowledgement: 'The data used in this project was obtained from mocap.cs.cmu.edu.' "
    "Subset and exp-map files from Li et al., CVPR 2018 (MIT licence, (c) 2018 Li Chen)."
)


def load_cmu(path: str | Path, split: str = "train", *, valid_only: bool = True) -> xr.DataArray:
    """Load one split of ``cmu_h36m17.npz`` as ``(frame, joint, coord)`` poses.

    Parameters
    ----------
    path
        The ``cmu_h36m17.npz`` file (a trusted shared file storing pickled dicts).
    split
        ``"train"`` or ``"test"``.
    valid_only
        Drop frames flagged as source glitches by the file's ``valid`` mask.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Metres, Z-up world, H36M joints, 120 fps. Non-index coords ``sequence`` (e.g.
        ``"walking/walking_1"``) and ``frame_in_sequence`` (index in the original sequence,
        so dropped frames leave gaps).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    # The shared file stores dicts as pickled objects (like VideoPose3D); it is trusted data.
    with np.load(path, allow_pickle=True) as data:
        positions = data["positions_3d"].item()[split]
        fps = data["fps"].item()[split]
        valid = data["valid"].item()[split]
    parts, index = [], []
    rates = set()
    for name in sorted(positions):
        pos = np.asarray(positions[name])
        keep = np.asarray(valid[name], dtype=bool) if valid_only else np.ones(len(pos), bool)
        parts.append((name, pos[keep]))
        index.append(np.flatnonzero(keep))
        rates.add(float(fps[name]))
    if len(rates) != 1:
        raise ValueError(f"fps: expected one frame rate for all CMU sequences, got {sorted(rates)}")
    pos, names, frame_index = concat_sequences(parts, index)
    return pose_array(
        pos,
        fps=rates.pop(),
        source=f"CMU mocap subset as H36M-17 ({Path(path).name}, split {split})",
        licence=CMU_LICENCE,
        sequence=names,
        frame_in_sequence=frame_index,
        attrs={"split": split, "valid_only": int(valid_only)},
    )
