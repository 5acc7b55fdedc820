"""Diffusion schedules as pure functions of a continuous time ``t`` in (0, 1].

Two kinds share one interface so the estimator never branches on the schedule:

``"subvp"`` (default, the paper's): the sub-VP SDE with beta rising linearly from 0.1 to 20,
``B(t) = b0 t + (b1 - b0) t^2 / 2``, marginal mean ``alpha(t) = exp(-B/2)`` and std
``sigma(t) = 1 - exp(-B)`` (no square root: the sub-VP variance is ``(1 - e^-B)^2``),
diffusion ``g^2(t) = beta(t) (1 - exp(-2 B(t)))``.

``"ddpm"``: the discrete DDPM of Ho et al. (1000 steps, linear betas 1e-4 -> 0.02). The time ``t``
maps to the step index ``n = round(1000 t) - 1`` (clamped to 0..999), and the step ``n`` is the
time ``(n + 1) / 1000``; ``alpha = sqrt(alpha_bar_n)``, ``sigma = sqrt(1 - alpha_bar_n)``.
``beta(t)`` and ``g2(t)`` return the continuous-time VP equivalents ``1000 beta_n`` so a drift step
``dx = [-beta x / 2 - g2 score] dt`` is meaningful for both kinds.

In both kinds the network predicts ``eps`` and ``score = -eps / sigma``.

Examples
--------
>>> alpha, sigma = marginal("subvp", 0.1)
>>> round(float(sigma), 4), round(float(g2("subvp", 0.1)), 4), round(float(alpha), 3)
(0.1037, 0.4111, 0.947)
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

KINDS = ("subvp", "ddpm")
BETA_MIN, BETA_MAX = 0.1, 20.0
DDPM_STEPS, DDPM_BETA_START, DDPM_BETA_END = 1000, 1e-4, 0.02


def _as_tensor(t: float | Tensor) -> Tensor:
    if isinstance(t, Tensor):
        return t if t.is_floating_point() else t.double()
    return torch.as_tensor(t, dtype=torch.float64)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind: expected one of {KINDS}, got {kind!r}")


def integral_beta(t: float | Tensor) -> Tensor:
    """Sub-VP ``B(t) = b0 t + (b1 - b0) t^2 / 2``."""
    t = _as_tensor(t)
    return BETA_MIN * t + 0.5 * (BETA_MAX - BETA_MIN) * t * t


def ddpm_betas(dtype: torch.dtype = torch.float64, device=None) -> Tensor:
    """The 1000 linear DDPM betas, shape (1000,)."""
    return torch.linspace(DDPM_BETA_START, DDPM_BETA_END, DDPM_STEPS, dtype=dtype, device=device)


def ddpm_alpha_bar(dtype: torch.dtype = torch.float64, device=None) -> Tensor:
    """Cumulative products ``prod_{i<=n} (1 - beta_i)``, shape (1000,)."""
    return torch.cumprod(1.0 - ddpm_betas(torch.float64, device), 0).to(dtype)


def ddpm_index(t: float | Tensor) -> Tensor:
    """Step index ``round(1000 t) - 1`` clamped to 0..999 (long tensor)."""
    t = _as_tensor(t)
    return (torch.round(t * DDPM_STEPS) - 1).clamp(0, DDPM_STEPS - 1).long()


def ddpm_time(index: int | Tensor) -> Tensor:
    """The continuous time ``(n + 1) / 1000`` of step ``n`` (float64)."""
    return (torch.as_tensor(index, dtype=torch.float64) + 1) / DDPM_STEPS


def _ddpm_lookup(table: Tensor, t: Tensor) -> Tensor:
    return table.to(t.device)[ddpm_index(t)].to(t.dtype)


def marginal(kind: str, t: float | Tensor) -> tuple[Tensor, Tensor]:
    """Mean coefficient and std of ``x_t | x_0``: ``x_t = alpha x_0 + sigma eps``.

    Parameters
    ----------
    kind : {"subvp", "ddpm"}
    t : float or Tensor, any shape
        Time in (0, 1]; the outputs have its shape and (floating) dtype (float64 for numbers).
    """
    _check_kind(kind)
    t = _as_tensor(t)
    if kind == "subvp":
        B = integral_beta(t)
        return torch.exp(-0.5 * B), -torch.expm1(-B)
    ab = _ddpm_lookup(ddpm_alpha_bar(), t)
    return ab.sqrt(), (1 - ab).sqrt()


def beta(kind: str, t: float | Tensor) -> Tensor:
    """Instantaneous ``beta(t)``: the drift is ``-beta(t) x / 2``."""
    _check_kind(kind)
    t = _as_tensor(t)
    if kind == "subvp":
        return BETA_MIN + t * (BETA_MAX - BETA_MIN)
    return _ddpm_lookup(ddpm_betas(), t) * DDPM_STEPS


def g2(kind: str, t: float | Tensor) -> Tensor:
    """Squared diffusion coefficient ``g(t)^2`` of the forward SDE."""
    _check_kind(kind)
    t = _as_tensor(t)
    if kind == "subvp":
        return beta(kind, t) * -torch.expm1(-2 * integral_beta(t))
    return beta(kind, t)


def x0_from_eps(kind: str, x_t: Tensor, eps: Tensor, t: float | Tensor) -> Tensor:
    """Tweedie estimate of the clean pose, ``(x_t - sigma eps) / alpha``."""
    alpha, sigma = marginal(kind, t)
    alpha = alpha.to(x_t.dtype).to(x_t.device)
    sigma = sigma.to(x_t.dtype).to(x_t.device)
    while alpha.dim() and alpha.dim() < x_t.dim():
        alpha, sigma = alpha.unsqueeze(-1), sigma.unsqueeze(-1)
    return (x_t - sigma * eps) / alpha


def ddim_step(kind: str, x_t: Tensor, eps: Tensor, t: float | Tensor, t_prev: float | Tensor) -> Tensor:
    """Deterministic DDIM update from ``t`` to ``t_prev < t`` (eta = 0).

    ``x_prev = alpha(t_prev) x0_hat + sigma(t_prev) eps`` with ``x0_hat`` the Tweedie estimate;
    works for either kind (for "ddpm" the times are snapped to their steps).
    """
    x0 = x0_from_eps(kind, x_t, eps, t)
    a_prev, s_prev = marginal(kind, t_prev)
    a_prev = a_prev.to(x_t.dtype).to(x_t.device)
    s_prev = s_prev.to(x_t.dtype).to(x_t.device)
    while a_prev.dim() and a_prev.dim() < x_t.dim():
        a_prev, s_prev = a_prev.unsqueeze(-1), s_prev.unsqueeze(-1)
    return a_prev * x0 + s_prev * eps


def ddpm_step(x_t: Tensor, eps: Tensor, index: int, noise: Tensor | None) -> Tensor:
    """Ancestral DDPM update from step ``index`` to ``index - 1`` (Ho et al., sigma^2 = beta).

    ``noise`` is a standard normal tensor like ``x_t`` (ignored at ``index == 0``).
    """
    betas, ab = ddpm_betas(), ddpm_alpha_bar()
    b, a_bar = float(betas[index]), float(ab[index])
    mean = (x_t - b / (1 - a_bar) ** 0.5 * eps) / (1 - b) ** 0.5
    if index == 0 or noise is None:
        return mean
    return mean + b**0.5 * noise
