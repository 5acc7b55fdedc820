"""Reader for CMU subjects 01-07 retargeted to one avatar (``cmu_iclone_h36m17.npz``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.io.hdm05 import ACTOR, read_h36m17_npz
from zedo_xr.schema import FRAME

CMU_ICLONE_LICENCE = (
    "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu), subjects 01-07 as retargeted "
    "by DragonForgedTheArtist/IClone-CMU-Mocap: free for research use; may be included in "
    "commercially-sold products but not resold directly, even converted. Acknowledgement: 'The "
    "data used in this project was obtained from mocap.cs.cmu.edu. The database was created with "
    "funding from NSF EIA-0196217.'"
)
CMU_ICLONE_JOINTS = (
    "one Reallusion avatar's proportions for every clip: pelvis = CC_Base_Hip, spine = Spine02 "
    "(~0.26 m above the pelvis), thorax = NeckTwist01, neck = Head joint (skull base), head = "
    "Head joint + 16 cm along the skull's up axis"
)


def load_cmu_iclone(path: str | Path) -> xr.DataArray:
    """Load ``cmu_iclone_h36m17.npz``: 61 CMU trials of subjects 01-07, 30 fps.

    Parameters
    ----------
    path
        The ``cmu_iclone_h36m17.npz`` file.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Metres, Z-up world, H36M joint names (this avatar's joint definitions,
        ``attrs["joint_definitions"]``), coords ``sequence`` (CMU trial id, e.g. ``"01_08"``;
        its first two digits are the subject), ``frame_in_sequence`` (index into the 60 fps
        trial), ``action`` (CMU's description) and ``actor`` (the CMU subject, e.g. ``"01"``).

    Examples
    --------
    >>> from zedo_xr.io.cmu_iclone import load_cmu_iclone
    >>> da = load_cmu_iclone("cmu_iclone_h36m17.npz")  # doctest: +SKIP
    >>> sitting = da.where(da.sequence == "01_08", drop=True)  # doctest: +SKIP
    """
    da = read_h36m17_npz(
        path,
        source=f"CMU mocap subjects 01-07 (IClone retarget) as H36M-17 ({Path(path).name})",
        licence=CMU_ICLONE_LICENCE,
        attrs={"joint_definitions": CMU_ICLONE_JOINTS},
    )
    subject = np.array([str(s).split("_")[0] for s in da["sequence"].values], dtype=object)
    return da.assign_coords({ACTOR: (FRAME, subject)})
