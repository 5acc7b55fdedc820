import numpy as np
import pytest
import torch

from tests.estimator.conftest import K_H36M, STANDING, GaussianPrior, make_scene
from zedo_xr.estimator.initial import fit_initial_pose
from zedo_xr.estimator.loop import LoopSettings, optimize, time_grid


def _run(rel, uv, conf, settings, device, dtype, std=0.02):
    n = uv.shape[0]
    prior = GaussianPrior(rel[0], std=std).to(device, dtype)
    u = torch.as_tensor(uv, device=device, dtype=dtype)
    c = torch.as_tensor(conf, device=device, dtype=dtype)
    K = torch.as_tensor(np.broadcast_to(K_H36M, (n, 3, 3)).copy(), device=device, dtype=dtype)
    canonical = torch.as_tensor(np.broadcast_to(STANDING, (n, 17, 3)).copy(), device=device, dtype=dtype)
    pose0, T0, _ = fit_initial_pose(canonical, u, c, K)
    return optimize(prior, pose0, T0, u, c, K, settings), prior


def _same_pose_scene(n=5, seed=0):
    """Frames that share one root-relative pose (yawed) at different places."""
    rel, absolute, uv = make_scene(1, seed=seed)
    rng = np.random.default_rng(seed)
    roots = np.stack([rng.uniform(-0.5, 0.5, n), rng.uniform(-0.2, 0.2, n), rng.uniform(4, 6, n)], -1)
    absolute = rel[0][None] + roots[:, None]
    proj = absolute @ K_H36M.T
    return np.broadcast_to(rel[0], (n, 17, 3)).copy(), absolute, proj[..., :2] / proj[..., 2:]


@pytest.mark.parametrize(
    "settings",
    [
        LoopSettings(iterations=200, step="tweedie", step_size=0.2, translation_power=2.0),
        LoopSettings(iterations=300, step="parity", step_size=1e-3),
        LoopSettings(iterations=100, step="tweedie", step_size=0.3, final_projection=True),
    ],
    ids=["tweedie", "parity", "final-projection"],
)
def test_loop_recovers_pose_and_translation(device, dtype, settings):
    rel, absolute, uv = _same_pose_scene()
    res, prior = _run(rel, uv, np.ones((5, 17)), settings, device, dtype)
    pose = res["pose"].cpu().double().numpy()
    relative = pose - pose[:, :1]
    mpjpe = np.linalg.norm(relative - rel, axis=-1).mean()
    assert mpjpe < 0.015, mpjpe
    # Depth is fixed only through the prior's size; a few percent at 5 m is the scale ambiguity.
    depth_error = np.abs(res["translation"].cpu().double().numpy()[:, 2] - absolute[:, 0, 2])
    assert depth_error.max() < 0.15, depth_error
    assert res["reprojection_error"].max().item() < 5.0
    assert prior.calls == settings.iterations + 1
    assert res["translation"].shape == (5, 3) and res["residual"].shape == (5,)


def test_missing_joints_are_filled_by_prior(device):
    rel, absolute, uv = _same_pose_scene(seed=4)
    conf = np.ones((5, 17))
    conf[:, [13, 16]] = 0.0  # both wrists missing
    uv = uv.copy()
    uv[:, [13, 16]] = np.nan
    res, _ = _run(
        rel, uv, conf, LoopSettings(iterations=200, step="tweedie", step_size=0.2), device, torch.float64
    )
    pose = res["pose"].cpu().numpy()
    assert np.isfinite(pose).all()
    err = np.linalg.norm(pose - absolute, axis=-1)
    assert err[:, [13, 16]].mean() < 0.06
    assert np.isfinite(res["reprojection_error"].cpu().numpy()).all()


def test_callback_sees_every_iteration():
    rel, absolute, uv = _same_pose_scene(n=2)
    seen = []
    prior = GaussianPrior(rel[0])
    u = torch.as_tensor(uv, dtype=torch.float32)
    c = torch.ones(2, 17)
    K = torch.as_tensor(np.broadcast_to(K_H36M, (2, 3, 3)).copy(), dtype=torch.float32)
    x0 = torch.as_tensor(rel, dtype=torch.float32)
    T0 = torch.as_tensor(absolute[:, 0], dtype=torch.float32)
    optimize(prior, x0, T0, u, c, K, LoopSettings(iterations=7), callback=lambda d: seen.append(d["i"]))
    assert seen == list(range(7))


