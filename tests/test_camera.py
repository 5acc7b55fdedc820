import math

import numpy as np
import pytest
import torch

from zedo_xr import camera


def _K(device, dtype, n=None):
    K = torch.tensor(
        [[1145.0, 0.5, 512.0], [0.0, 1150.0, 515.0], [0.0, 0.0, 1.0]], device=device, dtype=dtype
    )
    return K if n is None else K.expand(n, 3, 3).clone()


def _tol(dtype):
    return dict(atol=1e-4, rtol=1e-4) if dtype == torch.float32 else dict(atol=1e-9, rtol=1e-9)


def test_project_and_rays_round_trip(device, dtype):
    g = torch.Generator().manual_seed(0)
    pts = (
        torch.randn(4, 17, 3, generator=g, dtype=dtype) * 0.4 + torch.tensor([0.0, 0.0, 5.0], dtype=dtype)
    ).to(device)
    K = _K(device, dtype, 4)
    uv = camera.project(pts, K)
    r = camera.rays(uv, K)
    torch.testing.assert_close(r.norm(dim=-1), torch.ones(4, 17, device=device, dtype=dtype), **_tol(dtype))
    # Each point lies on its own ray: its distance along the ray reproduces it.
    along = camera.project_onto_rays(pts, r)
    torch.testing.assert_close(along, pts, **_tol(dtype))
    torch.testing.assert_close(
        camera.project(r * 3.0, K), uv, atol=1e-3 if dtype == torch.float32 else 1e-8, rtol=1e-5
    )


def test_project_onto_rays_is_orthogonal(device, dtype):
    g = torch.Generator().manual_seed(1)
    pts = torch.randn(10, 3, 3, generator=g, dtype=dtype).to(device) + torch.tensor(
        [0, 0, 4.0], dtype=dtype, device=device
    )
    r = torch.nn.functional.normalize(torch.randn(10, 3, 3, generator=g, dtype=dtype).to(device), dim=-1)
    p = camera.project_onto_rays(pts, r)
    residual = pts - p
    torch.testing.assert_close(
        (residual * r).sum(-1), torch.zeros(10, 3, device=device, dtype=dtype), **_tol(dtype)
    )


def _brute_force_translation(pose, n, w):
    """Weighted least squares of the stacked linear system, solved with numpy lstsq."""
    rows, rhs = [], []
    for j in range(pose.shape[0]):
        a, b = n[j, 0], n[j, 1]
        X, Y, Z = pose[j]
        s = math.sqrt(w[j])
        rows += [[-s, 0, s * a], [0, -s, s * b]]
        rhs += [s * (X - a * Z), s * (Y - b * Z)]
    return np.linalg.lstsq(np.array(rows), np.array(rhs), rcond=None)[0]


def test_solve_translation_matches_brute_force(device, dtype):
    rng = np.random.default_rng(2)
    pose = rng.normal(0, 0.3, (5, 17, 3))
    truth = np.array([0.3, -0.2, 5.0])
    K = _K("cpu", torch.float64).numpy()
    proj = (pose + truth + rng.normal(0, 0.01, pose.shape)) @ K.T
    uv = proj[..., :2] / proj[..., 2:]
    w = rng.uniform(0, 1, (5, 17))
    n = camera.normalized_coordinates(
        torch.as_tensor(uv, dtype=dtype, device=device), torch.as_tensor(K, dtype=dtype, device=device)
    )
    T = camera.solve_translation(
        torch.as_tensor(pose, dtype=dtype, device=device),
        n,
        torch.as_tensor(w, dtype=dtype, device=device),
        damping=0.0,
    )
    nn = n.cpu().double().numpy()
    for b in range(5):
        expected = _brute_force_translation(pose[b], nn[b], w[b])
        np.testing.assert_allclose(
            T[b].cpu().double().numpy(), expected, atol=2e-3 if dtype == torch.float32 else 1e-8
        )


