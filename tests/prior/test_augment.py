"""Pose-space augmentation: geometry, human ranges, plausibility over many random samples."""

import math

import numpy as np
import pytest
import torch
import xarray as xr

from tests.prior.conftest import TEMPLATE
from zedo_xr.prior import train_prior
from zedo_xr.prior.augment import (
    LEGS,
    RANGES,
    Augmentation,
    augment,
    body_frame,
    jitter_joint_definitions,
    plausible,
    recombine,
    repose,
    set_leg,
)
from zedo_xr.skeleton import bone_lengths_tensor as bone_lengths

R_HIP, L_HIP, PELVIS, SPINE, THORAX = 1, 4, 0, 7, 8


def _batch(world_poses, device="cpu", dtype=torch.float32):
    return torch.from_numpy(world_poses).to(device, dtype)


def _angle(a, b):
    cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
    return torch.rad2deg(torch.arccos(cos.clamp(-1, 1)))


def test_seated_leg_geometry():
    pose = torch.from_numpy(TEMPLATE[None]).float()
    right, zero = torch.tensor([math.pi / 2]), torch.zeros(1)
    seated = set_leg(set_leg(pose, 0, right, zero, zero, right), 1, right, zero, zero, right)
    r, u, f = body_frame(seated, R_HIP, L_HIP)
    for hip, knee, ankle, _ in LEGS:
        thigh, shin = seated[:, knee] - seated[:, hip], seated[:, ankle] - seated[:, knee]
        # thigh forward (horizontal), shin hanging down: a chair sitter's legs
        assert float((thigh * f).sum() / thigh.norm()) == pytest.approx(1.0, abs=1e-5)
        assert float((shin * -u).sum() / shin.norm()) == pytest.approx(1.0, abs=1e-5)
    torch.testing.assert_close(bone_lengths(seated), bone_lengths(pose))


def test_repose_keeps_bones_and_stays_within_ranges(world_poses, device, dtype):
    pose = _batch(world_poses, device=device, dtype=dtype)
    g = torch.Generator(device=device).manual_seed(0)
    out = repose(pose, 1.0, g)
    assert out.dtype == dtype and out.shape == pose.shape and out.device == pose.device
    torch.testing.assert_close(bone_lengths(out), bone_lengths(pose))
    # knee and elbow flexion (angle between the two bones of the limb) stays in its range
    knees = torch.cat([_angle(out[:, k] - out[:, h], out[:, a] - out[:, k]) for h, k, a, _ in LEGS])
    assert float(knees.max()) <= RANGES["knee_flexion"][1] + 1e-3
    assert float(knees.std()) > 20  # really re-posed, not a near-copy
    # the pelvis never moves (the body leans about it)
    torch.testing.assert_close(out[:, 0], pose[:, 0])


def test_bent_knees_point_forward_and_elbows_stay_within_flexion(world_poses):
    pose = _batch(np.repeat(world_poses, 20, axis=0))
    out = repose(pose, 1.0, torch.Generator().manual_seed(1))
    r = body_frame(out, R_HIP, L_HIP)[0]
    for hip, knee, ankle, _ in LEGS:
        thigh, shin = out[:, knee] - out[:, hip], out[:, ankle] - out[:, knee]
        bent = _angle(thigh, shin) > 30
        # a knee bending forward (shin swinging back) turns about the subject's left (-right),
        # whatever the hip's flexion; the hip's axial rotation (<= 45 deg) only tilts that axis
        axis = torch.nn.functional.normalize(torch.cross(thigh, shin, dim=-1), dim=-1)
        assert float((axis * -r).sum(-1)[bent].min()) > 0.3
    for shoulder, elbow, wrist in ((14, 15, 16), (11, 12, 13)):
        flexion = _angle(out[:, elbow] - out[:, shoulder], out[:, wrist] - out[:, elbow])
        assert float(flexion.max()) <= RANGES["elbow_flexion"][1] + 1e-3


def test_plausibility_over_many_random_samples(world_poses):
    pose = _batch(np.repeat(world_poses, 10, axis=0))
    settings = Augmentation(kinematic=1.0, recombine=0.5, joint_jitter=1.0)
    out = augment(pose, settings, torch.Generator().manual_seed(2))
    changed = (out - pose).abs().amax(dim=(1, 2)) > 1e-6
    assert float(changed.float().mean()) > 0.7  # most samples are new poses
    assert bool(plausible(out[changed]).all())
    # left stays left: the left hip is still left of the right one in every changed pose
    r, u, f = body_frame(out, R_HIP, L_HIP)
    assert bool(((out[:, 4] - out[:, 1]) * r).sum(-1).lt(0).all())

    # bone lengths consistent per sample: no augmentation makes a left bone and its right twin
    # differ more (relatively) than they did in some input pose
    def asymmetry(p):
        lengths = bone_lengths(p)
        left, right = lengths[:, [3, 4, 5, 10, 11, 12]], lengths[:, [0, 1, 2, 13, 14, 15]]
        return ((left - right).abs() / (left + right)).amax(0)

    assert bool((asymmetry(out) <= asymmetry(pose) + 1e-5).all())