def test_time_grid_and_validation():
    ts = time_grid(LoopSettings(iterations=1000), torch.device("cpu"), torch.float64)
    assert ts[0].item() == pytest.approx(0.1) and ts[-1].item() == pytest.approx(0.01)
    with pytest.raises(ValueError, match="step"):
        LoopSettings(step="euler")
    with pytest.raises(ValueError, match="warmup"):
        LoopSettings(warmup=2)


def test_robust_weights_down_weight_outliers(device, dtype):
    from zedo_xr.estimator.loop import robust_weights

    r = torch.tensor([[3.0, 4.0, 2.0, 5.0, 60.0], [40.0, 50.0, 45.0, 60.0, 55.0]], device=device, dtype=dtype)
    visible = torch.tensor([[True] * 5, [True, True, True, True, False]], device=device)
    gm = robust_weights(r, visible, loss="geman_mcclure", scale=3.0, min_px=8.0)
    assert gm.shape == r.shape and gm.dtype == dtype and gm.device.type == device.type
    assert gm[0, :4].min() > 0.7 and gm[0, 4] < 0.05
    # Residuals large everywhere (early iterations) are not outliers: the scale is relative.
    assert gm[1, :4].min() > 0.5 and gm[1, 4] == 0
    hub = robust_weights(r, visible, loss="huber", scale=3.0, min_px=8.0)
    assert hub[0, 4] == pytest.approx(12.0 / 60.0)
    assert torch.equal(robust_weights(r, visible, loss="none"), visible.to(dtype))
    with pytest.raises(ValueError, match="robust"):
        robust_weights(r, visible, loss="cauchy")
    with pytest.raises(ValueError, match="robust"):
        LoopSettings(robust="cauchy")


def test_robust_loop_resists_a_wrong_wrist(device):
    rel, absolute, uv = _same_pose_scene(seed=2)
    uv = uv.copy()
    uv[:, 13, 0] += 60.0  # left wrist 60 px off in every frame
    errors, weights = {}, {}
    for robust in ("none", "geman_mcclure"):
        settings = LoopSettings(
            iterations=200, step="tweedie", step_size=0.2, robust=robust, robust_scale=4.0, robust_min_px=8.0
        )
        res, _ = _run(rel, uv, np.ones((5, 17)), settings, device, torch.float64, std=0.05)
        pose = res["pose"].cpu().numpy()
        err = np.linalg.norm((pose - pose[:, :1]) - rel, axis=-1)
        errors[robust] = (err[:, 13].mean(), err[:, [j for j in range(17) if j != 13]].mean())
        weights[robust] = res["joint_weight"].cpu().numpy()
    assert weights["geman_mcclure"][:, 13].max() < 0.1
    assert weights["geman_mcclure"][:, [0, 1, 4, 7]].min() > 0.5
    assert (weights["none"] == 1).all()
    # The wrong wrist is left to the prior instead of being pulled 0.2 m off; the rest stays put.
    assert errors["geman_mcclure"][0] < 0.3 * errors["none"][0], errors
    assert errors["geman_mcclure"][1] <= 1.05 * errors["none"][1], errors


def test_register_step_rule_makes_the_name_valid_in_settings():
    from zedo_xr.estimator import loop
    from zedo_xr.estimator.settings import LoopSettings

    with pytest.raises(ValueError, match="step: expected one of"):
        LoopSettings(step="halfway")

    def halfway(prior, x, t, step_size):
        return loop.tweedie_step(prior, x, t, step_size / 2)

    try:
        loop.register_step_rule("halfway", halfway)
        loop.register_step_rule("halfway", halfway)  # idempotent
        assert LoopSettings(step="halfway").step == "halfway"
        assert loop.STEP_RULES["halfway"] is halfway
    finally:
        from zedo_xr.estimator import settings

        loop.STEP_RULES.pop("halfway", None)
        if "halfway" in settings.STEP_RULES:
            settings.STEP_RULES.remove("halfway")
    with pytest.raises(ValueError, match="rule: expected a function"):
        loop.register_step_rule("broken", None)  # type: ignore[arg-type]
