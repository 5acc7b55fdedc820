"""CMU, DeepMimic and climbing readers on the shared data: counts, rates, physics."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zedo_xr.io import load_climb, load_cmu, load_deepmimic
from zedo_xr.io._common import Y_UP_TO_Z_UP

CMU_VIRTUAL_BONES = {("pelvis", "spine"), ("thorax", "neck")}


def test_y_up_to_z_up_is_a_rotation():
    assert np.isclose(np.linalg.det(Y_UP_TO_Z_UP), 1.0)
    assert np.allclose(Y_UP_TO_Z_UP @ [0, 1, 0], [0, 0, 1])


@pytest.fixture(scope="module")
def cmu_test(shared_data):
    return load_cmu(shared_data / "cmu" / "cmu_h36m17.npz", "test")


def test_cmu_counts_and_coords(shared_data, cmu_test, physics):
    physics.check_reader_conventions(cmu_test)
    assert cmu_test.sizes["frame"] == 14071
    assert cmu_test.attrs["fps"] == 120.0
    assert cmu_test["sequence"].dtype == object
    assert len(np.unique(cmu_test["sequence"].values)) == 24
    walk = cmu_test.where(cmu_test["sequence"] == "walking/walking_1", drop=True)
    assert walk.sizes["frame"] == 358
    assert (walk["frame_in_sequence"].values == np.arange(358)).all()
    train = load_cmu(shared_data / "cmu" / "cmu_h36m17.npz", "train")
    assert train.sizes["frame"] == 52211
    assert len(np.unique(train["sequence"].values)) == 72
    everything = load_cmu(shared_data / "cmu" / "cmu_h36m17.npz", "train", valid_only=False)
    assert everything.sizes["frame"] == 53703
    # Dropped glitch frames leave gaps in frame_in_sequence.
    traffic = train["frame_in_sequence"].values[
        train["sequence"].values == "directing_traffic/directing_traffic_1"
    ]
    assert len(traffic) == 3028 - 895 and traffic.max() == 3027


def test_cmu_bad_split(shared_data):
    with pytest.raises(ValueError, match="split"):
        load_cmu(shared_data / "cmu" / "cmu_h36m17.npz", "val")


def test_cmu_physics(cmu_test, physics):
    stds = physics.bone_length_std(cmu_test)
    rigid = {b: s for b, s in stds.items() if b not in CMU_VIRTUAL_BONES}
    assert max(rigid.values()) < 1e-3, rigid
    agree, n = physics.left_right_agreement(cmu_test)
    assert n > 5000 and agree > 0.98, (agree, n)
    assert physics.head_above_pelvis(cmu_test) > 0.4


@pytest.fixture(scope="module")
def deepmimic(shared_data):
    return load_deepmimic(shared_data / "deepmimic" / "pybullet_data" / "data" / "motions")


def test_deepmimic_counts_and_rates(deepmimic, physics):
    physics.check_reader_conventions(deepmimic)
    assert deepmimic.sizes["frame"] == 1810
    assert len(np.unique(deepmimic["sequence"].values)) == 20
    rates = json.loads(deepmimic.attrs["fps_per_sequence"])
    assert rates["humanoid3d_backflip"] == 16.0
    assert rates["humanoid3d_spin"] == 24.0
    assert rates["humanoid3d_walk"] == 30.0
    assert rates["humanoid3d_cartwheel"] == 60.0
    assert rates["walker/turn_left0"] == 30.0
    assert deepmimic.attrs["fps"] == 60.0  # most frames are at 60 fps
    walk = deepmimic.where(deepmimic["sequence"] == "humanoid3d_walk", drop=True)
    assert walk.sizes["frame"] == 39
    assert np.allclose(np.diff(walk["time"].values), 1 / 30, atol=1e-4)


def test_deepmimic_single_clip_and_urdf(shared_data, deepmimic):
    root = shared_data / "deepmimic" / "pybullet_data"
    clip = load_deepmimic(
        root / "data" / "motions" / "humanoid3d_walk.txt", urdf=root / "humanoid" / "humanoid.urdf"
    )
    assert clip.sizes["frame"] == 39 and clip.attrs["fps"] == 30.0
    assert set(clip["sequence"].values) == {"humanoid3d_walk"}
    ref = deepmimic.where(deepmimic["sequence"] == "humanoid3d_walk", drop=True)
    np.testing.assert_allclose(clip.values, ref.values, atol=1e-5)
    # Walk travels along +X (facing +X is kept by the rotation to Z-up).
    pelvis = clip.sel(joint="pelvis")
    assert float(pelvis.sel(coord="x")[-1] - pelvis.sel(coord="x")[0]) > 0.5


def test_deepmimic_physics(deepmimic, physics):
    stds = physics.bone_length_std(deepmimic)
    assert max(stds.values()) < 1e-3, stds
    lengths = np.linalg.norm(
        deepmimic.sel(joint="right_knee").values - deepmimic.sel(joint="right_hip").values, axis=-1
    )
    assert np.allclose(lengths, 0.421546, atol=1e-5)
    locomotion = deepmimic.where(
        deepmimic["sequence"].isin(
            [
                "humanoid3d_walk",
                "humanoid3d_run",
                "walker/0walk_forward",
                "walker/turn_left0",
                "walker/turn_left1",
                "walker/turn_right0",
                "walker/turn_right1",
            ]
        ),
        drop=True,
    )
    agree, n = physics.left_right_agreement(locomotion)
    assert n > 150 and agree > 0.98, (agree, n)
    assert physics.head_above_pelvis(deepmimic) > 0.3
    # Floor near z = 0: the lowest ankle of the walk is within a few cm of it.
    walk = deepmimic.where(deepmimic["sequence"] == "humanoid3d_walk", drop=True)
    assert -0.02 < float(walk.sel(joint=["left_ankle", "right_ankle"], coord="z").min()) < 0.12


CLIMB_FRAMES = {0: 2801, 1: 2423, 2: 3011, 3: 2401, 4: 2303}
# H36M bones that skip a source joint (Hips-Spine-Spine1, Neck-Shoulder-Arm): not rigid.
CLIMB_VIRTUAL_BONES = {
    ("pelvis", "spine"),
    ("thorax", "left_shoulder"),
    ("thorax", "right_shoulder"),
}


def test_climb_counts(shared_data, physics):
    da = load_climb(shared_data / "climb")
    physics.check_reader_conventions(da)
    assert da.attrs["fps"] == 120.0
    assert da.sizes["frame"] == 12939
    for k, n in CLIMB_FRAMES.items():
        assert int((da["sequence"] == f"mocap_climb_seq_{k}").sum()) == n


@pytest.mark.parametrize("seq", [1, 4])
def test_climb_physics(shared_data, physics, seq):
    folder = shared_data / "climb" / f"mocap_climb_seq_{seq}"
    da = load_climb(next(folder.glob("*.npy")))
    assert da.sizes["frame"] == CLIMB_FRAMES[seq]
    stds = physics.bone_length_std(da)
    rigid = {b: s for b, s in stds.items() if b not in CLIMB_VIRTUAL_BONES}
    assert max(rigid.values()) < 1e-3, rigid
    assert max(stds.values()) < 6e-3, stds  # virtual bones vary a few mm
    agree, n = physics.left_right_agreement(da)
    assert n > 500 and agree > 0.98, (agree, n)
    assert physics.head_above_pelvis(da) > 0.3
    thigh = np.linalg.norm(da.sel(joint="right_knee") - da.sel(joint="right_hip"), axis=-1)
    assert abs(thigh.mean() - (0.3725 if seq == 1 else 0.3848)) < 0.002
