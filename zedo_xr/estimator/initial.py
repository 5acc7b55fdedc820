"""Initial pose optimisation: turn a canonical pose to face the 2D keypoints and place it.

The paper (Eq. 1-2) rotates the initial pose and slides it along the pelvis ray to minimise the
2D reprojection error. Two solvers are provided:

* :func:`fit_initial_pose` (default): a coarse-to-fine grid over the yaw about the body's vertical
  axis (and optionally the camera pitch), with the translation solved in closed form for every
  candidate. It is exact up to the grid spacing, needs no learning rate, and costs a few hundred
  17-joint projections per pose.
* :func:`fit_initial_pose_adam`: the official procedure, Adam (lr 0.1, 500 steps) on a rotation
  about the vertical axis and a depth scale clamped to ``[0.5, 2] x 3 m`` along the pelvis ray,
  L1 pixel loss; used by the ``parity`` settings.

:func:`initial_fit` is the one entry of a lift (frame by frame and sequences alike): it batches
frames x hypotheses and picks the solver the settings name. With one hypothesis it can also pick
the starting pose itself, per frame, from a pool (the prior's k-means centres):
:func:`screen_pool` ranks the whole pool under weak perspective in closed form and the few best
are fitted by the solver.

Shapes: ``B`` is the batch (frames x hypotheses), ``J`` joints. Canonical poses are
root-relative, camera axes, upright (pelvis -> thorax along -y) and facing the camera.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from zedo_xr.camera import (
    normalized_coordinates,
    project,
    rays,
    rotation_x,
    rotation_y,
    solve_translation,
)
from zedo_xr.skeleton import H36M_JOINTS

if TYPE_CHECKING:
    from zedo_xr.estimator.settings import LiftSettings

Tensor = torch.Tensor

DRIVER_JOINTS: dict[str, tuple[str, ...]] = {
    "hips": ("pelvis", "right_hip", "left_hip"),
    "torso": (
        "pelvis",
        "right_hip",
        "left_hip",
        "spine",
        "thorax",
        "neck",
        "head",
        "left_shoulder",
        "right_shoulder",
    ),
    "all": H36M_JOINTS,
}
"""Named joint subsets that may drive the initial fit (the official code uses ``hips``)."""


POOL_REFITS = 3
"""Pool poses fitted properly after :func:`screen_pool` (the screen's weak perspective can
misorder close candidates)."""


def driver_mask(name: str, device: torch.device | None = None, dtype=torch.float32) -> Tensor:
    """0/1 weights (J,) selecting the joints of ``DRIVER_JOINTS[name]``."""
    if name not in DRIVER_JOINTS:
        raise ValueError(f"initial_joints: expected one of {sorted(DRIVER_JOINTS)}, got {name!r}")
    chosen = set(DRIVER_JOINTS[name])
    return torch.tensor([1.0 if j in chosen else 0.0 for j in H36M_JOINTS], device=device, dtype=dtype)


def _pelvis_fallback(uv: Tensor, visible: Tensor, K: Tensor, depth: float) -> Tensor:
    """Translation ``depth`` metres along the pelvis ray, shape (B, 3).

    Where the pelvis is missing, the ray through the centroid of the visible keypoints is used.
    """
    w = visible.to(uv.dtype).unsqueeze(-1)
    centroid = (uv * w).sum(-2, keepdim=True) / w.sum(-2, keepdim=True).clamp_min(1)
    anchor = torch.where(visible[:, :1, None], uv[:, :1], centroid)
    return rays(anchor, K)[:, 0] * depth


def _masked(uv: Tensor, visible: Tensor) -> Tensor:
    """Keypoints with missing joints zeroed, so NaNs never meet a zero weight."""
    return torch.where(visible.unsqueeze(-1), uv, torch.zeros_like(uv))


def _candidate_errors(
    canonical: Tensor,
    rotations: Tensor,
    uv: Tensor,
    weights: Tensor,
    K: Tensor,
    fallback: Tensor,
    min_depth: float,
    max_depth: float,
) -> tuple[Tensor, Tensor, Tensor]:
    """Rotate every pose by every candidate rotation, solve T, and score in pixels.

    canonical (B, J, 3), rotations (G, 3, 3) shared or (B, G, 3, 3) per pose
    -> poses (B, G, J, 3), T (B, G, 3), error (B, G).
    """
    B, J, _ = canonical.shape
    rotations = rotations.expand(B, *rotations.shape[-3:])
    G = rotations.shape[1]
    poses = torch.einsum("bgij,bkj->bgki", rotations, canonical)
    normalized = normalized_coordinates(uv, K).unsqueeze(1).expand(B, G, J, 3)
    w = weights.unsqueeze(1).expand(B, G, J)
    T = solve_translation(
        poses, normalized, w, fallback=fallback.unsqueeze(1).expand(B, G, 3), min_depth=min_depth
    )
    T = _clamp_depth(T, min_depth, max_depth)
    reproj = project(poses + T.unsqueeze(-2), K.unsqueeze(1))
    err = ((reproj - uv.unsqueeze(1)).norm(dim=-1) * w).sum(-1) / w.sum(-1).clamp_min(1e-9)
    return poses, T, err


def _clamp_depth(T: Tensor, min_depth: float, max_depth: float) -> Tensor:
    """Scale T along its own direction so that its depth lies in [min_depth, max_depth]."""
    z = T[..., 2:3]
    return T * (z.clamp(min_depth, max_depth) / z.clamp_min(1e-9))


def fit_initial_pose(
    canonical: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    *,
    joints: str = "all",
    yaw_steps: int = 36,
    refine_steps: int = 10,
    pitches: tuple[float, ...] = (0.0,),
    default_depth: float = 3.0,
    depth_range: tuple[float, float] = (0.5, 60.0),
    mode_rank: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Rotate each canonical pose about its vertical axis to match the 2D keypoints, and place it.

    Parameters
    ----------
    canonical : Tensor, shape (B, J, 3)
        Root-relative initial poses in the canonical frame (see module docstring).
    uv : Tensor, shape (B, J, 2)
        Target keypoints in pixels (values at missing joints are ignored).
    confidence : Tensor, shape (B, J)
        Joint confidences; 0 excludes a joint from the fit.
    K : Tensor, shape (B, 3, 3)
        Intrinsics.
    joints : {"hips", "torso", "all"}
        Which joints drive the fit (combined with ``confidence > 0``).
    yaw_steps : int
        Coarse grid size over the full turn.
    refine_steps : int
        Points of the fine grid spanning one coarse step around the best coarse yaw (0: none).
    pitches : tuple of float
        Candidate camera pitches in radians (body leaning towards/away from the camera).
    default_depth : float
        Depth in metres along the pelvis ray used where the fit is degenerate.
    depth_range : (float, float)
        Allowed depth of the pelvis, metres.
    mode_rank : Tensor of int, shape (B,), optional
        Take the yaw of the ``k``-th best local minimum of the coarse grid instead of the best
        (0). The 2D error of a turning body typically has two minima (facing towards or away,
        the depth ambiguity), so spreading hypotheses over both makes them more diverse.
        Falls back to the best where a pose has fewer minima.

    Returns
    -------
    pose : Tensor, shape (B, J, 3)
        Rotated root-relative pose.
    translation : Tensor, shape (B, 3)
        Camera-frame position of the pelvis.
    error : Tensor, shape (B,)
        Mean pixel error over the driving joints.
    """
    device, dtype = canonical.device, canonical.dtype
    uv = _masked(uv, confidence > 0)
    visible = (confidence > 0).to(dtype)
    weights = visible * driver_mask(joints, device, dtype)
    # Too few driving joints visible: fall back to every visible joint.
    weights = torch.where((weights > 0).sum(-1, keepdim=True) >= 3, weights, visible)
    fallback = _pelvis_fallback(uv, confidence > 0, K, default_depth)
    lo, hi = depth_range

    yaw = torch.arange(yaw_steps, device=device, dtype=dtype) * (2 * math.pi / yaw_steps)
    pitch = torch.tensor(pitches, device=device, dtype=dtype)
    grid_yaw, grid_pitch = (g.reshape(-1) for g in torch.meshgrid(yaw, pitch, indexing="ij"))
    rot = rotation_x(grid_pitch) @ rotation_y(grid_yaw)
    _, _, err = _candidate_errors(canonical, rot, uv, weights, K, fallback, lo, hi)
    best = err.argmin(-1) if mode_rank is None else _ranked_minimum(err, mode_rank, yaw_steps)
    best_yaw, best_pitch = grid_yaw[best], grid_pitch[best]

    if refine_steps > 0:
        # A fine grid spanning one coarse step on each side of every pose's chosen yaw.
        step = 2 * math.pi / yaw_steps
        offsets = torch.linspace(-step, step, 2 * refine_steps + 1, device=device, dtype=dtype)
        candidate_yaw = best_yaw[:, None] + offsets[None, :]  # (B, F)
    else:
        candidate_yaw = best_yaw[:, None]
    rot = rotation_x(best_pitch[:, None].expand_as(candidate_yaw)) @ rotation_y(candidate_yaw)
    poses, T, err = _candidate_errors(canonical, rot, uv, weights, K, fallback, lo, hi)
    pick = err.argmin(-1)
    idx = torch.arange(canonical.shape[0], device=device)
    return poses[idx, pick], T[idx, pick], err[idx, pick]