def test_plausible_rejects_a_limb_through_the_trunk_and_crossed_legs():
    pose = torch.from_numpy(TEMPLATE[None]).float().repeat(3, 1, 1)
    assert bool(plausible(pose).all())
    pose[1, 16] = 0.5 * (pose[1, 0] + pose[1, 8])  # right wrist inside the trunk
    pose[2, [2, 5]] = pose[2, [5, 2]]  # knees swapped sides
    assert plausible(pose).tolist() == [True, False, False]


def test_recombination_joins_lower_and_upper_bodies(world_poses):
    pose = _batch(world_poses)
    g = torch.Generator().manual_seed(3)
    out = recombine(pose, 1.0, g)
    lower = [0, 1, 2, 3, 4, 5, 6]
    torch.testing.assert_close(out[:, lower], pose[:, lower])
    trunk = (out[:, THORAX] - out[:, PELVIS]).norm(dim=-1)
    torch.testing.assert_close(trunk, (pose[:, THORAX] - pose[:, PELVIS]).norm(dim=-1))
    # the upper body stands on the pelvis (thorax above it), and came from other poses
    r, u, f = body_frame(out, R_HIP, L_HIP)
    assert bool((((out[:, THORAX] - out[:, PELVIS]) * u).sum(-1) > 0.3).all())
    assert float((out[:, 16] - pose[:, 16]).norm(dim=-1).gt(1e-4).float().mean()) > 0.9


def test_joint_jitter_moves_only_definition_joints(world_poses):
    pose = _batch(world_poses)
    out = jitter_joint_definitions(pose, 1.0, torch.Generator().manual_seed(4))
    torch.testing.assert_close(out[:, [0, THORAX]], pose[:, [0, THORAX]])
    torch.testing.assert_close(
        bone_lengths(out)[:, [1, 2, 4, 5, 11, 12, 14, 15]],
        bone_lengths(pose)[:, [1, 2, 4, 5, 11, 12, 14, 15]],
    )
    # the legs move rigidly with their hip joint, along the pelvis -> hip line
    for hip, ankle in ((1, 3), (4, 6)):
        torch.testing.assert_close(out[:, ankle] - out[:, hip], pose[:, ankle] - pose[:, hip])
        width = (out[:, hip] - out[:, 0]).norm(dim=-1) / (pose[:, hip] - pose[:, 0]).norm(dim=-1)
        assert 0.70 < float(width.min()) < 0.8 and 1.25 < float(width.max()) < 1.42
    head = (out[:, 10] - out[:, 9]).norm(dim=-1) / (pose[:, 10] - pose[:, 9]).norm(dim=-1)
    assert 0.7 < float(head.min()) < 0.8 and 1.25 < float(head.max()) < 1.36
    torch.testing.assert_close(jitter_joint_definitions(pose, 0.0, torch.Generator()), pose)


def test_augment_is_seeded_on_the_poses_device_and_off_by_default(world_poses, device, dtype):
    pose = _batch(world_poses, device=device, dtype=dtype)
    assert augment(pose, Augmentation(), torch.Generator(device=device)) is pose
    on = Augmentation(kinematic=0.5, recombine=0.5, joint_jitter=0.5)
    a = augment(pose, on, torch.Generator(device=device).manual_seed(5))
    b = augment(pose, on, torch.Generator(device=device).manual_seed(5))
    assert torch.equal(a, b) and a.device == pose.device and a.dtype == dtype


@pytest.mark.parametrize("bad", [{"kinematic": 1.5}, {"recombine": -0.1}, {"joint_jitter": -1.0}])
def test_bad_settings_are_named(bad):
    with pytest.raises(ValueError, match=next(iter(bad))):
        Augmentation(**bad)


def test_training_with_augmentation_records_it_and_resumes(world_poses, tmp_path):
    da = xr.DataArray(world_poses, dims=("frame", "joint", "coord"))
    tiny = {
        "batch_size": 64,
        "warmup": 2,
        "width": 64,
        "blocks": 1,
        "progress": False,
        "device": "cpu",
        "hypotheses": False,
        "seed": 1,
    }
    aug = {"kinematic_augmentation": 0.5, "part_recombination": 0.3, "joint_jitter": 1.0}
    full = train_prior(da, steps=4, **tiny, **aug)
    assert full.card["training"]["kinematic_augmentation"] == 0.5
    train_prior(da, steps=4, checkpoint_dir=tmp_path, stop_after=2, checkpoint_every=1, **tiny, **aug)
    resumed = train_prior(da, steps=4, checkpoint_dir=tmp_path, **tiny, **aug)
    for k, v in full.network.state_dict().items():
        assert torch.equal(v, resumed.network.state_dict()[k])
    plain = train_prior(da, steps=4, **tiny)
    assert not torch.equal(plain.network.head.bias, full.network.head.bias)
