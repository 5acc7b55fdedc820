import numpy as np
import pytest
import torch

from tests.estimator.conftest import K_H36M, STANDING, make_scene, yaw
from zedo_xr.estimator.initial import driver_mask, fit_initial_pose, fit_initial_pose_adam


def _tensors(uv, n, device, dtype, conf=None):
    u = torch.as_tensor(uv, device=device, dtype=dtype)
    c = (
        torch.ones(n, 17, device=device, dtype=dtype)
        if conf is None
        else torch.as_tensor(conf, device=device, dtype=dtype)
    )
    K = torch.as_tensor(np.broadcast_to(K_H36M, (n, 3, 3)).copy(), device=device, dtype=dtype)
    return u, c, K


# Pelvis and hips alone cannot tell facing from facing away (a real ambiguity), so only the
# larger driver sets are held to recovering the yaw.
@pytest.mark.parametrize("joints", ["torso", "all"])
def test_grid_fit_recovers_yaw_and_translation(device, dtype, joints):
    rel, absolute, uv = make_scene(8, seed=1)
    u, c, K = _tensors(uv, 8, device, dtype)
    canonical = torch.as_tensor(np.broadcast_to(STANDING, (8, 17, 3)).copy(), device=device, dtype=dtype)
    pose, T, err = fit_initial_pose(canonical, u, c, K, joints=joints)
    assert pose.shape == (8, 17, 3) and T.shape == (8, 3) and err.shape == (8,)
    # The GT is the standing pose (plus 1 cm noise) yawed: the fit must find the yaw.
    mpjpe = (pose.cpu().double().numpy() - rel).__abs__().max()
    assert mpjpe < 0.06
    np.testing.assert_allclose(T.cpu().double().numpy(), absolute[:, 0], atol=0.25)
    assert err.max().item() < 8.0


def test_grid_fit_ignores_missing_joints(device, dtype):
    rel, absolute, uv = make_scene(4, seed=2)
    conf = np.ones((4, 17))
    conf[:, [1, 11]] = 0.0
    uv = uv.copy()
    uv[:, [1, 11]] = np.nan
    u, c, K = _tensors(uv, 4, device, dtype, conf)
    canonical = torch.as_tensor(np.broadcast_to(STANDING, (4, 17, 3)).copy(), device=device, dtype=dtype)
    pose, T, err = fit_initial_pose(canonical, u, c, K)
    assert torch.isfinite(pose).all() and torch.isfinite(T).all()
    np.testing.assert_allclose(T.cpu().double().numpy(), absolute[:, 0], atol=0.3)


def test_adam_fit_improves_on_identity(device):
    rel, absolute, uv = make_scene(4, seed=3)
    u, c, K = _tensors(uv, 4, device, torch.float64)
    canonical = torch.as_tensor(np.broadcast_to(STANDING, (4, 17, 3)).copy(), device=device)
    _, _, err0 = fit_initial_pose_adam(canonical, u, c, K, steps=0)
    _, T, err = fit_initial_pose_adam(canonical, u, c, K, steps=200)
    assert (err <= err0 + 1e-6).all()
    assert err.mean() < err0.mean()


def test_driver_mask_rejects_unknown():
    with pytest.raises(ValueError, match="initial_joints"):
        driver_mask("feet")


def test_yaw_helper_is_a_rotation():
    p = yaw(STANDING, 0.7)
    np.testing.assert_allclose(np.linalg.norm(p, axis=-1), np.linalg.norm(STANDING, axis=-1))


def test_second_yaw_mode_is_the_other_minimum(device):
    rel, absolute, uv = make_scene(3, seed=7)
    u, c, K = _tensors(uv, 3, device, torch.float64)
    canonical = torch.as_tensor(np.broadcast_to(STANDING, (3, 17, 3)).copy(), device=device)
    pose0, _, err0 = fit_initial_pose(
        canonical, u, c, K, joints="torso", mode_rank=torch.zeros(3, dtype=torch.long)
    )
    pose1, _, err1 = fit_initial_pose(
        canonical, u, c, K, joints="torso", mode_rank=torch.ones(3, dtype=torch.long)
    )
    assert (err1 >= err0 - 1e-9).all()
    # A different local minimum means a clearly different orientation.
    assert ((pose1 - pose0).norm(dim=-1).mean(-1) > 0.02).all()


