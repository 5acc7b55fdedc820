"""Sequence lifting: the frames of one track (one person over time) lifted together.

Frame-by-frame lifting ignores that a video's frames are neighbours in time: its output jitters,
bone lengths change from frame to frame, and every frame pays for a full optimisation. Here each
track (the frames of one ``individual``) is one sequence, lifted in one batch of all its frames
(and of all tracks) by :func:`lift_tracks`:

0. **Keypoints**: a keypoint that jumps away from its joint's track (farther than
   ``outlier_fraction`` of the person's 2D size from the detrended median over +-0.08 s) is
   dropped, and the rest are smoothed by a local linear fit over +-``keypoint_smooth_seconds``
   (:func:`clean_keypoints`): gross detector errors last a frame or two and small jitter is
   independent between frames, while steady motion, however fast, passes unchanged.
1. **Start**: every frame gets its own initial fit and then a short frame-wise loop of
   ``key_iterations`` (20) iterations from the loop's ``t_max``, all frames in one batch. The
   denoising from high noise is what lets a frame leave the pool pose it started from: without
   it (the joint loop alone from the initial fits) sequence lifting was 11 % *worse* than
   frame-by-frame lifting plus a filter on Bandai-Namco 1, people the prior never saw. With
   ``key_step > 1`` only every ``key_step``-th valid frame (a keyframe) is fitted and runs that
   loop, and the frames between start from the linear interpolation of their two keyframes'
   results (a warm start); valid frames far from any valid keyframe become keyframes too.
   Hypothesis ``s`` of a frame always starts from hypothesis ``s`` of its keyframes, so
   hypotheses stay hypotheses across time.
2. **Joint loop**: all frames run ``refine_iterations`` (10) iterations of the ZeDO loop
   *together*, from the low noise level ``refine_t_max`` (0.05: the poses are already denoised
   once, so 30 iterations per frame in all instead of the 100 of frame-by-frame lifting), with
   two constraints after every denoising step (:func:`temporal_constraint`):

   * temporal smoothness: a step of ``smooth_strength`` towards a Gaussian filter over time of
     width ``smooth_seconds`` (its width in frames scales with ``fps``: 0.08 s is 2 frames at
     25 fps, 4.8 at 60). The ray projection of every iteration keeps each visible joint on its
     keypoint's ray, so the smoothing mainly acts on depth, where one view is ambiguous, and fast
     motion in the image (a kick) is followed, not flattened. The last iteration applies the
     filter fully;
   * one set of bone lengths per track: halfway through the loop (``bones_from``) the median
     length of every bone over the track's frames and hypotheses is taken and held from then on
     (a person's bones do not change between frames; this also evens out the prior's proportion
     errors).

Frames without enough evidence (:func:`zedo_xr.estimator.validity.frame_validity`) are NaN,
except short gaps (at most ``max_gap_seconds``) between valid frames, which the joint loop
bridges from their neighbours and which are flagged ``interpolated``.

Measured on 18 clips of real mocap with detector-like 2D (``benchmarks/results/video.md``), with
the bundled default prior: 3.1x the frames/s of frame-by-frame lifting (100 iterations), an
acceleration error 0.71x that of frame-by-frame lifting followed by a Gaussian filter over time,
and 15 % lower MPJPE than that filter (60.0 vs 70.6 mm: 22 % lower on CMU, 22 % lower on HDM05,
1 % lower on Bandai-Namco 1, which the prior never saw). The keyframe warm start (``key_step=4``,
``key_iterations=100``, 16 joint iterations at ``refine_t_max=0.03``) is 6 % better than the
filter at 1.6x the speed of frame by frame.

Shapes: time-major ``(F, E, ...)``: frames x tracks; ``S`` hypotheses; ``J`` = 17 joints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

import torch

from zedo_xr.estimator.initial import initial_fit
from zedo_xr.estimator.loop import Constraint, PriorLike, optimize
from zedo_xr.estimator.select import DEFAULT_RULE
from zedo_xr.estimator.validity import MIN_JOINTS, bridgeable, frame_validity, neighbours
from zedo_xr.skeleton import H36M_PARENTS
from zedo_xr.skeleton import bone_lengths_tensor as bone_lengths

Tensor = torch.Tensor


@dataclass(frozen=True)
class SequenceSettings:
    """Settings of sequence lifting (see the module docstring).

    Attributes
    ----------
    key_step : int
        Every ``key_step``-th frame is a keyframe, lifted (initial fit and its own loop) before
        the joint loop; the frames between start from interpolations. 1: every frame is one.
    key_iterations : int
        Iterations of every keyframe's own (frame-wise) loop after its initial fit, from the
        loop's ``t_max``; 0: the initial fit only.
    refine_iterations : int
        Iterations of the joint loop over all frames.
    refine_t_max : float, optional
        Diffusion time of the joint loop's first iteration (its last is the loop's ``t_min``);
        None: the loop's ``t_max``. Low, since the joint loop refines poses the keyframes'
        own loops have already denoised.
    smooth_seconds : float
        Standard deviation of the temporal Gaussian in seconds (frames = seconds x fps).
    smooth_strength : float
        Fraction of the way to the filtered track taken after every denoising step.
    shared_bones : bool
        Hold one set of bone lengths per track.
    bones_from : float
        Fraction of the joint loop after which the bone lengths are estimated (median over the
        track's frames and hypotheses) and held.
    max_gap_seconds : float
        Longest run of invalid frames bridged between two valid frames.
    min_joints : int
        Least number of visible joints of a valid frame.
    outlier_fraction : float
        Keypoints farther than this share of the person's 2D size from their temporal median
        are dropped before lifting (:func:`clean_keypoints`); 0 keeps all.
    keypoint_smooth_seconds : float
        Standard deviation of the temporal Gaussian over the keypoints before lifting; 0: none.
    """

    key_step: int = 1
    key_iterations: int = 20
    refine_iterations: int = 10
    refine_t_max: float | None = 0.05
    smooth_seconds: float = 0.08
    smooth_strength: float = 0.5
    shared_bones: bool = True
    bones_from: float = 0.5
    max_gap_seconds: float = 0.25
    min_joints: int = MIN_JOINTS
    outlier_fraction: float = 0.08
    keypoint_smooth_seconds: float = 0.04

    def __post_init__(self) -> None:
        if self.key_step < 1:
            raise ValueError(f"key_step: expected >= 1, got {self.key_step}")
        if self.key_iterations < 0:
            raise ValueError(f"key_iterations: expected >= 0, got {self.key_iterations}")
        if self.refine_iterations < 1:
            raise ValueError(f"refine_iterations: expected >= 1, got {self.refine_iterations}")
        if not 0 <= self.smooth_strength <= 1:
            raise ValueError(f"smooth_strength: expected a fraction in [0, 1], got {self.smooth_strength}")
        for name in ("smooth_seconds", "max_gap_seconds", "outlier_fraction", "keypoint_smooth_seconds"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name}: expected a number >= 0, got {getattr(self, name)!r}")


# ------------------------------------------------------------------------------------------
# temporal and skeletal operators
# ------------------------------------------------------------------------------------------


def gaussian_kernel(sigma: float, device: Any = None, dtype: Any = torch.float32) -> Tensor:
    """Normalised Gaussian taps over ``[-3 sigma, 3 sigma]`` frames, shape (2r + 1,).

    Examples
    --------
    >>> gaussian_kernel(1.0).shape, round(float(gaussian_kernel(1.0).sum()), 6)
    (torch.Size([7]), 1.0)
    """
    radius = max(1, math.ceil(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, device=device, dtype=dtype)
    taps = torch.exp(-0.5 * (offsets / max(sigma, 1e-6)) ** 2)
    return taps / taps.sum()


def smooth_time(x: Tensor, weight: Tensor, sigma: float) -> Tensor:
    """Gaussian filter along dim 0 that ignores frames of zero weight (normalised convolution).

    Parameters
    ----------
    x : Tensor, shape (F, *)
        Values over time; finite everywhere (values at weight 0 do not matter).
    weight : Tensor, shape (F, *) or broadcastable
        Non-negative frame weights (e.g. 1 where the frame is lifted, 0 in a long gap).
    sigma : float
        Standard deviation in frames; 0 returns ``x``.

    Returns
    -------
    Tensor, shape of ``x``; frames whose whole neighbourhood has weight 0 keep their value.

    Examples
    --------
    >>> x = torch.tensor([0.0, 0.0, 9.0, 0.0, 0.0])
    >>> w = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0])
    >>> smooth_time(x, w, 1.0).tolist()  # the frame of weight 0 does not leak
    [0.0, 0.0, 0.0, 0.0, 0.0]
    """
    if sigma <= 0 or x.shape[0] < 2:
        return x
    F = x.shape[0]
    w = weight.to(x.dtype).expand_as(x).reshape(F, -1).T.unsqueeze(1)  # (N, 1, F)
    v = x.reshape(F, -1).T.unsqueeze(1)
    taps = gaussian_kernel(sigma, x.device, x.dtype)
    pad = taps.numel() // 2
    kernel = taps.reshape(1, 1, -1)
    num = torch.nn.functional.conv1d(v * w, kernel, padding=pad)
    den = torch.nn.functional.conv1d(w, kernel, padding=pad)
    out = torch.where(den > 1e-6, num / den.clamp_min(1e-6), v)
    return out.squeeze(1).T.reshape(x.shape)


def clean_keypoints(
    uv: Tensor,
    confidence: Tensor,
    *,
    fps: float,
    outlier_fraction: float = 0.08,
    median_seconds: float = 0.08,
    smooth_seconds: float = 0.04,
) -> tuple[Tensor, Tensor]:
    """Drop keypoints that jump away from their track, then smooth the rest over time.

    A detector's gross errors (a swapped wrist, a keypoint on the background) last a frame or
    two, while its small jitter is independent from frame to frame. So a keypoint farther than
    ``outlier_fraction`` of the person's size (the median diagonal of the track's 2D boxes) from
    the median of that joint over ``+- median_seconds`` (detrended by the window's median
    velocity, so steady fast motion is not a jump) is dropped (confidence 0), and the
    remaining visible keypoints are averaged over time with a Gaussian of ``smooth_seconds``
    (missing ones do not count). The window is short, so a kick or a jump is followed.

    Parameters
    ----------
    uv : Tensor, shape (F, E, J, 2)
        Keypoints in pixels, time-major, ``E`` tracks; values where ``confidence`` is 0 are
        ignored (NaN allowed).
    confidence : Tensor, shape (F, E, J)
    fps : float
        Frame rate, for the windows in seconds.
    outlier_fraction : float
        Distance from the temporal median, as a share of the person's 2D size, beyond which a
        keypoint is dropped; 0 keeps all.
    median_seconds : float
        Half-width of the median window (at least one frame on each side).
    smooth_seconds : float
        Standard deviation of the temporal Gaussian; 0 does not smooth.

    Returns
    -------
    uv : Tensor, shape (F, E, J, 2)
        Smoothed where visible, unchanged elsewhere.
    confidence : Tensor, shape (F, E, J)
        0 where a keypoint was dropped.

    Examples
    --------
    >>> t = torch.arange(9.0)
    >>> uv = torch.stack([t * 10, t * 5], -1)[:, None, None].expand(9, 1, 17, 2).clone()
    >>> uv[:, 0, :, 0] += torch.linspace(0, 300, 17)  # a person 300 px wide
    >>> uv[4, 0, 3] += 80.0  # one keypoint 80 px off in one frame
    >>> clean, conf = clean_keypoints(uv, torch.ones(9, 1, 17), fps=25.0, smooth_seconds=0.0)
    >>> conf[:, 0, 3].tolist() == [1.0] * 4 + [0.0] + [1.0] * 4, int(conf.sum())
    (True, 152)
    """
    F = uv.shape[0]
    visible = confidence > 0
    if outlier_fraction > 0 and F > 2:
        track = torch.where(visible.unsqueeze(-1), uv, torch.full_like(uv, float("nan")))
        half = max(1, round(median_seconds * fps))
        # The ends repeat the first and last frame, so a track that moves is not cut there.
        padded = torch.cat(
            [track[:1].expand(half, *track.shape[1:]), track, track[-1:].expand(half, *track.shape[1:])]
        )
        window = padded.movedim(0, -1).unfold(-1, 2 * half + 1, 1)  # (E, J, 2, F, W)
        # Detrended: each window member predicts the centre frame along the window's median
        # velocity, so a steady fast motion is not read as a jump.
        velocity = _nan_median(window.diff(dim=-1)).unsqueeze(-1)
        offsets = torch.arange(-half, half + 1, device=uv.device, dtype=uv.dtype)
        median = _nan_median(window - velocity.nan_to_num(0.0) * offsets).movedim(-1, 0)
        lo = torch.where(visible.unsqueeze(-1), uv, torch.full_like(uv, float("inf"))).amin(-2)
        hi = torch.where(visible.unsqueeze(-1), uv, torch.full_like(uv, -float("inf"))).amax(-2)
        diagonal = (hi - lo).norm(dim=-1)  # (F, E); inf or nan where nothing is visible
        diagonal = torch.where(diagonal.isfinite(), diagonal, torch.full_like(diagonal, float("nan")))
        size = diagonal.nanmedian(0).values  # (E,)
        off = (uv - median).norm(dim=-1) > outlier_fraction * size[None, :, None]
        visible = visible & ~(off & median.isfinite().all(-1))
        confidence = torch.where(visible, confidence, torch.zeros_like(confidence))
    if smooth_seconds > 0 and F > 1:
        w = visible.unsqueeze(-1).to(uv.dtype)
        smooth = smooth_time_linear(
            torch.where(visible.unsqueeze(-1), uv, torch.zeros_like(uv)), w, smooth_seconds * fps
        )
        uv = torch.where(visible.unsqueeze(-1), smooth, uv)
    return uv, confidence


def smooth_time_linear(x: Tensor, weight: Tensor, sigma: float) -> Tensor:
    """Local linear fit over time (Gaussian-weighted, dim 0) evaluated at every frame.

    Unlike :func:`smooth_time` (a weighted mean), a steady motion comes out unchanged, also at
    the ends of the track and next to missing frames; noise is averaged as by the mean.

    Parameters
    ----------
    x : Tensor, shape (F, *)
        Finite values (values at weight 0 do not matter).
    weight : Tensor, shape (F, *) or broadcastable
        Non-negative frame weights.
    sigma : float
        Standard deviation of the Gaussian in frames; 0 returns ``x``.

    Returns
    -------
    Tensor, shape of ``x``; where the neighbourhood cannot fix a slope (one weighted frame),
    the weighted mean; where it has no weight at all, ``x``.

    Examples
    --------
    >>> x = torch.tensor([0.0, 2.0, 4.0, 6.0, 8.0])
    >>> w = torch.tensor([1.0, 1.0, 0.0, 1.0, 1.0])
    >>> smooth_time_linear(x, w, 1.0).round(decimals=4).tolist()  # the missing frame is filled
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    if sigma <= 0 or x.shape[0] < 2:
        return x
    F = x.shape[0]
    w = weight.to(x.dtype).expand_as(x).reshape(F, -1).T.unsqueeze(1)  # (N, 1, F)
    v = x.reshape(F, -1).T.unsqueeze(1)
    taps = gaussian_kernel(sigma, x.device, x.dtype)
    pad = taps.numel() // 2
    # offset of the neighbour from the frame; conv1d correlates, so the taps see k - f
    offset = torch.arange(-pad, pad + 1, device=x.device, dtype=x.dtype)

    def conv(values: Tensor, power: int) -> Tensor:
        return torch.nn.functional.conv1d(values, (taps * offset**power).reshape(1, 1, -1), padding=pad)

    s0, s1, s2 = conv(w, 0), conv(w, 1), conv(w, 2)
    m0, m1 = conv(v * w, 0), conv(v * w, 1)
    det = s0 * s2 - s1 * s1
    linear = (s2 * m0 - s1 * m1) / det.clamp_min(1e-12)
    mean = m0 / s0.clamp_min(1e-12)
    out = torch.where(det > 1e-6 * s0.clamp_min(1e-12) ** 2, linear, torch.where(s0 > 1e-6, mean, v))
    return out.squeeze(1).T.reshape(x.shape)


