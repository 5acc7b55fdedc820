import numpy as np
import pytest
import torch

from tests.estimator.conftest import K_H36M, STANDING, GaussianPrior, yaw
from zedo_xr.estimator.sequence import (
    SequenceSettings,
    bone_lengths,
    clean_keypoints,
    gaussian_kernel,
    interpolate,
    keyframes,
    lift_frames,
    lift_tracks,
    smooth_time,
    with_bone_lengths,
)
from zedo_xr.estimator.settings import resolve_settings

SETTINGS = resolve_settings("default", iterations=60, step_size=0.3)


class CountingPrior(GaussianPrior):
    """Counts the poses the network sees (calls x batch size)."""

    poses = 0

    def eps(self, x, t):
        self.poses += x.shape[0]
        return super().eps(x, t)


def track_scene(F=24, E=1, seed=0):
    """A person turning slowly while walking sideways, exact 2D; (F, E, ...) time-major."""
    rng = np.random.default_rng(seed)
    rel = np.stack([[yaw(STANDING, 0.4 + 0.01 * f + 0.3 * e) for e in range(E)] for f in range(F)])
    root = np.stack([[[-0.5 + 0.04 * f, 0.1, 5.0 + 0.2 * e] for e in range(E)] for f in range(F)])
    absolute = rel + root[:, :, None, :]
    proj = absolute @ K_H36M.T
    uv = proj[..., :2] / proj[..., 2:] + rng.normal(0, 0.0, proj[..., :2].shape)
    return rel, absolute, uv


def _tensors(uv, conf, device, dtype):
    F, E = uv.shape[:2]
    K = np.broadcast_to(K_H36M, (F, E, 3, 3)).copy()
    return (
        torch.as_tensor(uv, device=device, dtype=dtype),
        torch.as_tensor(conf, device=device, dtype=dtype),
        torch.as_tensor(K, device=device, dtype=dtype),
    )


def _mpjpe(pose, rel):
    pose = pose.cpu().double().numpy()
    return np.nanmean(np.linalg.norm((pose - pose[..., :1, :]) - rel, axis=-1), axis=-1)


def test_gaussian_kernel_and_smooth_time(device, dtype):
    k = gaussian_kernel(2.0, device, dtype)
    assert k.shape == (13,) and torch.isclose(k.sum(), torch.tensor(1.0, dtype=dtype, device=device))
    t = torch.arange(30, device=device, dtype=dtype)
    line = torch.stack([2 * t, -t], -1)  # a straight line is kept (away from the ends)
    out = smooth_time(line, torch.ones(30, 1, device=device, dtype=dtype), 1.5)
    assert out.shape == line.shape and torch.allclose(out[6:-6], line[6:-6], atol=1e-4)
    noisy = line + torch.randn(30, 2, generator=torch.Generator().manual_seed(0)).to(device, dtype)
    smoothed = smooth_time(noisy, torch.ones(30, 1, device=device, dtype=dtype), 1.5)
    assert (smoothed - line)[6:-6].abs().mean() < 0.6 * (noisy - line)[6:-6].abs().mean()
    assert torch.equal(smooth_time(noisy, torch.ones(30, 1, device=device, dtype=dtype), 0.0), noisy)


def test_bone_lengths_are_set_and_directions_kept(device, dtype):
    pose = torch.as_tensor(STANDING, device=device, dtype=dtype).expand(3, 17, 3)
    target = bone_lengths(pose)[0] * 1.1
    out = with_bone_lengths(pose, target)
    assert out.shape == pose.shape
    assert torch.allclose(bone_lengths(out), target.expand(3, 16), atol=1e-5)
    assert torch.allclose(out, pose * 1.1, atol=1e-5)  # a uniform scale of the tree about the pelvis


def test_keyframes_and_interpolate(device):
    valid = torch.ones(11, 2, dtype=torch.bool, device=device)
    valid[4:10, 1] = False  # keyframes 4 and 8 missing in track 1
    key = keyframes(valid, 4)
    assert key[:, 0].nonzero().flatten().tolist() == [0, 4, 8, 10]
    assert key[:, 1].nonzero().flatten().tolist() == [0, 10]
    values = torch.where(
        key, torch.arange(11, device=device).unsqueeze(-1).float() * 2, torch.zeros(11, 2, device=device)
    )
    out, found = interpolate(values.unsqueeze(-1), key)
    assert found.all()
    assert torch.allclose(out[:, 0, 0], torch.arange(11, device=device).float() * 2)
    empty, found = interpolate(values.unsqueeze(-1), torch.zeros(11, 2, dtype=torch.bool, device=device))
    assert not found.any() and (empty == 0).all()


