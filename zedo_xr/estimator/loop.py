"""The ZeDO optimisation loop (paper Alg. 1) on plain tensors.

Each iteration: (after the warm-up) solve the translation in closed form from the current pose,
move every visible joint onto its camera ray, then take one denoising step of the prior at a time
``t`` that falls from ``t_max`` to ``t_min``. Missing joints (confidence 0) are never pulled onto
a ray and do not enter the translation: the prior fills them in.

Step rules (``step=``) share one signature, ``rule(prior, x, t) -> x``:

* ``"parity"``: the official update, the reverse-SDE drift with the *full* ``g^2`` and a fixed
  ``dt = 1/1000`` regardless of the actual time decrement:
  ``x <- (1 + beta(t) dt / 2) x - dt g^2(t) / sigma(t) eps(x, t)``.
* ``"tweedie"``: jump to the prior's denoised estimate at noise level ``sigma(t)``,
  ``x <- x - gamma sigma(t) eps(x, t)`` (``gamma`` = ``step_size``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import torch

from zedo_xr.camera import (
    normalized_coordinates,
    project,
    project_onto_rays,
    rays,
    solve_translation,
)
from zedo_xr.estimator.settings import STEP_RULES as STEP_NAMES
from zedo_xr.estimator.settings import LoopSettings

__all__ = ["STEP_RULES", "LoopSettings", "optimize", "parity_step", "time_grid", "tweedie_step"]

Tensor = torch.Tensor


class PriorLike(Protocol):
    """What the loop needs from a prior (see :class:`zedo_xr.prior.checkpoint.Prior`)."""

    def eps(self, x: Tensor, t: Tensor) -> Tensor: ...

    def marginal(self, t: Tensor) -> tuple[Tensor, Tensor]: ...

    def beta(self, t: Tensor) -> Tensor: ...

    def g2(self, t: Tensor) -> Tensor: ...


StepRule = Callable[[PriorLike, Tensor, Tensor, float], Tensor]


def parity_step(prior: PriorLike, x: Tensor, t: Tensor, step_size: float = 1e-3) -> Tensor:
    """The official denoising update (see module docstring); ``step_size`` is ``dt``."""
    eps = prior.eps(x, t)
    _, sigma = prior.marginal(t)
    return (1 + 0.5 * prior.beta(t) * step_size) * x - step_size * prior.g2(t) / sigma * eps


def tweedie_step(prior: PriorLike, x: Tensor, t: Tensor, step_size: float = 1.0) -> Tensor:
    """Move ``step_size`` of the way to the denoised estimate ``x - sigma(t) eps(x, t)``."""
    eps = prior.eps(x, t)
    _, sigma = prior.marginal(t)
    return x - step_size * sigma * eps


STEP_RULES: dict[str, StepRule] = {"parity": parity_step, "tweedie": tweedie_step}
if set(STEP_RULES) != set(STEP_NAMES):  # the torch-free settings validate against STEP_NAMES
    raise ImportError(f"step rules {sorted(STEP_RULES)} differ from settings' {sorted(STEP_NAMES)}")


DEFAULT_LOOP = LoopSettings()


def time_grid(settings: LoopSettings, device: torch.device, dtype: torch.dtype) -> Tensor:
    """Diffusion times of the iterations, shape (iterations,)."""
    return torch.linspace(settings.t_max, settings.t_min, settings.iterations, device=device, dtype=dtype)


def optimize(
    prior: PriorLike,
    pose: Tensor,
    translation: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    settings: LoopSettings = DEFAULT_LOOP,
    *,
    callback: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Tensor]:
    """Run the ZeDO loop from an initial pose.

    Parameters
    ----------
    prior : PriorLike
        The pose prior (already on the tensors' device and dtype).
    pose : Tensor, shape (B, J, 3)
        Initial root-relative pose, camera axes, metres.
    translation : Tensor, shape (B, 3)
        Initial camera-frame pelvis position (kept during the warm-up).
    uv : Tensor, shape (B, J, 2)
        Keypoints in pixels; values at joints with confidence 0 are ignored (NaN is fine).
    confidence : Tensor, shape (B, J)
        In [0, 1]; 0 marks a missing joint.
    K : Tensor, shape (B, 3, 3)
        Intrinsics.
    settings : LoopSettings
    callback : callable, optional
        Called as ``callback({"i": i, "t": t, "x": x, "translation": T})`` after every iteration
        (k-diffusion style). Leave it out for speed: it forces nothing to the host itself.

    Returns
    -------
    dict with
        ``pose`` (B, J, 3): absolute camera-frame pose, metres;
        ``relative`` (B, J, 3): the root-relative pose the prior last saw;
        ``translation`` (B, 3);
        ``reprojection_error`` (B,): mean pixel error over visible joints of the last denoised
        pose (before any final projection, so it ranks hypotheses);
        ``residual`` (B,): RMS of the prior's noise prediction at ``t_min`` on the last pose,
        a plausibility score (lower is more typical).
    """
    visible = confidence > 0
    weights = torch.where(visible, confidence.clamp(0, 1), torch.zeros_like(confidence))
    weights = weights**settings.translation_power
    uv_safe = torch.where(visible.unsqueeze(-1), uv, torch.zeros_like(uv))
    normalized = normalized_coordinates(uv_safe, K)
    unit_rays = rays(uv_safe, K)
    mask = visible.unsqueeze(-1)
    rule = STEP_RULES[settings.step]
    ts = time_grid(settings, pose.device, pose.dtype)
    n_warmup = round(settings.warmup * settings.iterations)

    x, T = pose, translation
    for i in range(settings.iterations):
        t = ts[i]
        if i >= n_warmup:
            T = solve_translation(x, normalized, weights, fallback=T)
        q = x + T.unsqueeze(-2)
        x = torch.where(mask, project_onto_rays(q, unit_rays), q) - T.unsqueeze(-2)
        x = rule(prior, x, t, settings.step_size)
        if callback is not None:
            callback({"i": i, "t": t, "x": x, "translation": T})

    T = solve_translation(x, normalized, weights, fallback=T)
    absolute = x + T.unsqueeze(-2)
    reproj = (project(absolute, K) - uv_safe).norm(dim=-1)
    n_visible = visible.sum(-1).clamp_min(1)
    reprojection_error = torch.where(visible, reproj, torch.zeros_like(reproj)).sum(-1) / n_visible
    residual = prior.eps(x, ts[-1]).pow(2).mean((-1, -2)).sqrt()
    if settings.final_projection:
        absolute = torch.where(mask, project_onto_rays(absolute, unit_rays), absolute)
    return {
        "pose": absolute,
        "relative": x,
        "translation": T,
        "reprojection_error": reprojection_error,
        "residual": residual,
    }
