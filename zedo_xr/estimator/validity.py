"""Which frames carry enough 2D evidence to lift, and which short gaps a sequence may bridge.

A pose has 17 joints x 3 coordinates; the prior fills in missing joints, but only if enough of
the body is seen to fix its place, size and orientation. The rule (:func:`frame_validity`):

* at least ``min_joints`` visible joints (default 6, a bit more than a third of the body), and
* at least one torso anchor visible: a hip (``pelvis``, ``right_hip``, ``left_hip``) or a
  shoulder (``left_shoulder``, ``right_shoulder``, ``thorax``). Without the torso the
  translation is fixed by limbs alone and the pose's place is a guess.

Frames failing the rule get NaN ``pose3d`` and ``valid = False``; they are never filled with a
made-up pose. In a sequence, a run of at most ``max_gap`` invalid frames between two valid ones
is *bridged* by the temporal model (:func:`bridgeable`) and marked ``interpolated``.

Shapes: time-major ``(F, M)`` (frames x tracks), booleans.
"""

from __future__ import annotations

from typing import Any

import torch

from zedo_xr.skeleton import H36M_JOINTS

Tensor = torch.Tensor

MIN_JOINTS = 6
"""Default least number of visible joints of a valid frame."""

TORSO_ANCHORS = ("pelvis", "right_hip", "left_hip", "left_shoulder", "right_shoulder", "thorax")
"""Joints of which at least one must be visible in a valid frame."""


def frame_validity(confidence: Tensor, min_joints: int = MIN_JOINTS) -> Tensor:
    """True where a frame has enough visible joints to constrain a pose (see module docstring).

    Parameters
    ----------
    confidence : Tensor, shape (*, J)
        Joint confidences on the 17 H36M joints; ``> 0`` is visible.
    min_joints : int
        Least number of visible joints.

    Returns
    -------
    Tensor of bool, shape (*)

    Examples
    --------
    >>> c = torch.ones(3, 17)
    >>> c[1, 6:] = 0          # 6 joints left, hips among them: valid
    >>> c[2, :] = 0
    >>> c[2, 12:] = 1         # 5 arm and hand joints: too few, and no torso
    >>> frame_validity(c).tolist()
    [True, True, False]
    """
    if confidence.shape[-1] != len(H36M_JOINTS):
        raise ValueError(f"confidence: expected shape (*, {len(H36M_JOINTS)}), got {tuple(confidence.shape)}")
    if min_joints < 1:
        raise ValueError(f"min_joints: expected >= 1, got {min_joints}")
    visible = confidence > 0
    anchors = torch.zeros(len(H36M_JOINTS), dtype=torch.bool, device=confidence.device)
    anchors[[H36M_JOINTS.index(j) for j in TORSO_ANCHORS]] = True
    return (visible.sum(-1) >= min_joints) & (visible & anchors).any(-1)


def neighbours(mask: Tensor) -> tuple[Tensor, Tensor]:
    """Index of the nearest True at or before / at or after each frame, along dim 0.

    Parameters
    ----------
    mask : Tensor of bool, shape (F, *)

    Returns
    -------
    previous, following : Tensor of int64, shape (F, *)
        ``-1`` where no True precedes, ``F`` where none follows.

    Examples
    --------
    >>> p, n = neighbours(torch.tensor([False, True, False, False, True, False]))
    >>> p.tolist(), n.tolist()
    ([-1, 1, 1, 1, 4, 4], [1, 1, 4, 4, 4, 6])
    """
    F = mask.shape[0]
    idx = torch.arange(F, device=mask.device).reshape(F, *([1] * (mask.dim() - 1))).expand_as(mask)
    minus = torch.full_like(idx, -1)
    previous = torch.where(mask, idx, minus).cummax(0).values
    flipped = torch.where(mask.flip(0), idx, minus).cummax(0).values.flip(0)
    following = F - 1 - flipped
    return previous, following


def bridgeable(valid: Tensor, max_gap: int) -> Tensor:
    """Invalid frames inside a run of at most ``max_gap`` between two valid frames, (F, *).

    Leading and trailing runs are never bridged (that would be extrapolation).

    Examples
    --------
    >>> v = torch.tensor([False, True, False, True, False, False, False, True, False])
    >>> bridgeable(v, 2).tolist()
    [False, False, True, False, False, False, False, False, False]
    """
    F = valid.shape[0]
    previous, following = neighbours(valid)
    gap = following - previous - 1
    return ~valid & (previous >= 0) & (following < F) & (gap <= max_gap)


def void_invalid(result: dict, confidence: Any, min_joints: int = MIN_JOINTS) -> dict:
    """Frame-wise lift outputs (numpy, frame first) with frames failing the rule voided.

    ``pose3d`` and the per-hypothesis scores become NaN, ``best_hypothesis`` -1, and a boolean
    ``valid`` (and an all-False ``interpolated``: frame-wise lifting bridges nothing) is added.
    """
    import numpy as np

    valid = frame_validity(torch.as_tensor(np.asarray(confidence)), min_joints).numpy()
    out = dict(result)
    for key in ("pose3d", "reprojection_error", "residual", "initial_error"):
        if key in out:
            v = np.array(out[key], dtype=float if out[key].dtype.kind != "f" else out[key].dtype)
            v[~valid] = np.nan
            out[key] = v
    if "best_hypothesis" in out:
        out["best_hypothesis"] = np.where(valid, out["best_hypothesis"], -1).astype(np.int64)
    out["valid"] = valid
    out["interpolated"] = np.zeros_like(valid)
    return out