def _bent_start(prior_class, device):
    """A prior of the standing pose whose initial pose has its arms raised and forward."""
    bent = STANDING.copy()
    bent[11:] += [0.0, -0.3, -0.2]
    return prior_class(STANDING, std=0.05, centres=bent).to(device, torch.float64)


def test_lift_frames_shapes(device, dtype):
    rel, absolute, uv = track_scene(F=4)
    u, c, K = _tensors(uv, np.ones(uv.shape[:-1]), device, dtype)
    prior = GaussianPrior(STANDING).to(device, dtype)
    canonical = prior.initial_poses(2)
    out = lift_frames(prior, canonical, u[:, 0], c[:, 0], K[:, 0], SETTINGS)
    assert out["pose"].shape == (4, 2, 17, 3) and out["reprojection_error"].shape == (4, 2)
    assert out["initial_error"].shape == (4, 2) and out["pose"].dtype == dtype


def test_lift_tracks_recovers_poses_with_fewer_network_poses(device, dtype):
    rel, absolute, uv = track_scene(F=24, E=2)
    u, c, K = _tensors(uv, np.ones(uv.shape[:-1]), device, dtype)
    prior = CountingPrior(rel[0, 0], std=0.05).to(device, dtype)
    canonical = prior.initial_poses(1)
    full = SETTINGS.loop.iterations
    warm = SequenceSettings(key_step=4, key_iterations=full, refine_iterations=16, refine_t_max=0.03)
    seq = lift_tracks(prior, canonical, u, c, K, fps=25.0, settings=SETTINGS, sequence=warm)
    seq_poses = prior.poses
    assert seq["pose"].shape == (24, 2, 1, 17, 3) and seq["translation"].shape == (24, 2, 1, 3)
    assert seq["valid"].all() and not seq["interpolated"].any()
    assert seq["bone_lengths"].shape == (2, 16)
    prior.poses = 0
    frames = lift_frames(
        prior, canonical, u.reshape(-1, 17, 2), c.reshape(-1, 17), K.reshape(-1, 3, 3), SETTINGS
    )
    # Warm start: keyframes every 4th frame + a short joint refinement of all frames.
    assert seq_poses < 0.6 * prior.poses, (seq_poses, prior.poses)
    err_seq = _mpjpe(seq["pose"][:, :, 0], rel).mean()
    err_frames = _mpjpe(frames["pose"][:, 0].reshape(24, 2, 17, 3), rel).mean()
    assert err_seq < max(1.2 * err_frames, 0.02), (err_seq, err_frames)
    assert seq["keyframe"][:, 0].nonzero().flatten().tolist() == [0, 4, 8, 12, 16, 20, 23]


def test_key_iterations_run_every_keyframes_own_loop(device):
    """key_iterations: each keyframe's own loop before the joint loop; 0: the initial fit only."""
    rel, absolute, uv = track_scene(F=12)
    u, c, K = _tensors(uv, np.ones(uv.shape[:-1]), device, torch.float64)
    prior = _bent_start(CountingPrior, device)
    counts, errors = {}, {}
    for key_iterations in (0, 6):
        prior.poses = 0
        seq = SequenceSettings(key_iterations=key_iterations, refine_iterations=4, refine_t_max=0.03)
        out = lift_tracks(prior, prior.initial_poses(1), u, c, K, fps=25.0, settings=SETTINGS, sequence=seq)
        counts[key_iterations] = prior.poses
        errors[key_iterations] = _mpjpe(out["pose"][:, 0, 0], rel[:, 0]).mean()
    per_loop = counts[0] // 12  # network poses per frame of a 4-iteration loop
    assert counts[6] == counts[0] + 12 * (per_loop + 2)  # every frame's own 6-iteration loop
    assert errors[6] < errors[0], errors  # the frame-wise loop brings the starts closer
    # with key_step > 1 only the keyframes run their own loop
    prior.poses = 0
    seq = SequenceSettings(key_step=4, key_iterations=6, refine_iterations=4)
    out = lift_tracks(prior, prior.initial_poses(1), u, c, K, fps=25.0, settings=SETTINGS, sequence=seq)
    assert 0 < int(out["keyframe"].sum()) < 12
    assert prior.poses == int(out["keyframe"].sum()) * (per_loop + 2) + counts[0]


