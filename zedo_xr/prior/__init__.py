"""The pose prior: score network, diffusion schedules, training, checkpoints, initial poses.

- :class:`~zedo_xr.prior.network.ScoreNet`: the paper's MLP eps-predictor (7.2 M parameters);
  a scalar ``t`` takes the shared-time fast path.
- :mod:`~zedo_xr.prior.schedules`: ``marginal(kind, t) -> (alpha, sigma)``, ``beta``, ``g2``,
  ``ddim_step`` for ``kind`` in ``{"subvp", "ddpm"}``.
- :func:`train_prior` with a :class:`~zedo_xr.prior.config.TrainConfig`: resumable training
  (``zedo train``); :mod:`~zedo_xr.prior.augment`: pose-space augmentation;
  :mod:`~zedo_xr.prior.state`: training checkpoints and the card.
- :class:`Prior`, :func:`load_prior`: ``load_prior("default")`` is bundled (CMU train +
  DeepMimic + climbing, permissive licences; see its ``card``).
- :mod:`~zedo_xr.prior.hypotheses`: k-means initial poses in the canonical frame.
- :mod:`~zedo_xr.prior.quality`: held-out denoising error and sample statistics.

Submodules import torch; ``import zedo_xr`` does not import this package eagerly.
"""

from __future__ import annotations

from zedo_xr.prior.checkpoint import Prior, load_prior
from zedo_xr.prior.config import TrainConfig
from zedo_xr.prior.train import train_prior

__all__ = ["Prior", "TrainConfig", "load_prior", "train_prior"]
