"""Choosing one hypothesis per frame without ground truth.

Every rule maps per-hypothesis evidence to a score of shape (F, S) where lower is better; the
chosen hypothesis is the argmin. Rules:

* ``"reprojection"``: mean pixel error of the last denoised pose (before any final projection).
* ``"residual"``: RMS of the prior's noise prediction on the final pose: how typical it looks.
* ``"consensus"``: mean root-relative distance to the other hypotheses (the medoid wins).
* ``"combined"``: the sum of the three scores, each divided by its per-frame median, so none
  dominates by units.
* ``"denoising"``: the pose's denoising energy (:func:`denoising_energy`, the prior's
  score-matching loss averaged over several noise levels, a variational bound on its negative
  log-likelihood up to constants) plus the reprojection error, each divided by its per-frame
  median. Measured on test sets the priors never trained on
  (``benchmarks/results/generalization_select*.md``) it is mixed: with the fully trained
  bundled prior it is far *worse* than one hypothesis (it prefers shrunken or degenerate poses
  that the prior finds typical and that fit the image), with briefly trained priors slightly
  better than one hypothesis.
* ``"size"``: consensus plus what the prior knows about people's size: the squared log ratio
  of the pose's summed bone length to the median of the prior's training poses
  (:func:`size_score`), in units of :data:`SIZE_SPREAD`. It rejects the shrunken,
  close-to-camera and overgrown hypotheses that the 2D evidence cannot tell apart from the
  right one. A prior without stored training poses has no typical size: then the consensus
  alone decides.
* ``"fit"``: ``"size"`` among the hypotheses that fit the image: only those whose reprojection
  error is at most the frame's median compete, and consensus is measured among them
  (:func:`fit_consensus_score`). Best with briefly trained priors (better than one hypothesis on
  all six leave-one-source-out cells), but with the fully trained bundled prior on unseen
  people the gate keeps the wrong half and it is worse than one hypothesis.
* ``"start"`` (the default, :data:`DEFAULT_RULE`): ``"size"`` among the hypotheses whose *start*
  fitted the image: only those whose initial-fit error (the rigid fit of their k-means start
  pose, before the loop) is at most :data:`START_GATE` times the frame's best compete
  (:func:`start_gate`). The start is what the prior's training poses say about the 2D before
  the loop pulls every hypothesis towards a plausible pose that fits; the gate drops hypotheses
  that began as the wrong kind of body.
"""

from __future__ import annotations

from typing import Any

import torch

Tensor = torch.Tensor

RULES = ("reprojection", "residual", "consensus", "combined", "denoising", "size", "fit", "start")
DEFAULT_RULE = "start"
"""The rule every lift uses. At S = 50 on the leave-one-source-out cross-domain sets it is the one
rule better than a single hypothesis on both errors, on the frames it was chosen on
(``generalization_select_dev.md``, ``shipped-3000`` priors: 134.9 / 74.4 vs 137.4 / 75.4 mm MPJPE /
PA-MPJPE) and on the table's frames with the balanced priors (``generalization_select_balanced.md``:
115.9 / 66.7 vs 118.6 / 67.1; ``"size"``, the previous default, 113.2 / 68.4), and equal to
``"size"`` with the bundled prior on Bandai-Namco and CMU test (``generalization_select_default.md``:
49.1 / 37.6 vs 48.8 / 37.6). With the bundled prior in ``accuracy.md`` it is far better than
``"size"`` on acrobatic poses (DeepMimic 90.6 vs 109.2 mm) and about a millimetre worse on
everyday ones. The margins are small: no rule comes near the oracle."""
SIZE_SPREAD = 0.1
"""Spread of adult size around the prior's typical size: log bone-length ratio of one unit."""
START_GATE = 1.2
"""``"start"`` keeps hypotheses whose initial-fit error is within this factor of the frame's best
(chosen over 1.5, 2 and 3 on other frames and other priors than it was then tested on,
``benchmarks/results/generalization_select_dev.md``)."""
ENERGY_TIMES = (0.02, 0.05, 0.1, 0.2)
"""Noise levels of :func:`denoising_energy`: from detail (0.02) to overall shape (0.2)."""


def consensus_score(relative: Tensor) -> Tensor:
    """Mean distance (metres per joint) from each hypothesis to the others.

    Parameters
    ----------
    relative : Tensor, shape (F, S, J, 3)
        Root-relative poses.

    Returns
    -------
    Tensor, shape (F, S)
    """
    centred = relative - relative[..., :1, :]
    diff = centred.unsqueeze(2) - centred.unsqueeze(1)  # (F, S, S, J, 3)
    dist = diff.norm(dim=-1).mean(-1)  # (F, S, S)
    S = relative.shape[1]
    return dist.sum(-1) / max(S - 1, 1)


