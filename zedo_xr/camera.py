"""Pinhole camera geometry on batched torch tensors (CPU and CUDA alike).

Conventions: camera frame is OpenCV's (x right, y down, z forward), metres; pixels have their
origin at the top-left, u right, v down. Shapes use ``*`` for any leading batch dims, ``J`` for
joints. Nothing here knows about xarray; :func:`on_numpy` runs a kernel on numpy arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

Tensor = torch.Tensor

_EPS = 1e-9
_AXES = ("x", "y", "z")


def _check_last(x: Tensor, size: int, name: str) -> None:
    if x.shape[-1] != size:
        raise ValueError(f"{name}: expected shape (*, {size}), got {tuple(x.shape)}")


def _check_K(K: Tensor) -> None:
    if K.shape[-2:] != (3, 3):
        raise ValueError(f"K: expected shape (*, 3, 3), got {tuple(K.shape)}")


def project(points: Tensor, K: Tensor) -> Tensor:
    """Project camera-frame points to pixels.

    Parameters
    ----------
    points : Tensor, shape (*, J, 3)
        Points in the camera frame, metres, in front of the camera (z > 0).
    K : Tensor, shape (*, 3, 3)
        Pinhole intrinsics in pixels, broadcast against ``points``' batch dims.

    Returns
    -------
    Tensor, shape (*, J, 2)
        Pixel coordinates ``(u, v)``.

    Examples
    --------
    >>> K = torch.tensor([[1000.0, 0, 500], [0, 1000, 500], [0, 0, 1]])
    >>> project(torch.tensor([[0.1, -0.2, 2.0]]), K)
    tensor([[550., 400.]])
    """
    _check_last(points, 3, "points")
    _check_K(K)
    cam = points @ K.transpose(-1, -2)
    z = cam[..., 2:3]
    return cam[..., :2] / torch.where(z.abs() < _EPS, torch.full_like(z, _EPS), z)


def normalized_coordinates(uv: Tensor, K: Tensor) -> Tensor:
    """Pixels to normalised image coordinates ``K^-1 [u, v, 1]``, shape (*, J, 3) with z = 1.

    K is upper-triangular with ``K[2, 2] = 1`` (checked at the API edge), so the inverse is
    written out: two multiply-adds per point instead of a batched triangular solve.
    """
    _check_last(uv, 2, "uv")
    _check_K(K)
    fx, skew, cx = K[..., 0, 0, None], K[..., 0, 1, None], K[..., 0, 2, None]
    fy, cy = K[..., 1, 1, None], K[..., 1, 2, None]
    y = (uv[..., 1] - cy) / fy
    x = (uv[..., 0] - cx - skew * y) / fx
    return torch.stack([x, y, torch.ones_like(x)], dim=-1)


def rays(uv: Tensor, K: Tensor) -> Tensor:
    """Unit back-projection rays through the camera centre, shape (*, J, 3).

    Examples
    --------
    >>> K = torch.tensor([[1000.0, 0, 500], [0, 1000, 500], [0, 0, 1]])
    >>> r = rays(torch.tensor([[550.0, 400.0]]), K)
    >>> torch.allclose(project(r * 7.0, K), torch.tensor([[550.0, 400.0]]))
    True
    """
    n = normalized_coordinates(uv, K)
    return n / n.norm(dim=-1, keepdim=True)


def project_onto_rays(points: Tensor, unit_rays: Tensor) -> Tensor:
    """Orthogonal projection of each point onto its ray through the origin: ``(p . r) r``.

    Parameters
    ----------
    points : Tensor, shape (*, J, 3)
        Absolute camera-frame points.
    unit_rays : Tensor, shape (*, J, 3)
        Unit direction per joint, e.g. from :func:`rays`.
    """
    return (points * unit_rays).sum(-1, keepdim=True) * unit_rays


def solve_translation(
    pose: Tensor,
    normalized: Tensor,
    weights: Tensor,
    *,
    fallback: Tensor | None = None,
    damping: float = 1e-6,
    min_depth: float = 0.1,
) -> Tensor:
    """Closed-form weighted translation that puts a root-relative pose on its rays (Eq. 6).

    Minimises ``sum_j w_j [(X_j + Tx - a_j (Z_j + Tz))^2 + (Y_j + Ty - b_j (Z_j + Tz))^2]``,
    the depth-scaled (algebraic) reprojection error, where ``(a_j, b_j)`` are normalised image
    coordinates. The official code weights rows by ``c^2`` so ``w = c^4`` reproduces it.

    Parameters
    ----------
    pose : Tensor, shape (*, J, 3)
        Root-relative pose, camera axes, metres.
    normalized : Tensor, shape (*, J, 3) or (*, J, 2)
        Normalised image coordinates ``(a, b[, 1])`` from :func:`normalized_coordinates`.
    weights : Tensor, shape (*, J)
        Non-negative joint weights; zero drops a joint.
    fallback : Tensor, shape (*, 3), optional
        Translation used where the problem is degenerate (all weighted rays nearly parallel,
        or fewer than two weighted joints). The depth is also damped towards it. Without it the
        damping pulls towards depth 0, i.e. not at all in the well-posed case.
    damping : float
        Tikhonov weight, relative to the summed weights, on ``Tz - fallback_z``.
    min_depth : float
        Lower bound on ``Tz`` in metres, so the pose never ends up behind the camera.

    Returns
    -------
    Tensor, shape (*, 3)
    """
    _check_last(pose, 3, "pose")
    a, b = normalized[..., 0], normalized[..., 1]
    X, Y, Z = pose.unbind(-1)
    w = weights.clamp_min(0)
    W = w.sum(-1, keepdim=True)
    Wsafe = W.clamp_min(_EPS)
    ex, ey = X - a * Z, Y - b * Z

    def wmean(v: Tensor) -> Tensor:
        return (w * v).sum(-1, keepdim=True) / Wsafe

    a_bar, b_bar, mx, my = wmean(a), wmean(b), wmean(ex), wmean(ey)
    da, db = a - a_bar, b - b_bar
    num = (w * (da * (ex - mx) + db * (ey - my))).sum(-1)
    den = (w * (da * da + db * db)).sum(-1)
    lam = damping * W.squeeze(-1)
    tz_prior = fallback[..., 2] if fallback is not None else torch.zeros_like(num)
    tz = (num + lam * tz_prior) / (den + lam).clamp_min(_EPS)
    tz = tz.clamp_min(min_depth)
    a_bar, b_bar, mx, my = (v.squeeze(-1) for v in (a_bar, b_bar, mx, my))
    T = torch.stack([a_bar * tz - mx, b_bar * tz - my, tz], -1)
    if fallback is not None:
        # Fewer than two joints, or rays within ~1e-8 rad^2 of each other, leave Tz undetermined.
        degenerate = (den <= 1e-12 * W.squeeze(-1).clamp_min(_EPS)) | ((w > 0).sum(-1) < 2)
        T = torch.where(degenerate.unsqueeze(-1), fallback.expand_as(T), T)
    return T


def axis_rotation(axis: str, angle: Tensor) -> Tensor:
    """Rotations by ``angle`` radians about the coordinate axis ``axis``, shape (*, 3, 3).

    Right-handed: ``axis_rotation("z", a)`` turns +x towards +y. The one home of axis rotations
    (the initial-pose grid, BVH channels and DeepMimic joint angles all use it).

    Parameters
    ----------
    axis : {"x", "y", "z"}
    angle : Tensor, shape (*)

    Examples
    --------
    >>> R = axis_rotation("z", torch.tensor(torch.pi / 2))
    >>> torch.allclose(R @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]), atol=1e-6)
    True
    """
    if axis not in _AXES:
        raise ValueError(f"axis: expected 'x', 'y' or 'z', got {axis!r}")
    c, s = torch.cos(angle), torch.sin(angle)
    o, z = torch.ones_like(c), torch.zeros_like(c)
    rows = {
        "x": ((o, z, z), (z, c, -s), (z, s, c)),
        "y": ((c, z, s), (z, o, z), (-s, z, c)),
        "z": ((c, -s, z), (s, c, z), (z, z, o)),
    }[axis]
    return torch.stack([torch.stack(row, -1) for row in rows], -2)


def rotation_x(angle: Tensor) -> Tensor:
    """Rotations about the camera's x axis (pitch in an upright view), shape (*, 3, 3)."""
    return axis_rotation("x", angle)


