"""zedo-xr: zero-shot 2D-to-3D human pose lifting with a diffusion prior, for xarray.

Importing the package registers the ``zedo`` accessor on Datasets. Heavy modules (torch, the
prior, plotting) load on first use, so ``import zedo_xr`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

from zedo_xr import accessor as _accessor  # noqa: F401  (registers ds.zedo)
from zedo_xr._version import __version__
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.schema import H36M_JOINTS, SchemaError, pose_dataarray

_LAZY = {
    "lift": "zedo_xr.estimator.driver",
    "evaluate": "zedo_xr.metrics",
    "train_prior": "zedo_xr.prior.train",
    "load_prior": "zedo_xr.prior.checkpoint",
    "Prior": "zedo_xr.prior.checkpoint",
    "plot": "zedo_xr.viz",
    "widget": "zedo_xr.viz",
    "write_html": "zedo_xr.viz",
    "to_zarr": "zedo_xr.io.store",
    "open_zarr": "zedo_xr.io.store",
}

__all__ = [
    "H36M_JOINTS",
    "Prior",
    "SchemaError",
    "__version__",
    "evaluate",
    "keypoints_dataset",
    "lift",
    "load_prior",
    "open_zarr",
    "plot",
    "pose_dataarray",
    "to_zarr",
    "train_prior",
    "widget",
    "write_html",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'zedo_xr' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