def test_solve_translation_exact_and_weights(device, dtype):
    rng = np.random.default_rng(3)
    pose = rng.normal(0, 0.3, (17, 3))
    truth = np.array([-0.4, 0.1, 4.2])
    K = _K("cpu", torch.float64).numpy()
    proj = (pose + truth) @ K.T
    uv = proj[..., :2] / proj[..., 2:]
    uv[3] += 80.0  # an outlier joint
    w = np.ones(17)
    w[3] = 0.0  # ... that zero weight removes
    n = camera.normalized_coordinates(
        torch.as_tensor(uv, dtype=dtype, device=device)[None],
        torch.as_tensor(K, dtype=dtype, device=device)[None],
    )
    T = camera.solve_translation(
        torch.as_tensor(pose, dtype=dtype, device=device)[None],
        n,
        torch.as_tensor(w, dtype=dtype, device=device)[None],
    )
    np.testing.assert_allclose(T[0].cpu().double().numpy(), truth, atol=1e-3)


def test_solve_translation_degenerate_uses_fallback(device, dtype):
    pose = torch.zeros(1, 17, 3, device=device, dtype=dtype)  # every joint at the root
    n = torch.zeros(1, 17, 3, device=device, dtype=dtype)
    n[..., 2] = 1
    w = torch.ones(1, 17, device=device, dtype=dtype)
    fallback = torch.tensor([[0.0, 0.0, 3.0]], device=device, dtype=dtype)
    T = camera.solve_translation(pose, n, w, fallback=fallback)
    torch.testing.assert_close(T, fallback)
    one_joint = torch.zeros(1, 17, device=device, dtype=dtype)
    one_joint[0, 0] = 1
    T = camera.solve_translation(
        torch.randn(1, 17, 3, dtype=dtype).to(device), n, one_joint, fallback=fallback
    )
    torch.testing.assert_close(T, fallback)
    assert torch.isfinite(camera.solve_translation(pose, n, w)).all()


@pytest.mark.parametrize("scale", [True, False])
def test_procrustes_recovers_similarity(device, dtype, scale):
    g = torch.Generator().manual_seed(4)
    x = torch.randn(6, 17, 3, generator=g, dtype=dtype).to(device)
    R = camera.quaternion_matrix(torch.randn(6, 4, generator=g, dtype=dtype)).to(device)
    s = (
        torch.rand(6, generator=g, dtype=dtype).to(device) + 0.5
        if scale
        else torch.ones(6, dtype=dtype, device=device)
    )
    t = torch.randn(6, 3, generator=g, dtype=dtype).to(device)
    y = s[:, None, None] * x @ R.transpose(-1, -2) + t[:, None]
    aligned, s_hat, R_hat, t_hat = camera.procrustes(x, y, scale=scale)
    torch.testing.assert_close(aligned, y, **_tol(dtype))
    torch.testing.assert_close(R_hat, R, **_tol(dtype))
    torch.testing.assert_close(s_hat, s, **_tol(dtype))


def test_procrustes_reflection(device, dtype):
    g = torch.Generator().manual_seed(5)
    x = torch.randn(3, 17, 3, generator=g, dtype=dtype).to(device)
    mirror = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=dtype, device=device))
    y = x @ mirror
    proper, *_ = camera.procrustes(x, y)
    improper, _, R, _ = camera.procrustes(x, y, allow_reflection=True)
    assert (proper - y).norm(dim=-1).mean() > 0.1
    torch.testing.assert_close(improper, y, **_tol(dtype))
    assert torch.allclose(torch.linalg.det(R), -torch.ones(3, dtype=dtype, device=device))


def test_rotations_are_rotations(device, dtype):
    g = torch.Generator().manual_seed(6)
    R = camera.quaternion_matrix(torch.randn(50, 4, generator=g, dtype=dtype)).to(device)
    eye = torch.eye(3, dtype=dtype, device=device).expand(50, 3, 3)
    torch.testing.assert_close(R @ R.transpose(-1, -2), eye, **_tol(dtype))
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(50, dtype=dtype, device=device), **_tol(dtype))


