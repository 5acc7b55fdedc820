import json

import numpy as np
import pytest
import torch
import xarray as xr

from tests.prior.conftest import small_share, two_sources
from zedo_xr.prior import load_prior, train_prior
from zedo_xr.prior.augment import bone_length_factors, camera_views, scale_bones
from zedo_xr.prior.config import TrainConfig
from zedo_xr.prior.train import frame_sources, learning_rate, sample_times, source_weights
from zedo_xr.skeleton import H36M_BONES, flip_permutation

TINY = {
    "batch_size": 64,
    "warmup": 2,
    "width": 64,
    "blocks": 1,
    "progress": False,
    "device": "cpu",
    "hypotheses": False,
}


def _da(poses):
    return xr.DataArray(poses, dims=("frame", "joint", "coord"))


def _state(prior):
    return {k: v.clone() for k, v in prior.network.state_dict().items()}


def test_tiny_prior_saves_and_reloads_bit_identically(world_poses, tmp_path):
    from zedo_xr.prior.hypotheses import kmeans_hypotheses

    prior = train_prior(_da(world_poses), steps=4, **TINY)
    prior.hypotheses = kmeans_hypotheses(world_poses, sizes=(1, 5), seed=0)
    prior.hypotheses[-1] = world_poses[:9]
    prior.save(tmp_path / "p")
    again = load_prior(tmp_path / "p")
    x = torch.randn(7, 17, 3)
    assert torch.equal(prior.eps(x, 0.05), again.eps(x, 0.05))
    assert torch.equal(prior.eps(x, torch.full((7,), 0.3)), again.eps(x, torch.full((7,), 0.3)))
    assert prior.content_hash == again.content_hash == again.card["content_hash"]
    assert set(again.hypotheses) == {1, 5, -1}
    assert np.array_equal(again.hypotheses[5], prior.hypotheses[5])
    card = json.loads((tmp_path / "p" / "card.json").read_text())
    assert card["architecture"]["width"] == 64 and card["schedule"] == "subvp"
    assert card["training"]["steps_done"] == 4


def test_fp16_storage_loads_as_fp32(world_poses, tmp_path):
    prior = train_prior(_da(world_poses), steps=2, **TINY)
    prior.save(tmp_path / "h", half=True)
    again = load_prior(tmp_path / "h")
    assert again.dtype == torch.float32
    assert again.content_hash == again.card["content_hash"]
    x = torch.randn(3, 17, 3) * 0.3
    torch.testing.assert_close(again.eps(x, 0.05), prior.eps(x, 0.05), atol=2e-2, rtol=2e-2)