def _ranked_minimum(err: Tensor, rank: Tensor, yaw_steps: int) -> Tensor:
    """Index into the (yaw x pitch) grid of the ``rank``-th best local minimum along yaw."""
    B = err.shape[0]
    grid = err.reshape(B, yaw_steps, -1)
    # Best pitch per yaw, then local minima along the circular yaw axis.
    per_yaw, pitch_idx = grid.min(-1)
    is_min = (per_yaw <= per_yaw.roll(1, -1)) & (per_yaw < per_yaw.roll(-1, -1))
    score = torch.where(is_min, per_yaw, torch.full_like(per_yaw, float("inf")))
    order = score.argsort(-1)
    n_minima = is_min.sum(-1).clamp_min(1)
    pick = torch.minimum(rank.to(order.device), n_minima - 1)
    yaw_idx = order.gather(-1, pick.unsqueeze(-1)).squeeze(-1)
    return yaw_idx * grid.shape[-1] + pitch_idx.gather(-1, yaw_idx.unsqueeze(-1)).squeeze(-1)


def screen_pool(
    pool: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    *,
    joints: str = "all",
    yaw_steps: int = 36,
) -> Tensor:
    """How badly every pool pose explains every frame's keypoints at its best yaw, shape (n, P).

    A cheap screen for :func:`initial_fit`'s choice among many candidate poses: each pose is
    turned about its vertical axis over ``yaw_steps`` angles and compared with the keypoints
    under weak perspective (orthographic projection, the best scale and 2D offset in closed
    form), so the whole (frame x pose x yaw) grid costs a few matrix products instead of a
    perspective fit each. The winners are then fitted properly.

    Parameters
    ----------
    pool : Tensor, shape (P, J, 3)
        Root-relative canonical poses (upright, facing the camera).
    uv : Tensor, shape (n, J, 2)
    confidence : Tensor, shape (n, J)
        0 excludes a joint.
    K : Tensor, shape (n, 3, 3)
    joints : {"hips", "torso", "all"}
        Joints that drive the fit (with the fallback of :func:`fit_initial_pose`).
    yaw_steps : int
        Yaw grid over the full turn.

    Returns
    -------
    Tensor, shape (n, P)
        Share of the keypoints' spread (about their weighted centroid, in normalised image
        coordinates) that the best-turned, best-scaled pose leaves unexplained: 0 is a perfect
        fit, 1 explains nothing (a pose that fits only mirrored scores 1).

    Examples
    --------
    >>> pool = torch.randn(4, 17, 3)
    >>> K = torch.tensor([[1000.0, 0, 500], [0, 1000, 500], [0, 0, 1]]).expand(1, 3, 3)
    >>> uv = project(pool[2:3] + torch.tensor([0.0, 0.0, 20.0]), K)
    >>> int(screen_pool(pool, uv, torch.ones(1, 17), K).argmin())
    2
    """
    dtype = pool.dtype
    visible = (confidence > 0).to(dtype)
    w = visible * driver_mask(joints, pool.device, dtype)
    w = torch.where((w > 0).sum(-1, keepdim=True) >= 3, w, visible)  # (n, J)
    W = w.sum(-1, keepdim=True).clamp_min(1e-9)
    ab = normalized_coordinates(_masked(uv, confidence > 0), K)[..., :2]  # (n, J, 2)
    ab = ab - (w.unsqueeze(-1) * ab).sum(-2, keepdim=True) / W.unsqueeze(-1)
    a, b = ab.unbind(-1)
    X, Y, Z = pool.unbind(-1)  # (P, J)

    def wsum(frame_term: Tensor, pose_term: Tensor) -> Tensor:  # sum_j frame_j pose_j -> (n, P)
        return frame_term @ pose_term.T

    # Rotated x is c X + s Z (c, s the cosine and sine of the yaw), y stays Y; the keypoints are
    # centred, so their products with the pose need no centring of the pose.
    A, B, C = wsum(w * a, X), wsum(w * a, Z), wsum(w * b, Y)

    def centred(u: Tensor, v: Tensor) -> Tensor:  # weighted covariance-like sum over joints
        return wsum(w, u * v) - wsum(w, u) * wsum(w, v) / W

    XX, ZZ, XZ, YY = centred(X, X), centred(Z, Z), centred(X, Z), centred(Y, Y)
    yaw = torch.arange(yaw_steps, device=pool.device, dtype=dtype) * (2 * math.pi / yaw_steps)
    c, s = torch.cos(yaw), torch.sin(yaw)  # (Y,)
    cross = (A.unsqueeze(-1) * c + B.unsqueeze(-1) * s + C.unsqueeze(-1)).clamp_min(0)
    spread = (
        XX.unsqueeze(-1) * c * c + 2 * XZ.unsqueeze(-1) * c * s + ZZ.unsqueeze(-1) * s * s + YY.unsqueeze(-1)
    )
    explained = cross**2 / spread.clamp_min(1e-12)  # the best scale's share, per yaw
    total = (w * (a * a + b * b)).sum(-1, keepdim=True).clamp_min(1e-12)  # (n, 1)
    return 1 - explained.max(-1).values / total