def fit_consensus_score(relative: Tensor, reprojection_error: Tensor) -> Tensor:
    """Consensus among the hypotheses that fit: ``inf`` for the others.

    A hypothesis *fits* when its reprojection error is at most its frame's median (so at least
    half of them do); its score is the mean distance to the other fitting hypotheses.

    Parameters
    ----------
    relative : Tensor, shape (F, S, J, 3)
    reprojection_error : Tensor, shape (F, S)

    Returns
    -------
    Tensor, shape (F, S)
    """
    fits = reprojection_error <= reprojection_error.median(dim=-1, keepdim=True).values
    centred = relative - relative[..., :1, :]
    dist = (centred.unsqueeze(2) - centred.unsqueeze(1)).norm(dim=-1).mean(-1)  # (F, S, S)
    weight = fits.unsqueeze(1).to(dist.dtype)  # distances to fitting hypotheses only
    mean = (dist * weight).sum(-1) / (weight.sum(-1) - fits.to(dist.dtype)).clamp_min(1)
    return torch.where(fits, mean, torch.full_like(mean, float("inf")))


def start_gate(initial_error: Tensor, factor: float = START_GATE) -> Tensor:
    """Boolean (F, S): hypotheses whose initial-fit error is at most ``factor`` x the frame's best.

    Examples
    --------
    >>> import torch
    >>> start_gate(torch.tensor([[10.0, 11.0, 13.0], [0.0, 0.0, 5.0]])).tolist()
    [[True, True, False], [True, True, False]]
    """
    return initial_error <= factor * initial_error.min(dim=-1, keepdim=True).values


def _per_frame_normalised(score: Tensor) -> Tensor:
    return score / score.median(dim=-1, keepdim=True).values.clamp_min(1e-9)


def denoising_energy(
    prior,
    relative: Tensor,
    *,
    times: tuple[float, ...] = ENERGY_TIMES,
    draws: int = 4,
    seed: int = 0,
) -> Tensor:
    """The prior's denoising score-matching loss on each pose: low for poses it finds likely.

    For every pose ``x`` and time ``t``, ``x_t = alpha(t) x + sigma(t) eps`` with ``draws``
    noise draws ``eps``; the energy is the mean over times and draws of
    ``mean_dims (eps_theta(x_t, t) - eps)^2``. Summed over all times with the right weights this
    is the diffusion model's variational bound on ``-log p(x)``; a few levels suffice to rank
    hypotheses. The same noise draws are used for every pose (common random numbers), so
    hypotheses of one frame are compared on equal terms.

    Parameters
    ----------
    prior : Prior
        Anything with ``eps(x, t)`` and ``marginal(t)``.
    relative : Tensor, shape (..., J, 3)
        Root-relative camera-frame poses, metres.
    times : tuple of float
        Diffusion times in (0, 1].
    draws : int
        Noise draws per time.
    seed : int
        Seed of the noise draws.

    Returns
    -------
    Tensor, shape (...)

    Examples
    --------
    >>> import torch
    >>> class Zero:  # a prior that predicts no noise: energy = E[eps^2] = 1 for any pose
    ...     def eps(self, x, t): return torch.zeros_like(x)
    ...     def marginal(self, t): return torch.tensor(1.0), torch.tensor(0.5)
    >>> e = denoising_energy(Zero(), torch.zeros(2, 3, 17, 3), draws=64)
    >>> e.shape, bool(((e - 1).abs() < 0.1).all())
    (torch.Size([2, 3]), True)
    """
    if draws < 1 or not times:
        raise ValueError(f"draws, times: expected >= 1 draw and >= 1 time, got {draws}, {times}")
    shape = relative.shape[:-2]
    x = relative.reshape(-1, *relative.shape[-2:])
    g = torch.Generator(device=x.device).manual_seed(seed)
    total = torch.zeros(x.shape[0], device=x.device, dtype=x.dtype)
    for time in times:
        t = torch.as_tensor(time, device=x.device, dtype=x.dtype)  # 0-dim, as the loop passes it
        alpha, sigma = (torch.as_tensor(v, device=x.device, dtype=x.dtype) for v in prior.marginal(t))
        for _ in range(draws):
            eps = torch.randn(x.shape[1:], generator=g, device=x.device, dtype=x.dtype)
            pred = prior.eps(alpha * x + sigma * eps, t)
            total += (pred - eps).pow(2).mean((-1, -2))
    return (total / (len(times) * draws)).reshape(shape)


def bone_length_sum(pose: Tensor) -> Tensor:
    """Summed length of the 16 H36M bones, shape ``pose.shape[:-2]`` (pose: (..., 17, 3))."""
    from zedo_xr.skeleton import H36M_PARENTS

    child = [c for c, p in enumerate(H36M_PARENTS) if p >= 0]
    parent = [H36M_PARENTS[c] for c in child]
    return (pose[..., child, :] - pose[..., parent, :]).norm(dim=-1).sum(-1)