def test_warm_start_needs_fewer_iterations(device):
    """From interpolated keyframes, 8 iterations beat 8 iterations from the initial fit."""
    rel, absolute, uv = track_scene(F=24)
    u, c, K = _tensors(uv, np.ones(uv.shape[:-1]), device, torch.float64)
    prior = _bent_start(GaussianPrior, device)
    common = dict(
        refine_iterations=8, refine_t_max=0.03, shared_bones=False, smooth_strength=0.0, smooth_seconds=0.0
    )
    warm = lift_tracks(
        prior,
        prior.initial_poses(1),
        u,
        c,
        K,
        fps=25.0,
        settings=SETTINGS,
        sequence=SequenceSettings(key_step=4, key_iterations=SETTINGS.loop.iterations, **common),
    )
    cold = lift_tracks(
        prior,
        prior.initial_poses(1),
        u,
        c,
        K,
        fps=25.0,
        settings=SETTINGS,
        sequence=SequenceSettings(key_step=1, key_iterations=0, **common),
    )
    between = [f for f in range(24) if f % 4]
    err_warm = _mpjpe(warm["pose"][between, 0, 0], rel[between, 0]).mean()
    err_cold = _mpjpe(cold["pose"][between, 0, 0], rel[between, 0]).mean()
    assert err_warm < 0.7 * err_cold, (err_warm, err_cold)


def test_joint_mode_smooths_noisy_2d(device):
    """Every frame in one joint loop: less jitter than frame by frame on noisy keypoints."""
    rel, absolute, uv = track_scene(F=32)
    uv = uv + np.random.default_rng(1).normal(0, 4.0, uv.shape)
    u, c, K = _tensors(uv, np.ones(uv.shape[:-1]), device, torch.float64)
    prior = GaussianPrior(rel[0, 0], std=0.1).to(device, torch.float64)
    seq = lift_tracks(prior, prior.initial_poses(1), u, c, K, fps=25.0, settings=SETTINGS)
    frames = lift_frames(prior, prior.initial_poses(1), u[:, 0], c[:, 0], K[:, 0], SETTINGS)

    def jitter(pose):
        r = pose - pose[..., :1, :]
        return (r[2:] - 2 * r[1:-1] + r[:-2]).norm(dim=-1).mean().item()

    assert jitter(seq["pose"][:, 0, 0]) < 0.5 * jitter(frames["pose"][:, 0])


def test_lift_tracks_shares_bone_lengths(device):
    rel, absolute, uv = track_scene(F=16)
    u, c, K = _tensors(uv, np.ones(uv.shape[:-1]), device, torch.float64)
    prior = GaussianPrior(rel[0, 0], std=0.1).to(device, torch.float64)
    seq = lift_tracks(prior, prior.initial_poses(2), u, c, K, fps=25.0, settings=SETTINGS)
    lengths = bone_lengths(seq["relative"][:, 0])  # (F, S, 16)
    assert torch.allclose(lengths, seq["bone_lengths"][0].expand_as(lengths), atol=1e-6)
    free = lift_tracks(
        prior,
        prior.initial_poses(2),
        u,
        c,
        K,
        fps=25.0,
        settings=SETTINGS,
        sequence=SequenceSettings(shared_bones=False),
    )
    assert bone_lengths(free["relative"][:, 0]).std(0).max() > 1e-4
    assert torch.isnan(free["bone_lengths"]).all()


def test_lift_tracks_missing_frames_are_nan_or_bridged(device):
    rel, absolute, uv = track_scene(F=30)
    conf = np.ones(uv.shape[:-1])
    uv = uv.copy()
    conf[5:7] = 0.0  # a 2-frame gap: bridged
    conf[14:24] = 0.0  # a 10-frame gap (0.4 s at 25 fps): not bridged
    conf[27:, :, 5:] = 0.0  # 5 joints at the end: too few, invalid, trailing
    uv[conf == 0] = np.nan
    u, c, K = _tensors(uv, conf, device, torch.float32)
    prior = GaussianPrior(rel[0, 0], std=0.05).to(device, torch.float32)
    seq = lift_tracks(prior, prior.initial_poses(1), u, c, K, fps=25.0, settings=SETTINGS)
    valid, interp = seq["valid"][:, 0].cpu().numpy(), seq["interpolated"][:, 0].cpu().numpy()
    assert not valid[[5, 6, *range(14, 24), 27, 28, 29]].any() and valid[[0, 4, 7, 13, 24, 26]].all()
    assert interp.nonzero()[0].tolist() == [5, 6]
    pose = seq["pose"][:, 0, 0].cpu().numpy()
    lifted = valid | interp
    assert np.isfinite(pose[lifted]).all() and np.isnan(pose[~lifted]).all()
    assert np.isnan(seq["reprojection_error"][~torch.as_tensor(lifted)].cpu().numpy()).all()
    # The bridged frames follow the motion (exact poses around them).
    assert _mpjpe(seq["pose"][[5, 6], 0, 0], rel[[5, 6], 0]).max() < 0.03


