"""Choosing one hypothesis per frame without ground truth.

Every rule maps per-hypothesis evidence to a score of shape (F, S) where lower is better; the
chosen hypothesis is the argmin. Rules:

* ``"reprojection"``: mean pixel error of the last denoised pose (before any final projection).
* ``"residual"``: RMS of the prior's noise prediction on the final pose: how typical it looks.
* ``"consensus"``: mean root-relative distance to the other hypotheses (the medoid wins).
* ``"combined"``: the sum of the three scores, each divided by its per-frame median, so none
  dominates by units.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor

RULES = ("reprojection", "residual", "consensus", "combined")


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


def _per_frame_normalised(score: Tensor) -> Tensor:
    return score / score.median(dim=-1, keepdim=True).values.clamp_min(1e-9)


def selection_score(
    rule: str, *, reprojection_error: Tensor, residual: Tensor, relative: Tensor
) -> Tensor:
    """Score (F, S) of ``rule`` (lower is better); inputs are per hypothesis, (F, S[, J, 3])."""
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
    raise ValueError(f"select: expected one of {RULES}, got {rule!r}")


def select_hypothesis(rule: str, **evidence: Tensor) -> Tensor:
    """Index (F,) of the best hypothesis per frame under ``rule`` (see :func:`selection_score`)."""
    return selection_score(rule, **evidence).argmin(-1)