def typical_size(prior) -> float:
    """Median :func:`bone_length_sum` of the training poses a prior stores (metres).

    Uses the pool of random training poses (``prior.hypotheses[-1]``) or, without one, the
    largest stored k-means set.
    """
    stored = getattr(prior, "hypotheses", None) or {}
    poses = stored.get(-1)
    if poses is None:
        sizes = [k for k in stored if k > 0]
        if not sizes:
            raise ValueError("prior: expected stored training poses or k-means hypotheses, got none")
        poses = stored[max(sizes)]
    return float(bone_length_sum(torch.as_tensor(poses, dtype=torch.float64)).median())


def size_score(relative: Tensor, reference: float, spread: float = SIZE_SPREAD) -> Tensor:
    """``(log(bone_length_sum / reference) / spread)^2``: 0 at the typical size, 1 at one spread.

    Examples
    --------
    >>> import torch
    >>> pose = torch.zeros(1, 17, 3); pose[:, 1:, 2] = torch.arange(1, 17) * 0.1
    >>> ref = float(bone_length_sum(pose))
    >>> [round(float(size_score(pose * f, ref)), 2) for f in (1.0, 1.1, 0.7)]
    [0.0, 0.91, 12.72]
    """
    return (torch.log(bone_length_sum(relative).clamp_min(1e-9) / reference) / spread) ** 2


def selection_score(
    rule: str,
    *,
    reprojection_error: Tensor,
    residual: Tensor,
    relative: Tensor,
    energy: Tensor | None = None,
    size_reference: float | None = None,
    initial_error: Tensor | None = None,
) -> Tensor:
    """Score (F, S) of ``rule`` (lower is better); inputs are per hypothesis, (F, S[, J, 3]).

    ``energy`` (F, S), the :func:`denoising_energy` of each hypothesis, is needed by the
    ``"denoising"`` rule only; ``size_reference`` (:func:`typical_size` of the prior) by
    ``"size"``, ``"fit"`` and ``"start"`` (optional: without it they rank by consensus alone);
    ``initial_error`` (F, S), each hypothesis' initial-fit error, by ``"start"``.
    """
    if rule == "reprojection":
        return reprojection_error
    if rule == "residual":
        return residual
    if rule == "consensus":
        return consensus_score(relative)
    if rule == "combined":
        return (
            _per_frame_normalised(reprojection_error)
            + _per_frame_normalised(residual)
            + _per_frame_normalised(consensus_score(relative))
        )
    if rule == "denoising":
        if energy is None:
            raise ValueError("energy: expected the denoising energy (F, S) for rule 'denoising', got None")
        return _per_frame_normalised(reprojection_error) + _per_frame_normalised(energy)
    if rule == "size":
        consensus = _per_frame_normalised(consensus_score(relative))
        if size_reference is None:
            return consensus
        return consensus + size_score(relative, size_reference)
    if rule == "fit":
        fit = fit_consensus_score(relative, reprojection_error)
        if size_reference is None:
            return fit
        finite = torch.where(fit.isfinite(), fit, torch.full_like(fit, float("nan")))
        scale = finite.nanmedian(dim=-1, keepdim=True).values.clamp_min(1e-9)
        return fit / scale + size_score(relative, size_reference)
    if rule == "start":
        if initial_error is None:
            raise ValueError(
                "initial_error: expected the initial-fit error (F, S) for rule 'start', got None"
            )
        size = selection_score(
            "size",
            reprojection_error=reprojection_error,
            residual=residual,
            relative=relative,
            size_reference=size_reference,
        )
        return torch.where(start_gate(initial_error), size, torch.full_like(size, float("inf")))
    raise ValueError(f"select: expected one of {RULES}, got {rule!r}")


def prior_evidence(rule: str, prior, relative: Tensor) -> dict[str, Any]:
    """What ``rule`` needs from the prior beyond the loop's outputs, computed only for it.

    ``{"energy": ...}`` for ``"denoising"``, ``{"size_reference": ...}`` for ``"size"``,
    ``"fit"`` and ``"start"`` when the prior stores training poses, else ``{}``;
    ``relative`` is (F, S, J, 3) root-relative poses.
    """
    if rule == "denoising":
        return {"energy": denoising_energy(prior, relative)}
    if rule in ("size", "fit", "start") and getattr(prior, "hypotheses", None):
        return {"size_reference": typical_size(prior)}
    return {}


def select_hypothesis(rule: str, **evidence: Any) -> Tensor:
    """Index (F,) of the best hypothesis per frame under ``rule`` (see :func:`selection_score`)."""
    return selection_score(rule, **evidence).argmin(-1)
