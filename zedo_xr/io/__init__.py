"""Readers and writers: mocap sources, VideoPose3D npz, BVH, COCO/OpenPose JSON, movement, zarr.

Every 3D reader returns a DataArray ``(frame, joint, coord)`` in metres, Z-up world, H36M joint
names, with attrs ``fps``, ``source`` and ``licence``. Submodules load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "load_cmu": "zedo_xr.io.cmu",
    "load_deepmimic": "zedo_xr.io.deepmimic",
    "load_climb": "zedo_xr.io.climb",
    "load_hdm05": "zedo_xr.io.hdm05",
    "load_cmu_iclone": "zedo_xr.io.cmu_iclone",
    "read_bvh": "zedo_xr.io.bvh",
    "BVH": "zedo_xr.io.bvh",
    "load_bandai": "zedo_xr.io.bandai",
    "load_videopose3d_3d": "zedo_xr.io.videopose3d",
    "load_videopose3d_2d": "zedo_xr.io.videopose3d",
    "save_videopose3d": "zedo_xr.io.videopose3d",
    "load_coco_keypoints": "zedo_xr.io.detections",
    "load_openpose": "zedo_xr.io.detections",
    "from_movement": "zedo_xr.io.movement_interop",
    "to_movement": "zedo_xr.io.movement_interop",
    "to_zarr": "zedo_xr.io.store",
    "open_zarr": "zedo_xr.io.store",
    "ChunkedZarrWriter": "zedo_xr.io.store",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zedo_xr.io' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