@pytest.mark.parametrize("initial", ["grid", "adam", "none"])
def test_initial_fit_batches_frames_by_hypotheses(device, initial):
    # Row i S + s is hypothesis s of frame i, and equals the solver run on that pair alone.
    from zedo_xr.estimator.initial import initial_fit
    from zedo_xr.estimator.settings import LiftSettings

    _, _, uv = make_scene(3, seed=4)
    u, c, K = _tensors(uv, 3, device, torch.float64)
    canonical = torch.as_tensor(np.stack([STANDING, yaw(STANDING, 2.5)]), device=device)
    settings = LiftSettings().replace(initial=initial, initial_joints="torso")
    pose, T, err = initial_fit(canonical, u, c, K, settings)
    assert pose.shape == (6, 17, 3) and T.shape == (6, 3) and err.shape == (6,)
    solver = {
        "grid": lambda *a: fit_initial_pose(*a, joints="torso"),
        "adam": lambda *a: fit_initial_pose_adam(*a, joints="torso"),
        "none": lambda *a: fit_initial_pose(*a, joints="torso", yaw_steps=1, refine_steps=0),
    }[initial]
    for i, s in [(0, 1), (2, 0)]:
        alone = solver(canonical[s : s + 1], u[i : i + 1], c[i : i + 1], K[i : i + 1])
        torch.testing.assert_close(pose[2 * i + s], alone[0][0], atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(T[2 * i + s], alone[1][0], atol=1e-6, rtol=1e-6)
    # nothing to fit: empty outputs, no crash
    empty = initial_fit(canonical, u[:0], c[:0], K[:0], settings)
    assert [tuple(t.shape) for t in empty] == [(0, 17, 3), (0, 3), (0,)]


def test_initial_fit_spreads_hypotheses_over_yaw_modes(device):
    from zedo_xr.estimator.initial import initial_fit
    from zedo_xr.estimator.settings import LiftSettings

    _, _, uv = make_scene(2, seed=7)
    u, c, K = _tensors(uv, 2, device, torch.float64)
    canonical = torch.as_tensor(np.stack([STANDING, STANDING]), device=device)
    settings = LiftSettings().replace(initial_joints="torso")
    same, _, _ = initial_fit(canonical, u, c, K, settings)
    spread, _, _ = initial_fit(canonical, u, c, K, settings, yaw_modes=2)
    torch.testing.assert_close(same[0], same[1])  # one mode: both hypotheses alike
    assert (spread[1::2] - spread[0::2]).norm(dim=-1).mean(-1).min() > 0.02


def _distinct_poses() -> np.ndarray:
    """Standing, arms raised, crouched and one-knee-up poses (canonical frame), (4, 17, 3)."""
    arms_up = STANDING.copy()
    arms_up[[12, 15], 1] = -0.9  # elbows above the head
    arms_up[[13, 16], 1] = -1.15
    crouch = STANDING.copy()
    crouch[[2, 5], 2] -= 0.35  # knees forward, feet under the pelvis
    crouch[[2, 5], 1] = 0.3
    crouch[[3, 6], 1] = 0.55
    knee_up = STANDING.copy()
    knee_up[5] = [0.12, 0.05, -0.42]  # left thigh horizontal, shin hanging
    knee_up[6] = [0.12, 0.45, -0.45]
    return np.stack([STANDING, arms_up, crouch, knee_up])


def _pool_scene(device, dtype, seed=11):
    rng = np.random.default_rng(seed)
    pool = _distinct_poses()
    which = np.array([1, 2, 3, 0, 2, 1])
    rel = np.stack([yaw(pool[k], a) for k, a in zip(which, rng.uniform(-np.pi, np.pi, 6), strict=True)])
    absolute = rel + np.array([0.2, 0.1, 5.0])
    proj = absolute @ K_H36M.T
    u, c, K = _tensors(proj[..., :2] / proj[..., 2:], 6, device, dtype)
    return torch.as_tensor(pool, device=device, dtype=dtype), which, rel, u, c, K


def test_screen_pool_ranks_the_generating_pose_first(device, dtype):
    from zedo_xr.estimator.initial import screen_pool

    pool, which, _, u, c, K = _pool_scene(device, dtype)
    misfit = screen_pool(pool, u, c, K)
    assert misfit.shape == (6, 4) and misfit.dtype == dtype and misfit.device.type == device.type
    assert misfit.argmin(-1).cpu().tolist() == which.tolist()
    assert ((misfit >= -1e-5) & (misfit <= 1 + 1e-5)).all()
    # a missing joint is ignored, not read as a NaN
    c[:, 13] = 0.0
    u[:, 13] = float("nan")
    assert screen_pool(pool, u, c, K).isfinite().all()


def test_initial_fit_starts_one_hypothesis_from_the_best_pool_pose(device, dtype):
    from zedo_xr.estimator.initial import initial_fit
    from zedo_xr.estimator.settings import LiftSettings

    pool, _, rel, u, c, K = _pool_scene(device, dtype)
    settings = LiftSettings()
    mean_start = pool[:1]
    alone, _, err_alone = initial_fit(mean_start, u, c, K, settings)
    pose, T, err = initial_fit(mean_start, u, c, K, settings, pool=pool)
    assert pose.shape == (6, 17, 3) and T.shape == (6, 3) and err.shape == (6,)
    assert (pose.cpu().double().numpy() - rel).__abs__().max() < 0.06  # the right pose, turned right
    assert (err <= err_alone + 1e-4).all() and err.max() < 1.0
    # more hypotheses keep their own starts: the pool is not used
    two = torch.stack([pool[0], pool[0]])
    torch.testing.assert_close(
        initial_fit(two, u, c, K, settings, pool=pool)[0], initial_fit(two, u, c, K, settings)[0]
    )


def test_initial_pool_setting():
    from zedo_xr.estimator.settings import PRESETS, LiftSettings

    assert LiftSettings().initial_pool == 50 and PRESETS["parity"].initial_pool == 1
    with pytest.raises(ValueError, match="initial_pool"):
        LiftSettings(initial_pool=0)