def fit_initial_pose_adam(
    canonical: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    *,
    joints: str = "hips",
    steps: int = 500,
    lr: float = 0.1,
    default_depth: float = 3.0,
    scale_range: tuple[float, float] = (0.5, 2.0),
) -> tuple[Tensor, Tensor, Tensor]:
    """The official initial pose optimiser: Adam on a vertical-axis rotation and a depth scale.

    A unit quaternion with only its real part and the vertical component free (initialised to
    identity) and a depth scale ``s`` (initialised to 1, clamped to ``scale_range``) placing the
    pelvis at ``s * default_depth`` along its ray are optimised for ``steps`` Adam steps of the
    mean L1 pixel error over ``joints``. Confidences are not used (as in the official code),
    except that missing joints (confidence 0) are excluded. Arguments and returns as in
    :func:`fit_initial_pose`.
    """
    device, dtype = canonical.device, canonical.dtype
    B = canonical.shape[0]
    weights = (confidence > 0).to(dtype) * driver_mask(joints, device, dtype)
    weights = torch.where((weights > 0).sum(-1, keepdim=True) >= 2, weights, (confidence > 0).to(dtype))
    uv_safe = _masked(uv, confidence > 0)
    T0 = _pelvis_fallback(uv_safe, confidence > 0, K, default_depth).detach()
    with torch.enable_grad():
        qw = torch.ones(B, device=device, dtype=dtype, requires_grad=True)
        qy = torch.zeros(B, device=device, dtype=dtype, requires_grad=True)
        scale = torch.ones(B, device=device, dtype=dtype, requires_grad=True)
        opt = torch.optim.Adam([qw, qy, scale], lr=lr)
        for _ in range(steps):
            opt.zero_grad(set_to_none=True)
            pose, T = _adam_state(canonical, qw, qy, scale, T0, scale_range)
            reproj = project(pose + T.unsqueeze(-2), K)
            loss = ((reproj - uv_safe).abs().sum(-1) * weights).sum() / (2 * weights.sum().clamp_min(1))
            loss.backward()
            opt.step()
    with torch.no_grad():
        pose, T = _adam_state(canonical, qw, qy, scale, T0, scale_range)
        reproj = project(pose + T.unsqueeze(-2), K)
        err = ((reproj - uv_safe).norm(dim=-1) * weights).sum(-1) / weights.sum(-1).clamp_min(1e-9)
    return pose.detach(), T.detach(), err