@pytest.mark.parametrize("kind", ["subvp", "ddpm"])
def test_interrupted_training_resumes_to_the_same_result(world_poses, tmp_path, kind):
    da = _da(world_poses)
    settings = {**TINY, "steps": 8, "schedule": kind, "checkpoint_every": 3, "seed": 3}
    full = train_prior(da, **settings)
    # "interrupted" after step 5: the last checkpoint is at step 3, so steps 4-5 are redone
    train_prior(da, checkpoint_dir=tmp_path, stop_after=5, **{**settings, "checkpoint_every": 3})
    meta = json.loads((tmp_path / "state.json").read_text())
    assert meta["step"] == 5  # stop_after also checkpoints
    resumed = train_prior(da, checkpoint_dir=tmp_path, **settings)
    assert resumed.card["training"]["steps_done"] == 8
    a, b = _state(full), _state(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_other_settings(world_poses, tmp_path):
    da = _da(world_poses)
    train_prior(da, steps=2, checkpoint_dir=tmp_path, **TINY)
    with pytest.raises(ValueError, match="settings differ"):
        train_prior(da, steps=4, checkpoint_dir=tmp_path, **{**TINY, "lr": 1e-3})


def test_camera_views_are_root_relative_upright_and_flipped(world_poses):
    g = torch.Generator().manual_seed(0)
    x = camera_views(torch.from_numpy(world_poses), g, flip=True)
    assert torch.allclose(x[:, 0], torch.zeros(3), atol=1e-6)
    # camera y is down and the pitch is at most 20 degrees: the thorax is above the pelvis
    assert (x[:, 8, 1] < -0.3).all()
    # bone lengths are preserved by rotation and flip
    hip = (x[:, 1] - x[:, 0]).norm(dim=-1)
    ref = torch.from_numpy(world_poses[:, 1] - world_poses[:, 0]).norm(dim=-1)
    hip_l = (x[:, 4] - x[:, 0]).norm(dim=-1)
    ref_l = torch.from_numpy(world_poses[:, 4] - world_poses[:, 0]).norm(dim=-1)
    flipped = ~torch.isclose(hip, ref, atol=1e-5)
    assert 0.3 < flipped.float().mean() < 0.7
    torch.testing.assert_close(hip[flipped], ref_l[flipped])
    torch.testing.assert_close(hip_l[flipped], ref[flipped])


def test_scale_bones_scales_each_bone_and_keeps_directions(world_poses, device, dtype):
    pose = torch.from_numpy(world_poses[:5]).to(device, dtype)
    factors = torch.linspace(0.5, 1.5, 5 * 17, device=device, dtype=dtype).reshape(5, 17)
    out = scale_bones(pose, factors)
    torch.testing.assert_close(out[:, 0], pose[:, 0])
    for parent, child in H36M_BONES:
        before, after = pose[:, child] - pose[:, parent], out[:, child] - out[:, parent]
        torch.testing.assert_close(after, factors[:, child, None] * before)
    torch.testing.assert_close(scale_bones(pose, torch.ones_like(factors)), pose)


def test_scale_bones_checks_shapes_and_tree_order():
    with pytest.raises(ValueError, match="pose: expected shape"):
        scale_bones(torch.zeros(2, 16, 3), torch.ones(2, 16))
    with pytest.raises(ValueError, match="factors: expected shape"):
        scale_bones(torch.zeros(2, 17, 3), torch.ones(2, 16))
    with pytest.raises(ValueError, match="parent before its child"):
        scale_bones(torch.zeros(1, 3, 3), torch.ones(1, 3), parents=(-1, 2, 0))


def test_bone_length_factors_are_symmetric_and_log_normal():
    twins = torch.as_tensor(flip_permutation())
    g = torch.Generator().manual_seed(0)
    f = bone_length_factors(20000, 0.2, g, twin_index=twins)
    assert f.shape == (20000, 17) and (f > 0).all()
    torch.testing.assert_close(f, f[:, twins])
    assert abs(float(f.log().std()) - 0.2) < 0.01
    assert abs(float(f.log().mean())) < 0.01


def test_bone_length_augmentation_trains_and_resumes_old_checkpoints(world_poses, tmp_path):
    da = _da(world_poses)
    prior = train_prior(da, steps=2, bone_length_std=0.2, **TINY)
    assert prior.card["training"]["bone_length_std"] == 0.2
    # a checkpoint written before the setting existed resumes as bone_length_std=0
    train_prior(da, steps=2, checkpoint_dir=tmp_path, **TINY)
    meta = json.loads((tmp_path / "state.json").read_text())
    del meta["config"]["bone_length_std"]
    (tmp_path / "state.json").write_text(json.dumps(meta))
    assert train_prior(da, steps=3, checkpoint_dir=tmp_path, **TINY).card["training"]["steps_done"] == 3
    with pytest.raises(ValueError, match="bone_length_std"):
        train_prior(da, steps=4, checkpoint_dir=tmp_path, bone_length_std=0.1, **TINY)


def test_time_sampling_modes():
    g = torch.Generator().manual_seed(0)
    assert sample_times(1000, "truncated", g).max() <= 0.1
    t = sample_times(10000, "mixed", g, low_fraction=0.8)
    assert 0.8 < float((t <= 0.1).float().mean()) < 0.86
    assert float(sample_times(1000, "uniform", g).max()) > 0.9
    with pytest.raises(ValueError, match="t_sampling"):
        sample_times(3, "log", g)


def test_learning_rate_schedule():
    assert learning_rate(0, lr=1.0, warmup=10, steps=100, min_lr_ratio=0) == pytest.approx(0.1)
    assert learning_rate(9, lr=1.0, warmup=10, steps=100, min_lr_ratio=0) == pytest.approx(1.0)
    assert learning_rate(100, lr=1.0, warmup=10, steps=100, min_lr_ratio=0.1) == pytest.approx(0.1)


def test_bad_inputs_are_named(world_poses):
    with pytest.raises(ValueError, match="schedule"):
        train_prior(_da(world_poses), steps=1, schedule="ve", **TINY)
    with pytest.raises(ValueError, match="batch_size"):
        train_prior(_da(world_poses[:10]), steps=1, **TINY)
    # the device goes through zedo_xr.device.resolve_device: the same message as lift's
    with pytest.raises(ValueError, match=r"device: expected 'auto'.*got 'gpu0'"):
        train_prior(_da(world_poses), steps=1, **{**TINY, "device": "gpu0"})
    assert np.isfinite(world_poses).all()


def test_eps_casts_other_dtypes(world_poses):
    prior = train_prior(_da(world_poses), steps=1, **TINY)
    x = torch.randn(3, 17, 3, dtype=torch.float64)
    out = prior.eps(x, 0.05)
    assert out.dtype == torch.float64
    torch.testing.assert_close(out.float(), prior.eps(x.float(), 0.05))


def test_source_weights_give_each_source_its_share():
    codes = np.array([0] * 900 + [1] * 100 + [2] * 25)
    shares = lambda w: [round(float(w[codes == k].sum()), 4) for k in range(3)]  # noqa: E731
    assert shares(source_weights(codes, 0.0)) == [round(n / 1025, 4) for n in (900, 100, 25)]
    assert shares(source_weights(codes, 1.0)) == [0.3333, 0.3333, 0.3333]
    assert shares(source_weights(codes, 0.5)) == [round(n**0.5 / 45, 4) for n in (900, 100, 25)]
    with pytest.raises(ValueError, match=r"balance: expected a number in \[0, 1\], got 2"):
        source_weights(codes, 2)


def test_frame_sources_follow_the_kept_frames(world_poses):
    poses = world_poses.copy()
    poses[1] = np.nan  # dropped by poses_to_array, so dropped here too
    labels = np.array(["b", "b", "a"] + ["c"] * 297)
    codes = frame_sources(poses, labels)
    assert codes.shape == (299,) and codes[:2].tolist() == [1, 0]  # "b", "a" (sorted codes)
    da = _da(poses).assign_coords(source=("frame", labels))
    assert np.array_equal(frame_sources(da), codes)
    assert frame_sources(_da(poses)) is None
    with pytest.raises(ValueError, match=r"frame_source: expected one label per frame, shape \(300,\)"):
        frame_sources(poses, labels[:5])


def test_balanced_batches_draw_the_small_source(world_poses, tmp_path):
    from zedo_xr.prior.train import _Run

    labels = np.array(["big"] * 290 + ["small"] * 10)
    moved = world_poses.copy()
    moved[290:, :, 2] += 100.0  # marks the small source's frames
    codes = frame_sources(moved, labels)
    for balance, low, high in ((0.0, 0.0, 0.15), (1.0, 0.35, 0.65)):
        config = TrainConfig(**{**TINY, "batch_size": 256, "source_balance": balance})
        run = _Run(config, moved.astype(np.float32), torch.device("cpu"), lambda s: None, codes)
        world = torch.cat([run.data[run.pick(step)] for step in range(4)])
        share = float((world[:, 0, 2] > 50).float().mean())
        assert low <= share <= high, (balance, share)
    # balanced training runs, resumes bit for bit, and needs the sources
    da = _da(world_poses)
    settings = {**TINY, "steps": 6, "checkpoint_every": 2, "source_balance": 0.5}
    full = train_prior(da, frame_source=labels, **settings)
    train_prior(da, frame_source=labels, checkpoint_dir=tmp_path, stop_after=3, **settings)
    resumed = train_prior(da, frame_source=labels, checkpoint_dir=tmp_path, **settings)
    a, b = _state(full), _state(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ValueError, match="frame_source: expected each frame's source"):
        train_prior(da, steps=1, **{**TINY, "source_balance": 1.0})


def test_balanced_prior_starts_from_every_source(world_poses):
    # the stored start poses are drawn with the batches' source weights
    world = two_sources(world_poses)
    labels = np.array(["big"] * 290 + ["small"] * 10)
    share = {}
    for balance in (0.0, 1.0):
        prior = train_prior(
            _da(world),
            frame_source=labels,
            **{**TINY, "steps": 1, "hypotheses": True, "source_balance": balance},
        )
        share[balance] = small_share(prior.hypotheses[-1])
    assert share[0.0] < 0.1 and 0.35 < share[1.0] < 0.65, share