def _nan_median(x: Tensor) -> Tensor:
    """Median over the last dim ignoring NaN, the mean of the middle two for an even count
    (``torch.nanmedian`` takes the lower one, which lags a moving keypoint by a frame)."""
    n = (~x.isnan()).sum(-1, keepdim=True)
    ordered = torch.where(x.isnan(), torch.full_like(x, float("inf")), x).sort(-1).values
    lo = ordered.gather(-1, ((n - 1) // 2).clamp_min(0))
    hi = ordered.gather(-1, (n // 2).clamp_max(x.shape[-1] - 1))
    return torch.where(n > 0, (lo + hi) / 2, torch.full_like(lo, float("nan"))).squeeze(-1)


def with_bone_lengths(pose: Tensor, lengths: Tensor) -> Tensor:
    """Rescale every bone to ``lengths`` keeping its direction, from the pelvis outwards.

    Parameters
    ----------
    pose : Tensor, shape (*, J, 3)
    lengths : Tensor, shape (*, 16), broadcastable

    Examples
    --------
    >>> pose = torch.randn(4, 17, 3)
    >>> target = torch.full((16,), 0.25)
    >>> torch.allclose(bone_lengths(with_bone_lengths(pose, target)), target.expand(4, 16))
    True
    """
    lengths = lengths.expand(*pose.shape[:-2], lengths.shape[-1])
    joints = [pose[..., 0, :]]
    for child in range(1, len(H36M_PARENTS)):
        parent = H36M_PARENTS[child]
        d = pose[..., child, :] - pose[..., parent, :]
        unit = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-9)
        joints.append(joints[parent] + unit * lengths[..., child - 1, None])
    return torch.stack(joints, -2)


def track_bone_lengths(relative: Tensor, alive: Tensor) -> Tensor:
    """Median bone lengths per track over its lifted frames and hypotheses.

    ``relative (F, E, S, J, 3)``, ``alive (F, E)`` -> ``(E, 16)`` (NaN for a track without
    lifted frames).
    """
    lengths = bone_lengths(relative)  # (F, E, S, 16)
    lengths = torch.where(alive[:, :, None, None], lengths, torch.full_like(lengths, float("nan")))
    F, E, S, nb = lengths.shape
    return lengths.permute(1, 3, 0, 2).reshape(E, nb, F * S).nanmedian(-1).values


def temporal_constraint(
    shape: tuple[int, ...],
    alive: Tensor,
    *,
    sigma: float,
    strength: float,
    iterations: int,
    lengths: Tensor | None = None,
    bones_from: int | None = None,
) -> Constraint:
    """The loop hook of sequence lifting: smoothness over time and shared bone lengths.

    Parameters
    ----------
    shape : (F, E, S)
        Layout of the loop's flat batch ``B = F x E x S`` (time-major).
    alive : Tensor of bool, shape (F, E)
        Frames that are lifted (valid or bridged); the others neither smooth nor are smoothed.
    sigma : float
        Gaussian width in frames.
    strength : float
        Step towards the filtered track; the last iteration takes the full step.
    iterations : int
        The loop's iteration count (to recognise the last).
    lengths : Tensor, shape (E, 16), optional
        Bone lengths per track, held from the first iteration.
    bones_from : int, optional
        Without ``lengths``: the iteration at which they are estimated from the current poses
        (:func:`track_bone_lengths`) and from which they are held. ``None``: bones are free.

    Returns
    -------
    callable ``(x, T, i) -> (x, T)``; its attribute ``state["lengths"]`` holds the lengths used.
    """
    F, E, S = shape
    w = alive.reshape(F, E, 1, 1, 1)
    state: dict[str, Tensor | None] = {"lengths": lengths}

    def apply(x: Tensor, T: Tensor, i: int) -> tuple[Tensor, Tensor]:
        lam = 1.0 if i == iterations - 1 else strength
        x5 = x.reshape(F, E, S, *x.shape[-2:])
        x5 = x5 + lam * (smooth_time(x5, w.to(x.dtype), sigma) - x5)
        T4 = T.reshape(F, E, S, 3)
        T4 = T4 + lam * (smooth_time(T4, w[..., 0].to(T.dtype), sigma) - T4)
        if state["lengths"] is None and bones_from is not None and i >= bones_from:
            state["lengths"] = track_bone_lengths(x5, alive)
        if state["lengths"] is not None:
            held = state["lengths"][None, :, None, :]
            x5 = torch.where(
                held.isnan().any(-1, keepdim=True).unsqueeze(-1),
                x5,
                with_bone_lengths(x5, held.nan_to_num(0.0)),
            )
        return x5.reshape(x.shape), T4.reshape(T.shape)

    apply.state = state  # type: ignore[attr-defined]
    return apply


# ------------------------------------------------------------------------------------------
# stages
# ------------------------------------------------------------------------------------------


def lift_frames(
    prior: PriorLike,
    canonical: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    settings: Any,
    *,
    pool: Tensor | None = None,
    callback: Any = None,
) -> dict[str, Tensor]:
    """Lift ``n`` independent frames with ``S`` hypotheses each (initial fit, then the loop).

    Arguments as :func:`initial_fit`. Returns the loop's outputs reshaped to ``(n, S, ...)``
    plus ``initial_error (n, S)``.
    """
    n, S = uv.shape[0], canonical.shape[0]
    pose0, T0, err0 = initial_fit(canonical, uv, confidence, K, settings, pool=pool)
    res = optimize(
        prior,
        pose0,
        T0,
        uv.repeat_interleave(S, 0),
        confidence.repeat_interleave(S, 0),
        K.repeat_interleave(S, 0),
        settings.loop,
        callback=callback,
    )
    out = {key: v.reshape(n, S, *v.shape[1:]) for key, v in res.items()}
    out["initial_error"] = err0.reshape(n, S)
    return out


def keyframes(valid: Tensor, key_step: int) -> Tensor:
    """Frames lifted fully, (F, E) bool: valid frames on the ``key_step`` grid, plus valid frames
    more than ``2 key_step`` frames from the nearest such keyframe on either side.

    Examples
    --------
    >>> v = torch.ones(9, 1, dtype=torch.bool)
    >>> keyframes(v, 4)[:, 0].nonzero().flatten().tolist()
    [0, 4, 8]
    """
    F = valid.shape[0]
    on_grid = torch.arange(F, device=valid.device) % key_step == 0
    on_grid[-1] = True
    key = valid & on_grid.unsqueeze(-1)
    return key | (valid & _isolated(valid, key, key_step))


def _isolated(valid: Tensor, key: Tensor, key_step: int) -> Tensor:
    """Valid non-keyframes with no keyframe within ``2 key_step`` frames on both sides."""
    F = valid.shape[0]
    previous, following = neighbours(key)
    t = torch.arange(F, device=valid.device).reshape(F, *([1] * (valid.dim() - 1)))
    near_prev = (previous >= 0) & (t - previous <= 2 * key_step)
    near_next = (following < F) & (following - t <= 2 * key_step)
    return ~(near_prev | near_next)


def interpolate(values: Tensor, anchor: Tensor) -> tuple[Tensor, Tensor]:
    """Linear interpolation over time between anchor frames, per track.

    Parameters
    ----------
    values : Tensor, shape (F, E, *)
        Finite at anchors (other frames are ignored).
    anchor : Tensor of bool, shape (F, E)

    Returns
    -------
    Tensor, shape of ``values``
        Anchors keep their value; frames between two anchors are interpolated; frames before
        the first / after the last anchor copy it.
    Tensor of bool, shape (F, E)
        False in tracks without any anchor (their values are 0).

    Examples
    --------
    >>> v = torch.tensor([[0.0], [0.0], [4.0], [0.0], [8.0]])
    >>> a = torch.tensor([[False], [True], [False], [False], [True]])
    >>> a_v = torch.where(a, torch.tensor([[0.], [2.], [0.], [0.], [8.]]), v)
    >>> interpolate(a_v, a)[0][:, 0].tolist()
    [2.0, 2.0, 4.0, 6.0, 8.0]
    """
    F = values.shape[0]
    previous, following = neighbours(anchor)
    has_prev, has_next = previous >= 0, following < F
    p = torch.where(has_prev, previous, following).clamp(0, F - 1)
    n = torch.where(has_next, following, previous).clamp(0, F - 1)
    t = torch.arange(F, device=values.device).reshape(F, 1).expand_as(p)
    span = (n - p).clamp_min(1)
    alpha = torch.where(
        n > p, (t - p).to(values.dtype) / span.to(values.dtype), torch.zeros_like(p, dtype=values.dtype)
    )
    extra = values.dim() - 2
    e = torch.arange(values.shape[1], device=values.device).expand_as(p)
    vp, vn = values[p, e], values[n, e]
    alpha = alpha.reshape(*alpha.shape, *([1] * extra))
    out = torch.nan_to_num(vp + alpha * (vn - vp))
    found = has_prev | has_next
    return out * found.reshape(*found.shape, *([1] * extra)).to(out.dtype), found


def lift_tracks(
    prior: PriorLike,
    canonical: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    *,
    fps: float,
    settings: Any,
    sequence: SequenceSettings = SequenceSettings(),
    lengths: Tensor | None = None,
    pool: Tensor | None = None,
    callback: Any = None,
) -> dict[str, Tensor]:
    """Lift tracks of frames as sequences (see the module docstring).

    Parameters
    ----------
    prior : PriorLike
    canonical : Tensor, shape (S, J, 3)
        Canonical initial poses, one per hypothesis.
    uv : Tensor, shape (F, E, J, 2)
        Keypoints in pixels, time-major, ``E`` tracks (NaN where missing).
    confidence : Tensor, shape (F, E, J)
    K : Tensor, shape (F, E, 3, 3)
    fps : float
        Frame rate, for the temporal scales of ``sequence``.
    settings : LiftSettings
        The frame-wise settings: initial fit, and the loop of keyframes (its step rule, robust
        weights and ``t_min`` also serve the joint refinement).
    sequence : SequenceSettings
    lengths : Tensor, shape (E, 16), optional
        Bone lengths to hold (e.g. carried from the previous chunk); estimated when omitted.
    pool : Tensor, shape (P, J, 3), optional
        With one hypothesis, every frame starts from the best-fitting pool pose
        (:func:`zedo_xr.estimator.initial.initial_fit`).
    callback : callable, optional
        Passed to the joint loop (see :func:`zedo_xr.estimator.loop.optimize`).

    The keypoints are first cleaned over time (:func:`clean_keypoints` with ``sequence``'s
    ``outlier_fraction`` and ``keypoint_smooth_seconds``); ``valid`` and the errors refer to them.

    Returns
    -------
    dict with ``pose``, ``relative`` (F, E, S, J, 3); ``translation`` (F, E, S, 3);
    ``reprojection_error``, ``residual``, ``initial_error`` (F, E, S) -- all NaN at frames not
    lifted; ``valid``, ``interpolated``, ``keyframe`` (F, E) bool; ``bone_lengths`` (E, 16).
    """
    F, E, J = confidence.shape
    S = canonical.shape[0]
    uv, confidence = clean_keypoints(
        uv,
        confidence,
        fps=fps,
        outlier_fraction=sequence.outlier_fraction,
        smooth_seconds=sequence.keypoint_smooth_seconds,
    )
    valid = frame_validity(confidence, sequence.min_joints)
    bridged = bridgeable(valid, round(sequence.max_gap_seconds * fps))
    key = keyframes(valid, sequence.key_step)

    # 1. keyframes, all tracks in one batch: the initial fit, then their own loop
    f_idx, e_idx = key.nonzero(as_tuple=True)
    args = (canonical, uv[f_idx, e_idx], confidence[f_idx, e_idx], K[f_idx, e_idx])
    if sequence.key_iterations > 0 and len(f_idx) > 0:  # (no valid frame: nothing to run)
        key_settings = settings.replace(iterations=sequence.key_iterations)
        full = lift_frames(prior, *args, key_settings, pool=pool)
        start_rel, start_T, err0 = full["relative"], full["translation"], full["initial_error"]
    else:
        pose0, T0_, e0 = initial_fit(*args, settings, pool=pool)
        start_rel, start_T, err0 = (pose0.reshape(-1, S, J, 3), T0_.reshape(-1, S, 3), e0.reshape(-1, S))
    rel0 = canonical.new_zeros(F, E, S, J, 3)
    T0 = canonical.new_zeros(F, E, S, 3)
    rel0[f_idx, e_idx] = start_rel
    T0[f_idx, e_idx] = start_T

    # 2. every other frame (and bridged gaps) starts between its keyframes
    rel0, _ = interpolate(rel0, key)
    T0, found = interpolate(T0, key)
    alive = (valid | bridged) & found

    # 3. all frames together, smooth over time, one set of bones per track
    t_max = settings.loop.t_max if sequence.refine_t_max is None else sequence.refine_t_max
    loop = replace(
        settings.loop,
        iterations=sequence.refine_iterations,
        warmup=0.0,
        t_max=max(t_max, settings.loop.t_min),
    )
    hook = temporal_constraint(
        (F, E, S),
        alive,
        sigma=sequence.smooth_seconds * fps,
        strength=sequence.smooth_strength,
        iterations=loop.iterations,
        lengths=lengths,
        bones_from=round(sequence.bones_from * loop.iterations) if sequence.shared_bones else None,
    )
    conf = torch.where(alive.unsqueeze(-1), confidence, torch.zeros_like(confidence))
    res = optimize(
        prior,
        rel0.reshape(-1, J, 3),
        T0.reshape(-1, 3),
        _per_hyp(uv, S),
        _per_hyp(conf, S),
        _per_hyp(K, S),
        loop,
        constraint=hook,
        callback=callback,
    )
    out = {k: v.reshape(F, E, S, *v.shape[1:]) for k, v in res.items()}
    init_err = canonical.new_full((F, E, S), float("nan"))
    init_err[f_idx, e_idx] = err0
    out["initial_error"] = init_err
    out = _void(out, alive)
    held = hook.state["lengths"]  # type: ignore[attr-defined]
    out.update(
        valid=valid,
        interpolated=bridged & alive,
        keyframe=key,
        bone_lengths=held if held is not None else canonical.new_full((E, 16), float("nan")),
    )
    return out


def _per_hyp(x: Tensor, S: int) -> Tensor:
    """(F, E, *) -> (F x E x S, *), hypothesis-minor like the loop's batch."""
    return x.unsqueeze(2).expand(*x.shape[:2], S, *x.shape[2:]).reshape(-1, *x.shape[2:])


def _void(out: dict[str, Tensor], alive: Tensor) -> dict[str, Tensor]:
    """NaN at frames that are not lifted (never a made-up pose)."""
    voided = {}
    for key, v in out.items():
        if not v.is_floating_point():
            voided[key] = v
            continue
        m = alive.reshape(*alive.shape, *([1] * (v.dim() - 2)))
        voided[key] = torch.where(m, v, torch.full_like(v, float("nan")))
    return voided


# ------------------------------------------------------------------------------------------
# arrays in, arrays out (the pipeline of the xarray edge)
# ------------------------------------------------------------------------------------------


def lift_sequence_arrays(
    uv: Any,
    confidence: Any,
    K: Any,
    *,
    fps: float,
    prior: Any = "default",
    hypotheses: int = 1,
    settings: Any = "default",
    sequence: SequenceSettings = SequenceSettings(),
    device: Any = "auto",
    seed: int = 0,
    batch_size: int | None = None,
    overlap_seconds: float = 0.5,
    dtype: str = "float32",
    select: str = DEFAULT_RULE,
) -> dict[str, Any]:
    """Lift time-major numpy arrays ``uv (F, E, 17, 2)``, ``confidence (F, E, 17)``, ``K (F, E, 3, 3)``.

    Chunks of ``batch_size`` frames (all tracks together) are lifted with ``overlap_seconds`` of
    context on each side, which is discarded, and the bone lengths of the first chunk are held
    in the following ones, so a chunk boundary shows no jump.

    Returns numpy arrays ``pose3d (F, E, S, 17, 3)``, ``reprojection_error``, ``residual``,
    ``initial_error (F, E, S)``, ``best_hypothesis (F, E)`` (-1 where not lifted), ``valid``,
    ``interpolated (F, E)`` bool.
    """
    import numpy as np

    from zedo_xr.device import resolve_device
    from zedo_xr.estimator.pipeline import default_batch_size, load_model, start_poses, torch_dtype
    from zedo_xr.estimator.select import prior_evidence, select_hypothesis
    from zedo_xr.estimator.settings import resolve_settings
    from zedo_xr.estimator.threads import intra_op_threads, threads_for

    settings = resolve_settings(settings)
    dev = resolve_device(device)
    tdtype = torch_dtype(dtype)
    model = load_model(prior, dev, tdtype)
    S = int(hypotheses)
    F, E = uv.shape[:2]
    chunk = int(batch_size or max(1, default_batch_size(dev, S) // E))
    margin = round(overlap_seconds * fps)
    canonical, pool = start_poses(model, S, settings, seed=seed)
    parts: dict[str, list[Any]] = {}
    lengths = None
    poses = min(F, chunk + 2 * margin) * E * S
    threads = threads_for(poses) if dev.type == "cpu" else torch.get_num_threads()
    with torch.no_grad(), intra_op_threads(threads):
        for start in range(0, F, chunk):
            stop = min(F, start + chunk)
            lo, hi = max(0, start - margin), min(F, stop + margin)
            u, c, k = (torch.as_tensor(a[lo:hi], device=dev, dtype=tdtype) for a in (uv, confidence, K))
            res = lift_tracks(
                model,
                canonical,
                u,
                c,
                k,
                fps=fps,
                settings=settings,
                sequence=sequence,
                lengths=lengths,
                pool=pool,
            )
            if sequence.shared_bones and not res["bone_lengths"].isnan().any():
                lengths = res["bone_lengths"]
            keep = slice(start - lo, stop - lo)
            n = stop - start
            alive = res["valid"] | res["interpolated"]
            relative = res["relative"][keep].reshape(n * E, S, -1, 3).nan_to_num(0.0)
            choice = select_hypothesis(
                select,
                reprojection_error=res["reprojection_error"][keep].reshape(n * E, S).nan_to_num(0.0),
                residual=res["residual"][keep].reshape(n * E, S).nan_to_num(0.0),
                relative=relative,
                initial_error=res["initial_error"][keep].reshape(n * E, S).nan_to_num(0.0),
                **prior_evidence(select, model, relative),
            ).reshape(n, E)
            out = {
                "pose3d": res["pose"],
                "reprojection_error": res["reprojection_error"],
                "residual": res["residual"],
                "initial_error": res["initial_error"],
                "valid": res["valid"],
                "interpolated": res["interpolated"],
            }
            out = {key: v[keep] for key, v in out.items()}
            out["best_hypothesis"] = torch.where(alive[keep], choice, torch.full_like(choice, -1))
            for key, v in out.items():
                parts.setdefault(key, []).append(v.cpu().numpy())
    return {key: np.concatenate(v) for key, v in parts.items()}