def _adam_state(
    canonical: Tensor,
    qw: Tensor,
    qy: Tensor,
    scale: Tensor,
    T0: Tensor,
    scale_range: tuple[float, float],
) -> tuple[Tensor, Tensor]:
    # A quaternion (w, 0, y, 0) is a rotation about y by 2*atan2(y, w); normalisation is implicit.
    angle = 2 * torch.atan2(qy, qw)
    pose = canonical @ rotation_y(angle).transpose(-1, -2)
    T = scale.clamp(*scale_range).unsqueeze(-1) * T0
    return pose, T


def initial_fit(
    canonical: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    settings: LiftSettings,
    *,
    pool: Tensor | None = None,
    pitches: tuple[float, ...] = (0.0,),
    yaw_modes: int = 1,
) -> tuple[Tensor, Tensor, Tensor]:
    """The initial fit of ``n`` frames x ``S`` hypotheses, by the solver ``settings.initial`` names.

    Frames and hypotheses go in one batch, frame-major and hypothesis-minor: row ``i S + s`` is
    hypothesis ``s`` of frame ``i``. ``"grid"``: :func:`fit_initial_pose` (hypothesis ``s``
    takes the ``(s mod yaw_modes)``-th best yaw minimum); ``"adam"``: :func:`fit_initial_pose_adam`;
    ``"none"``: no rotation, only the translation.

    Parameters
    ----------
    canonical : Tensor, shape (S, J, 3)
        Canonical initial poses, one per hypothesis.
    uv : Tensor, shape (n, J, 2)
    confidence : Tensor, shape (n, J)
    K : Tensor, shape (n, 3, 3)
    settings : LiftSettings
        Its ``initial`` and ``initial_joints``.
    pool : Tensor, shape (P, J, 3), optional
        With one hypothesis (``S = 1``), each frame starts from the pool pose that fits its
        keypoints best instead of ``canonical[0]``: :func:`screen_pool` ranks the pool, the
        ``POOL_REFITS`` best are fitted by the solver, and the lowest error wins.
    pitches, yaw_modes
        Search knobs of the grid fit that only the tuning benchmark varies.

    Returns
    -------
    pose : Tensor, shape (n S, J, 3)
    translation : Tensor, shape (n S, 3)
    error : Tensor, shape (n S,)
        Empty for ``n = 0`` (a track without one valid frame fits nothing).

    Examples
    --------
    >>> from zedo_xr.estimator.settings import LiftSettings
    >>> canonical = torch.randn(2, 17, 3) * 0.3
    >>> uv, conf, K = torch.rand(3, 17, 2) * 500, torch.ones(3, 17), torch.eye(3).expand(3, 3, 3)
    >>> [tuple(t.shape) for t in initial_fit(canonical, uv, conf, K, LiftSettings())]
    [(6, 17, 3), (6, 3), (6,)]
    """
    n, S = uv.shape[0], canonical.shape[0]
    pose = canonical.repeat(n, 1, 1)
    if n == 0:  # nothing to fit: empty outputs
        return pose, uv.new_zeros((0, 3)), uv.new_zeros((0,))
    if pool is not None and S == 1 and pool.shape[0] > 1:
        # Pick each frame's start from the pool: screen all, fit the few best, keep the best fit.
        misfit = screen_pool(pool, uv, confidence, K, joints=settings.initial_joints)
        top = misfit.topk(min(POOL_REFITS, pool.shape[0]), dim=-1, largest=False).indices  # (n, R)
        R = top.shape[1]
        u, c, k = (t.repeat_interleave(R, 0) for t in (uv, confidence, K))
        pose, T, err = _solve(pool[top.reshape(-1)], u, c, k, settings, pitches, None)
        pick = torch.arange(n, device=uv.device) * R + err.reshape(n, R).argmin(-1)
        return pose[pick], T[pick], err[pick]
    u, c, k = (t.repeat_interleave(S, 0) for t in (uv, confidence, K))
    rank = torch.arange(S, device=u.device).repeat(n) % max(1, yaw_modes)
    return _solve(pose, u, c, k, settings, pitches, rank)


def _solve(
    pose: Tensor,
    uv: Tensor,
    confidence: Tensor,
    K: Tensor,
    settings: LiftSettings,
    pitches: tuple[float, ...],
    rank: Tensor | None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Row-wise initial fit of poses (B, J, 3) by the solver ``settings.initial`` names."""
    joints = settings.initial_joints
    if settings.initial == "adam":
        return fit_initial_pose_adam(pose, uv, confidence, K, joints=joints)
    if settings.initial == "none":
        return fit_initial_pose(pose, uv, confidence, K, joints=joints, yaw_steps=1, refine_steps=0)
    return fit_initial_pose(pose, uv, confidence, K, joints=joints, pitches=pitches, mode_rank=rank)