def test_sequence_settings_validation():
    with pytest.raises(ValueError, match="key_step"):
        SequenceSettings(key_step=0)
    with pytest.raises(ValueError, match="key_iterations"):
        SequenceSettings(key_iterations=-1)
    with pytest.raises(ValueError, match="smooth_strength"):
        SequenceSettings(smooth_strength=2)
    with pytest.raises(ValueError, match="outlier_fraction"):
        SequenceSettings(outlier_fraction=-0.1)


def test_lift_sequence_arrays_chunks_without_a_jump():
    from zedo_xr.estimator.sequence import lift_sequence_arrays

    rel, absolute, uv = track_scene(F=40, E=2)
    uv = uv + np.random.default_rng(3).normal(0, 2.0, uv.shape)
    conf = np.ones(uv.shape[:-1])
    conf[10, 1] = 0.0
    uv[10, 1] = np.nan
    K = np.broadcast_to(K_H36M, (40, 2, 3, 3)).copy()
    prior = GaussianPrior(rel[0, 0], std=0.1)
    kw = dict(fps=25.0, prior=prior, settings=SETTINGS, device="cpu", dtype="float64")
    whole = lift_sequence_arrays(uv, conf, K, **kw)
    chunked = lift_sequence_arrays(uv, conf, K, batch_size=16, **kw)
    assert whole["pose3d"].shape == (40, 2, 1, 17, 3) and whole["best_hypothesis"].shape == (40, 2)
    assert whole["interpolated"][10, 1] and not whole["valid"][10, 1]
    assert chunked["interpolated"][10, 1]
    rel_w = whole["pose3d"] - whole["pose3d"][..., :1, :]
    rel_c = chunked["pose3d"] - chunked["pose3d"][..., :1, :]
    # The chunked result stays close to the whole-sequence one, boundaries included.
    diff = np.linalg.norm(rel_w - rel_c, axis=-1)
    assert diff.mean() < 0.005 and diff.max() < 0.03, (diff.mean(), diff.max())
    step = np.linalg.norm(np.diff(rel_c[:, 0, 0], axis=0), axis=-1).mean(-1)
    assert step[[15, 31]].max() < 2 * np.median(step) + 0.002


def _moving_track(device, dtype, frames=12, speed=30.0):
    """A 300 px wide person moving ``speed`` px/frame to the right, (F, 1, 17, 2)."""
    t = torch.arange(frames, device=device, dtype=dtype)
    uv = torch.stack([t * speed, t * 5], -1)[:, None, None].expand(frames, 1, 17, 2).clone()
    uv[..., 0] += torch.linspace(0, 300, 17, device=device, dtype=dtype)
    return uv


def test_clean_keypoints_drops_a_jump_and_keeps_fast_motion(device, dtype):
    uv = _moving_track(device, dtype)
    ones = torch.ones(12, 1, 17, device=device, dtype=dtype)
    clean, conf = clean_keypoints(uv, ones, fps=25.0)
    torch.testing.assert_close(clean, uv)  # steady fast motion: nothing dropped or moved, ends included
    assert conf.dtype == dtype and bool((conf == 1).all())
    jumped = uv.clone()
    jumped[5, 0, 13] += torch.tensor([60.0, -30.0], device=device, dtype=dtype)  # a swapped wrist
    jumped[8, 0, 2] = float("nan")  # a missing keypoint is ignored, not spread
    ones[8, 0, 2] = 0.0
    clean, conf = clean_keypoints(jumped, ones, fps=25.0)
    assert conf[5, 0, 13] == 0 and conf[8, 0, 2] == 0 and int((conf == 0).sum()) == 2
    assert clean[conf > 0].isfinite().all()
    torch.testing.assert_close(clean[conf > 0], uv[conf > 0], atol=1e-3, rtol=0)


def test_clean_keypoints_averages_jitter_and_can_be_off(device, dtype):
    torch.manual_seed(0)
    uv = _moving_track(device, dtype, frames=40)
    noisy = uv + torch.randn_like(uv) * 5.0
    ones = torch.ones(40, 1, 17, device=device, dtype=dtype)
    clean, _ = clean_keypoints(noisy, ones, fps=25.0)
    before, after = ((x - uv).norm(dim=-1).mean() for x in (noisy, clean))
    assert after < 0.7 * before
    same, conf = clean_keypoints(noisy, ones, fps=25.0, outlier_fraction=0.0, smooth_seconds=0.0)
    torch.testing.assert_close(same, noisy)
    assert bool((conf == 1).all())
