"""The pose prior: score network, diffusion schedules, training, checkpoints, initial poses.

Submodules import torch; ``import zedo_xr`` does not import this package eagerly.
"""

from __future__ import annotations

from zedo_xr.prior.checkpoint import Prior, load_prior
from zedo_xr.prior.train import train_from_sources, train_prior

__all__ = ["Prior", "load_prior", "train_from_sources", "train_prior"]
