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

Robust weights (``robust=``): a 2D detector is sometimes plainly wrong (a swapped wrist, a joint
50 px off). Pulling such a joint onto its ray drags the whole pose, because the translation and
the prior follow it. With ``"geman_mcclure"`` or ``"huber"`` every iteration re-weights each
visible joint by its current pixel residual (iteratively re-weighted least squares): a joint
whose residual is far above the frame's typical residual moves only part of the way onto its ray
and counts less in the translation, so the prior decides where it goes. The scale is relative
(``robust_scale`` times the frame's median residual, at least ``robust_min_px``) because early
iterations have large residuals everywhere and pixel noise differs between detectors.

A ``constraint(x, T, i) -> (x, T)`` hook runs after every denoising step; sequence lifting
(:mod:`zedo_xr.estimator.sequence`) uses it for temporal smoothness and shared bone lengths.
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
from zedo_xr.estimator.settings import ROBUST_LOSSES, LoopSettings
from zedo_xr.estimator.settings import STEP_RULES as STEP_NAMES

__all__ = [
    "STEP_RULES",
    "LoopSettings",
    "optimize",
    "parity_step",
    "register_step_rule",
    "robust_weights",
    "time_grid",
    "tweedie_step",
]

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


def register_step_rule(name: str, rule: StepRule) -> None:
    """Make ``rule`` usable as ``LoopSettings(step=name)`` (idempotent).

    The one way to add a step rule: it registers the function here and its name where the
    torch-free settings validate ``step`` (the paper's DDIM / DDPM rows use it).
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name: expected a non-empty string, got {name!r}")
    if not callable(rule):
        raise ValueError(f"rule: expected a function (prior, x, t, step_size) -> x, got {rule!r}")
    STEP_RULES[name] = rule
    if name not in STEP_NAMES:
        STEP_NAMES.append(name)


if set(ROBUST_LOSSES) != {"none", "huber", "geman_mcclure"}:  # the weights below implement these
    raise ImportError(f"robust losses {ROBUST_LOSSES} differ from the implemented ones")

Constraint = Callable[[Tensor, Tensor, int], tuple[Tensor, Tensor]]


def robust_weights(
    residual: Tensor,
    visible: Tensor,
    *,
    loss: str = "geman_mcclure",
    scale: float = 8.0,
    min_px: float = 25.0,
) -> Tensor:
    """IRLS weights in [0, 1] of per-joint pixel residuals, shape (B, J).

    Parameters
    ----------
    residual : Tensor, shape (B, J)
        Pixel distance between each joint's projection and its keypoint.
    visible : Tensor of bool, shape (B, J)
        Joints with a keypoint; the others get weight 0.
    loss : {"none", "huber", "geman_mcclure"}
        ``huber``: ``min(1, c / r)``; ``geman_mcclure``: ``(c^2 / (c^2 + r^2))^2`` (a 3c
        outlier keeps 1 % of its weight, a 1c residual 25 %); ``none``: 1.
    scale : float
        ``c`` in multiples of the frame's median residual over its visible joints.
    min_px : float
        Lower bound on ``c`` in pixels (keypoint noise never counts as an outlier).

    Examples
    --------
    >>> r = torch.tensor([[2.0, 3.0, 2.5, 100.0]])
    >>> w = robust_weights(r, torch.ones(1, 4, dtype=torch.bool))
    >>> bool(w[0, :3].min() > 0.75), bool(w[0, 3] < 0.02)
    (True, True)
    """
    if loss not in ROBUST_LOSSES:
        raise ValueError(f"robust: expected one of {ROBUST_LOSSES}, got {loss!r}")
    ones = visible.to(residual.dtype)
    if loss == "none":
        return ones
    masked = torch.where(visible, residual, torch.full_like(residual, float("nan")))
    typical = masked.nanmedian(dim=-1, keepdim=True).values.nan_to_num(0.0)
    c = (scale * typical).clamp_min(min_px)
    r = torch.where(visible, residual, torch.zeros_like(residual))
    huber = (c / r.clamp_min(1e-9)).clamp_max(1.0)
    return (huber if loss == "huber" else (c * c / (c * c + r * r)) ** 2) * ones


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
    constraint: Constraint | None = None,
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
    constraint : callable, optional
        ``constraint(x, T, i) -> (x, T)`` applied after every denoising step (e.g. temporal
        smoothness and bone lengths across the frames of a sequence).

    Returns
    -------
    dict with
        ``pose`` (B, J, 3): absolute camera-frame pose, metres;
        ``relative`` (B, J, 3): the root-relative pose the prior last saw;
        ``translation`` (B, 3);
        ``reprojection_error`` (B,): mean pixel error over visible joints of the last denoised
        pose (before any final projection, so it ranks hypotheses);
        ``residual`` (B,): RMS of the prior's noise prediction at ``t_min`` on the last pose,
        a plausibility score (lower is more typical);
        ``joint_weight`` (B, J): the robust weight of each joint in the last iteration (1 without
        robust weights, 0 at missing joints).
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
    robust = settings.robust != "none"
    pull = visible.to(pose.dtype)

    x, T = pose, translation
    for i in range(settings.iterations):
        t = ts[i]
        if robust:
            pull = _robust_pull(x, T, uv_safe, K, visible, settings)
        if i >= n_warmup:
            T = solve_translation(x, normalized, weights * pull, fallback=T)
        q = x + T.unsqueeze(-2)
        on_ray = project_onto_rays(q, unit_rays)
        x = torch.where(mask, q + pull.unsqueeze(-1) * (on_ray - q), q) - T.unsqueeze(-2)
        x = rule(prior, x, t, settings.step_size)
        if constraint is not None:
            x, T = constraint(x, T, i)
        if callback is not None:
            callback({"i": i, "t": t, "x": x, "translation": T})

    if robust:
        pull = _robust_pull(x, T, uv_safe, K, visible, settings)
    T = solve_translation(x, normalized, weights * pull, fallback=T)
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
        "joint_weight": pull,
    }


def _robust_pull(
    x: Tensor, T: Tensor, uv: Tensor, K: Tensor, visible: Tensor, settings: LoopSettings
) -> Tensor:
    """Robust weight (B, J) of each joint from its current pixel residual."""
    residual = (project(x + T.unsqueeze(-2), K) - uv).norm(dim=-1)
    return robust_weights(
        residual, visible, loss=settings.robust, scale=settings.robust_scale, min_px=settings.robust_min_px
    )