def rotation_y(angle: Tensor) -> Tensor:
    """Rotations about the camera's y axis (vertical in an upright view), shape (*, 3, 3)."""
    return axis_rotation("y", angle)


def rotate_about(v: Tensor, axis: Tensor, angle: Tensor) -> Tensor:
    """Rotate vectors ``v`` about unit vectors ``axis`` by ``angle`` radians (Rodrigues' formula).

    Right-handed, like :func:`axis_rotation` (whose axes are the coordinate axes); here every
    vector may turn about its own axis, without building matrices.

    Parameters
    ----------
    v : Tensor, shape (*, 3)
    axis : Tensor, shape (*, 3)
        Unit rotation axes (not normalised here), broadcast against ``v``.
    angle : Tensor, shape (*)
        Broadcast against ``v.shape[:-1]``.

    Returns
    -------
    Tensor, shape of ``v`` broadcast with ``axis`` and ``angle``

    Examples
    --------
    >>> x, z = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 0.0, 1.0])
    >>> rotate_about(x, z, torch.tensor(torch.pi / 2)).round(decimals=6).abs()
    tensor([0., 1., 0.])
    >>> rotate_about(torch.randn(5, 17, 3), z.expand(5, 1, 3), torch.zeros(5, 1)).shape
    torch.Size([5, 17, 3])
    """
    _check_last(v, 3, "v")
    _check_last(axis, 3, "axis")
    c, s = torch.cos(angle)[..., None], torch.sin(angle)[..., None]
    k = axis.expand(torch.broadcast_shapes(axis.shape, v.shape))
    v = v.expand_as(k)
    return v * c + torch.cross(k, v, dim=-1) * s + k * (k * v).sum(-1, keepdim=True) * (1 - c)