@pytest.mark.parametrize("axis", ["x", "y", "z"])
def test_axis_rotation_matches_quaternion(device, dtype, axis):
    # A rotation by a about unit axis n is the quaternion (cos a/2, sin a/2 n).
    angle = torch.tensor([0.3, -1.2], dtype=dtype, device=device)
    n = torch.zeros(2, 3, dtype=dtype, device=device)
    n[:, "xyz".index(axis)] = 1.0
    q = torch.cat([torch.cos(angle / 2)[:, None], torch.sin(angle / 2)[:, None] * n], -1)
    R = camera.axis_rotation(axis, angle)
    torch.testing.assert_close(R, camera.quaternion_matrix(q), **_tol(dtype))
    if axis in "xy":
        torch.testing.assert_close(getattr(camera, f"rotation_{axis}")(angle), R)


def test_axis_rotation_is_right_handed():
    quarter = torch.tensor(math.pi / 2)
    x, y, z = torch.eye(3)
    torch.testing.assert_close(camera.axis_rotation("z", quarter) @ x, y, atol=1e-6, rtol=0)
    torch.testing.assert_close(camera.axis_rotation("x", quarter) @ y, z, atol=1e-6, rtol=0)
    torch.testing.assert_close(camera.axis_rotation("y", quarter) @ z, x, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="axis: expected 'x', 'y' or 'z', got 'w'"):
        camera.axis_rotation("w", quarter)


def test_rotate_about_matches_quaternion_matrices(device, dtype):
    # Every vector about its own axis: the quaternion (cos a/2, sin a/2 n) turns it the same way.
    g = torch.Generator().manual_seed(7)
    v = torch.randn(6, 17, 3, generator=g, dtype=dtype).to(device)
    n = torch.randn(6, 17, 3, generator=g, dtype=dtype).to(device)
    n = n / n.norm(dim=-1, keepdim=True)
    a = (4 * torch.rand(6, 17, generator=g, dtype=dtype) - 2).to(device)
    q = torch.cat([torch.cos(a / 2)[..., None], torch.sin(a / 2)[..., None] * n], -1)
    expected = (camera.quaternion_matrix(q) @ v[..., None])[..., 0]
    torch.testing.assert_close(camera.rotate_about(v, n, a), expected, **_tol(dtype))


def test_rotate_about_broadcasts_and_agrees_with_axis_rotation(device, dtype):
    v = torch.randn(4, 17, 3, dtype=dtype).to(device)
    angle = torch.tensor([0.1, 0.5, -2.0, 3.0], dtype=dtype, device=device)
    for i, axis in enumerate("xyz"):
        unit = torch.zeros(3, dtype=dtype, device=device)
        unit[i] = 1.0
        # one axis for all, one angle per pose of 17 joints
        out = camera.rotate_about(v, unit, angle[:, None])
        R = camera.axis_rotation(axis, angle)
        torch.testing.assert_close(out, v @ R.transpose(-1, -2), **_tol(dtype))
    with pytest.raises(ValueError, match=r"axis: expected shape \(\*, 3\), got \(4, 2\)"):
        camera.rotate_about(v, torch.zeros(4, 2), angle)
    with pytest.raises(ValueError, match=r"v: expected shape \(\*, 3\)"):
        camera.rotate_about(torch.zeros(4, 17), torch.zeros(3), angle)


def test_world_to_camera_looks_down_and_forward(device, dtype):
    az = torch.tensor([0.0, math.pi / 2], dtype=dtype, device=device)
    pitch = torch.tensor([0.0, 0.2], dtype=dtype, device=device)
    R = camera.world_to_camera(az, pitch)
    up_world = torch.tensor([0.0, 0.0, 1.0], dtype=dtype, device=device)
    up_cam = R @ up_world
    assert (up_cam[:, 1] < 0).all()  # world up is camera -y (image up)
    forward_world = torch.stack([torch.cos(az), torch.sin(az), torch.zeros_like(az)], -1)
    assert ((R @ forward_world[..., None])[..., 2, 0] > 0.9).all()
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(2, dtype=dtype, device=device), **_tol(dtype))


def test_shape_errors():
    with pytest.raises(ValueError, match="points"):
        camera.project(torch.zeros(2, 17, 2), torch.eye(3))
    with pytest.raises(ValueError, match="K"):
        camera.project(torch.zeros(2, 17, 3), torch.eye(4))
    with pytest.raises(ValueError, match="procrustes"):
        camera.procrustes(torch.zeros(2, 17, 2), torch.zeros(2, 17, 2))
