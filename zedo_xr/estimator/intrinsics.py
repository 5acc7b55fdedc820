"""Intrinsics for videos without calibration: a field-of-view default, refined per sequence.

Most videos come without K. A pinhole camera with square pixels and the principal point at the
image centre leaves one unknown, the focal length ``f = max(width, height) / (2 tan(fov / 2))``.

* Default: a 60 degree field of view across the larger image side (:data:`DEFAULT_FOV_DEG`). Phone
  main cameras film at about 65-75 degrees, webcams at 60-80, lab and broadcast cameras (Human3.6M:
  about 48) narrower; 60 sits in the middle of the 40-80 degree range that covers most of them, so
  the focal length is off by at most a factor 1.6 before refinement.
* Refinement (:func:`estimate_focal`): a few frames of the sequence are lifted with every focal
  length of a grid of fields of view (:data:`FOV_GRID_DEG`), all in one batch, and scored by the
  reprojection error plus the prior's residual (each divided by its median over the grid so
  neither dominates by units). A wrong focal length must bend the pose to fit the 2D perspective,
  which costs plausibility under the prior. The lowest score wins, refined by a parabola through
  it and its neighbours -- but only when it beats the default's score by ``min_gain`` (5 %):
  for a person a few metres away the image is close to a scaled orthographic view, the score is
  nearly flat in the focal length, and the root-relative pose hardly depends on it, so the
  default is kept unless the keypoints clearly say otherwise.

Shapes: ``uv (F, J, 2)`` frames of one sequence (one camera), ``confidence (F, J)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from zedo_xr.estimator.loop import PriorLike

Tensor = torch.Tensor

DEFAULT_FOV_DEG = 60.0
"""Default field of view across the larger image side, degrees."""

FOV_GRID_DEG = (30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0)
"""Fields of view tried by :func:`estimate_focal`, degrees."""


def focal_from_fov(image_size: tuple[float, float], fov_deg: float) -> float:
    """Focal length in pixels for a field of view across the larger image side.

    Examples
    --------
    >>> round(focal_from_fov((1920, 1080), 60.0), 1)
    1662.8
    """
    width, height = _size(image_size)
    if not 0 < fov_deg < 180:
        raise ValueError(f"fov_deg: expected a field of view in (0, 180) degrees, got {fov_deg}")
    return max(width, height) / (2 * math.tan(math.radians(fov_deg) / 2))


def fov_from_focal(image_size: tuple[float, float], focal: float) -> float:
    """The inverse of :func:`focal_from_fov`, degrees."""
    width, height = _size(image_size)
    return math.degrees(2 * math.atan(max(width, height) / (2 * focal)))


def intrinsics(
    image_size: tuple[float, float], focal: float | Tensor, *, device: Any = None, dtype: Any = torch.float32
) -> Tensor:
    """Pinhole K (``*, 3, 3``) with square pixels and the principal point at the image centre.

    Examples
    --------
    >>> intrinsics((1000, 500), 800.0)
    tensor([[800.,   0., 500.],
            [  0., 800., 250.],
            [  0.,   0.,   1.]])
    """
    width, height = _size(image_size)
    f = torch.as_tensor(focal, device=device, dtype=dtype)
    K = torch.zeros(*f.shape, 3, 3, device=f.device, dtype=f.dtype)
    K[..., 0, 0], K[..., 1, 1] = f, f
    K[..., 0, 2], K[..., 1, 2], K[..., 2, 2] = width / 2, height / 2, 1.0
    return K


def _size(image_size: tuple[float, float]) -> tuple[float, float]:
    try:
        width, height = (float(v) for v in image_size)
    except (TypeError, ValueError):
        raise ValueError(f"image_size: expected (width, height) in pixels, got {image_size!r}") from None
    if not (width > 0 and height > 0 and math.isfinite(width) and math.isfinite(height)):
        raise ValueError(f"image_size: expected positive (width, height) in pixels, got {image_size!r}")
    return width, height


def estimate_focal(
    prior: PriorLike,
    canonical: Tensor,
    uv: Tensor,
    confidence: Tensor,
    image_size: tuple[float, float],
    settings: Any,
    *,
    fovs: tuple[float, ...] = FOV_GRID_DEG,
    frames: int = 16,
    iterations: int = 40,
    min_gain: float = 0.05,
) -> tuple[float, dict[str, Tensor]]:
    """Focal length (pixels) of one sequence's camera, from its keypoints (module docstring).

    Parameters
    ----------
    prior : PriorLike
    canonical : Tensor, shape (S, J, 3)
        Initial poses (one is enough: ``S = 1``).
    uv : Tensor, shape (F, J, 2)
        Keypoints of the sequence's frames, pixels.
    confidence : Tensor, shape (F, J)
    image_size : (width, height)
    settings : LiftSettings
        Frame-wise lift settings (the loop is shortened to ``iterations``).
    fovs : tuple of float
        Candidate fields of view, degrees, increasing.
    frames : int
        Evenly spaced valid frames used (all when fewer).
    iterations : int
        Loop iterations per candidate.
    min_gain : float
        Relative score improvement over the default field of view needed to leave it.

    Returns
    -------
    focal : float
        The chosen focal length, pixels (the default field of view's when no frame is valid).
    scores : dict
        ``fov (G,)``, ``focal (G,)``, ``reprojection (G,)``, ``residual (G,)``, ``score (G,)``.
    """
    from dataclasses import replace

    from zedo_xr.estimator.sequence import lift_frames
    from zedo_xr.estimator.validity import frame_validity

    device, dtype = canonical.device, canonical.dtype
    valid = frame_validity(confidence).nonzero().flatten()
    if valid.numel() == 0:
        return focal_from_fov(image_size, DEFAULT_FOV_DEG), {}
    spread = torch.linspace(0, valid.numel() - 1, min(frames, valid.numel()), device=device)
    pick = valid[spread.round().long()]
    n, G = pick.numel(), len(fovs)
    focals = torch.tensor([focal_from_fov(image_size, a) for a in fovs], device=device, dtype=dtype)
    K = intrinsics(image_size, focals, device=device, dtype=dtype)  # (G, 3, 3)
    u = uv[pick].repeat(G, 1, 1)
    c = confidence[pick].repeat(G, 1)
    k = K.repeat_interleave(n, 0)
    short = replace(settings, loop=replace(settings.loop, iterations=iterations))
    res = lift_frames(prior, canonical[:1], u, c, k, short)
    reproj = res["reprojection_error"][:, 0].reshape(G, n).median(-1).values
    resid = res["residual"][:, 0].reshape(G, n).median(-1).values
    score = reproj / reproj.median().clamp_min(1e-9) + resid / resid.median().clamp_min(1e-9)
    best = int(score.argmin())
    scores = {
        "fov": torch.tensor(fovs),
        "focal": focals,
        "reprojection": reproj,
        "residual": resid,
        "score": score,
    }
    default = focal_from_fov(image_size, DEFAULT_FOV_DEG)
    at_default = _score_at(torch.log(focals), score, math.log(default))
    if float(score[best]) > (1 - min_gain) * at_default:
        return default, scores
    return float(torch.exp(_parabola_min(torch.log(focals), score, best))), scores


def _score_at(x: Tensor, y: Tensor, x0: float) -> float:
    """Linear interpolation of ``y(x)`` at ``x0`` (x decreasing or increasing)."""
    order = x.argsort()
    xs, ys = x[order].double(), y[order].double()
    i = int(torch.searchsorted(xs, torch.tensor(x0, dtype=torch.float64)).clamp(1, len(xs) - 1))
    w = (x0 - xs[i - 1]) / (xs[i] - xs[i - 1]).clamp_min(1e-12)
    return float(ys[i - 1] + w.clamp(0, 1) * (ys[i] - ys[i - 1]))


def _parabola_min(x: Tensor, y: Tensor, best: int) -> Tensor:
    """Vertex of the parabola through the grid minimum and its neighbours (clamped to them)."""
    if best == 0 or best == len(x) - 1:
        return x[best]
    x0, x1, x2 = x[best - 1], x[best], x[best + 1]
    y0, y1, y2 = y[best - 1], y[best], y[best + 1]
    den = (x0 - x1) * (x0 - x2) * (x1 - x2)
    a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / den
    b = (x2 * x2 * (y0 - y1) + x1 * x1 * (y2 - y0) + x0 * x0 * (y1 - y2)) / den
    if a <= 0:
        return x1
    return (-b / (2 * a)).clamp(x0, x2)