def quaternion_matrix(q: Tensor) -> Tensor:
    """Rotation matrices (*, 3, 3) from quaternions (*, 4) ``(w, x, y, z)``, normalised first."""
    q = q / q.norm(dim=-1, keepdim=True)
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        [
            torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            torch.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            torch.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def world_to_camera(azimuth: Tensor, pitch: Tensor) -> Tensor:
    """Rotation from a Z-up world to an OpenCV camera looking horizontally then down by ``pitch``.

    The camera's forward axis has heading ``azimuth`` (radians, counter-clockwise from world +X)
    and points ``pitch`` radians below the horizon. Returns R with ``p_cam = R @ p_world``
    (before translation), shape (*, 3, 3).
    """
    ca, sa = torch.cos(azimuth), torch.sin(azimuth)
    cp, sp = torch.cos(pitch), torch.sin(pitch)
    z = torch.zeros_like(ca)
    forward = torch.stack([ca * cp, sa * cp, -sp], -1)
    right = torch.stack([sa, -ca, z], -1)
    down = torch.cross(forward, right, dim=-1)
    return torch.stack([right, down, forward], -2)


def procrustes(
    source: Tensor,
    target: Tensor,
    *,
    scale: bool = True,
    allow_reflection: bool = False,
    weights: Tensor | None = None,
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Batched (similarity) Procrustes alignment of ``source`` onto ``target``.

    Finds ``s, R, t`` minimising ``sum_j w_j |s R x_j + t - y_j|^2``.

    Parameters
    ----------
    source, target : Tensor, shape (*, J, 3)
    scale : bool
        Fit a scale factor (similarity); otherwise rigid.
    allow_reflection : bool
        Allow det(R) = -1, as the official ZeDO evaluation does. Off by default.
    weights : Tensor, shape (*, J), optional

    Returns
    -------
    aligned : Tensor, shape (*, J, 3)
    s : Tensor, shape (*)
    R : Tensor, shape (*, 3, 3)
    t : Tensor, shape (*, 3)
    """
    if source.shape[-1] != 3 or target.shape[-1] != 3:
        raise ValueError(
            f"procrustes: expected (*, J, 3) inputs, got {tuple(source.shape)} and {tuple(target.shape)}"
        )
    if weights is None:
        weights = torch.ones(source.shape[:-1], dtype=source.dtype, device=source.device)
    w = (weights / weights.sum(-1, keepdim=True).clamp_min(_EPS)).unsqueeze(-1)
    mu_x = (w * source).sum(-2, keepdim=True)
    mu_y = (w * target).sum(-2, keepdim=True)
    x0, y0 = source - mu_x, target - mu_y
    cov = (w * y0).transpose(-1, -2) @ x0  # (*, 3, 3)
    U, S, Vh = torch.linalg.svd(cov)
    d = torch.ones_like(S)
    if not allow_reflection:
        d[..., -1] = torch.sign(torch.linalg.det(U @ Vh))
        d[..., -1] = torch.where(d[..., -1] == 0, torch.ones_like(d[..., -1]), d[..., -1])
    R = U @ torch.diag_embed(d) @ Vh
    var_x = (w * x0 * x0).sum((-1, -2))
    s = (S * d).sum(-1) / var_x.clamp_min(_EPS) if scale else torch.ones_like(var_x)
    t = mu_y.squeeze(-2) - s.unsqueeze(-1) * (R @ mu_x.squeeze(-2).unsqueeze(-1)).squeeze(-1)
    aligned = s[..., None, None] * (source @ R.transpose(-1, -2)) + t.unsqueeze(-2)
    return aligned, s, R, t


def on_numpy(kernel: Callable[..., Tensor], *args: Any) -> np.ndarray:
    """Call one of these kernels on float64 numpy arrays and return a numpy array.

    The mocap readers and :func:`zedo_xr.datasets.make_views` compute in numpy; projection,
    rotations and quaternions have one home, the kernels here, which they call through this
    bridge rather than keep numpy copies. Non-array arguments (an axis name) pass unchanged.

    Examples
    --------
    >>> on_numpy(axis_rotation, "z", np.zeros(2)).shape
    (2, 3, 3)
    >>> on_numpy(project, np.array([[0.1, -0.2, 2.0]]), np.diag([1000.0, 1000.0, 1.0])).tolist()
    [[50.0, -100.0]]
    """
    tensors = [
        torch.tensor(np.asarray(a, dtype=np.float64)) if isinstance(a, np.ndarray) else a for a in args
    ]
    return kernel(*tensors).numpy()
