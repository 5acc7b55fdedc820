"""Skeleton definitions and name-based conversion to H36M-17."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from zedo_xr import skeleton as sk
from zedo_xr.schema import SchemaError

OTHER = [
    "coco17",
    "mediapipe33",
    "openpose25",
    "smpl24",
    "lsp14",
    "mpi_inf_3dhp17",
    "halpe26",
    "halpe136",
    "coco_wholebody133",
    "humaneva15",
    "humaneva20",
    "mpii16",
]
H36M_LEFT = [j for j in sk.H36M_JOINTS if j.startswith("left_")]
H36M_RIGHT = [j for j in sk.H36M_JOINTS if j.startswith("right_")]


def _sided_pose(skel: sk.Skeleton, rng: np.random.Generator, extra: tuple[int, ...] = ()):
    """Random 3D points with every left joint at x < 0, right at x > 0, others at x = 0."""
    n = len(skel.joints)
    pts = rng.uniform(0.1, 1.0, (*extra, n, 3))
    sign = np.array([{"left": -1.0, "right": 1.0}.get(sk.side(j), 0.0) for j in skel.joints])
    pts[..., 0] *= sign
    dims = (*("frame", "individual")[: len(extra)], "joint", "coord")
    return xr.DataArray(pts, dims=dims, coords={"joint": list(skel.joints)})


def test_registry_and_names():
    assert set(OTHER) | {"h36m17"} == set(sk.SKELETONS)
    sizes = {
        "coco17": 17,
        "mediapipe33": 33,
        "openpose25": 25,
        "smpl24": 24,
        "lsp14": 14,
        "mpi_inf_3dhp17": 17,
    }
    for name, n in sizes.items():
        skel = sk.get_skeleton(name)
        assert len(skel.joints) == n == len(set(skel.joints))
        assert skel.notes  # every mapping documents its choices
    assert sk.get_skeleton("BODY25") is sk.OPENPOSE25
    assert sk.OPENPOSE25.joints[8] == "MidHip"
    assert sk.MEDIAPIPE33.joints[23:25] == ("left_hip", "right_hip")
    assert sk.MPI_INF_3DHP17.joints[14] == "pelvis"


def test_unknown_skeleton_lists_known_names():
    with pytest.raises(ValueError, match=r"known skeletons are .*coco17"):
        sk.get_skeleton("kinect")


@pytest.mark.parametrize("name", OTHER)
def test_left_stays_left(name, rng):
    skel = sk.get_skeleton(name)
    # every recipe draws from one side only (or from both, for the centre joints)
    for target, recipe in skel.to_h36m.items():
        sides = {sk.side(s) for s in recipe}
        expected = sk.side(target)
        if expected is not None:
            assert sides == {expected}, (target, recipe)
    pose = _sided_pose(skel, rng, extra=(3, 2))
    out, conf = sk.to_h36m(pose, name)
    assert out.dims == ("frame", "individual", "joint", "coord")
    assert conf.dims == ("frame", "individual", "joint")
    assert list(out.joint.values) == list(sk.H36M_JOINTS)
    assert (out.sel(joint=H36M_LEFT, coord=0) < 0).all()
    assert (out.sel(joint=H36M_RIGHT, coord=0) > 0).all()
    assert (conf.sel(joint=H36M_LEFT + H36M_RIGHT) == 1).all()


@pytest.mark.parametrize("name", OTHER)
def test_missing_joints_have_zero_confidence(name, rng):
    skel = sk.get_skeleton(name)
    out, conf = sk.to_h36m(_sided_pose(skel, rng, extra=(2,)), name)
    missing = [j for j in sk.H36M_JOINTS if j not in skel.to_h36m]
    assert (conf.sel(joint=missing) == 0).all()
    assert out.sel(joint=missing).isnull().all()
    present = [j for j in sk.H36M_JOINTS if j in skel.to_h36m]
    assert (conf.sel(joint=present) == 1).all() and out.sel(joint=present).notnull().all()


def test_head_top_choices():
    for name in ("coco17", "mediapipe33", "openpose25", "smpl24"):
        assert "head" not in sk.get_skeleton(name).to_h36m
    assert sk.LSP14.to_h36m["head"] == ("head_top",)
    assert sk.MPI_INF_3DHP17.to_h36m["head"] == ("head_top",)


def test_coco_recipes_2d_and_confidence_min():
    kp = xr.DataArray(
        np.arange(17 * 2, dtype=float).reshape(17, 2),
        dims=("joint", "uv"),
        coords={"joint": list(sk.COCO17_JOINTS)},
    )
    conf = xr.DataArray(np.linspace(0.2, 1.0, 17), dims="joint", coords={"joint": list(sk.COCO17_JOINTS)})
    out, c = sk.to_h36m(kp, "coco", conf)
    hips = kp.sel(joint=["left_hip", "right_hip"])
    np.testing.assert_allclose(out.sel(joint="pelvis"), hips.mean("joint"))
    corners = kp.sel(joint=["left_hip", "right_hip", "left_shoulder", "right_shoulder"])
    np.testing.assert_allclose(out.sel(joint="spine"), corners.mean("joint"))
    np.testing.assert_allclose(out.sel(joint="neck"), kp.sel(joint="nose"))
    assert float(c.sel(joint="pelvis")) == pytest.approx(float(conf.sel(joint="left_hip")))
    assert float(c.sel(joint="thorax")) == pytest.approx(float(conf.sel(joint="left_shoulder")))
    assert c.dims == ("joint",)


def test_nan_or_zero_confidence_source_makes_derived_joint_missing():
    kp = xr.DataArray(
        np.ones((2, 17, 2)), dims=("frame", "joint", "uv"), coords={"joint": list(sk.COCO17_JOINTS)}
    )
    kp[0, sk.COCO17_JOINTS.index("left_hip"), 0] = np.nan
    conf = xr.ones_like(kp.isel(uv=0, drop=True))
    conf[1, sk.COCO17_JOINTS.index("right_shoulder")] = 0.0
    out, c = sk.to_h36m(kp, "coco17", conf)
    lost_per_frame = (["pelvis", "spine", "left_hip"], ["thorax", "spine", "right_shoulder"])
    for frame, lost in enumerate(lost_per_frame):
        assert (c.isel(frame=frame).sel(joint=lost) == 0).all()
        assert out.isel(frame=frame).sel(joint=lost).isnull().all()
    assert c.isel(frame=0).sel(joint="thorax") == 1
    assert c.isel(frame=1).sel(joint="pelvis") == 1


def test_subset_without_coordinate_and_errors(rng):
    # a subset of joints, in any order, works: absent sources make missing targets
    pose = _sided_pose(sk.LSP14, rng).isel(joint=[13, 0, 1, 2])
    out, c = sk.to_h36m(pose, "lsp14")
    assert c.sel(joint="head") == 1 and c.sel(joint="right_ankle") == 1
    assert c.sel(joint="left_ankle") == 0
    # no coordinate: the skeleton's order is assumed when the size fits
    bare = xr.DataArray(rng.normal(size=(14, 3)), dims=("joint", "coord"))
    out, _ = sk.to_h36m(bare, "lsp14")
    np.testing.assert_allclose(out.sel(joint="head"), bare[13])
    with pytest.raises(SchemaError, match="14"):
        sk.to_h36m(bare.isel(joint=slice(0, 5)), "lsp14")
    wrong = _sided_pose(sk.COCO17, rng)
    with pytest.raises(SchemaError, match="not in skeleton 'lsp14'"):
        sk.to_h36m(wrong, "lsp14")


def test_custom_joint_dim(rng):
    pose = _sided_pose(sk.SMPL24, rng, extra=(2,)).rename(joint="keypoint")
    out, c = sk.to_h36m(pose, "smpl24", joint_dim="keypoint")
    assert out.sizes["keypoint"] == 17 and c.sizes["keypoint"] == 17


def test_h36m_identity(rng):
    pose = _sided_pose(sk.H36M, rng, extra=(4,))
    out, c = sk.to_h36m(pose, "h36m17")
    np.testing.assert_array_equal(out.values, pose.values)
    assert (c == 1).all()


def test_left_right_pairs():
    pairs = sk.left_right_pairs()
    assert len(pairs) == 6
    assert ("left_shoulder", "right_shoulder") in pairs
    assert len(sk.left_right_pairs("mediapipe33")) == 16
    assert ("LBigToe", "RBigToe") in sk.left_right_pairs("openpose25")
    assert ("mouth_left", "mouth_right") in sk.left_right_pairs("mediapipe33")
    assert len(sk.left_right_pairs("smpl24")) == 9


def test_twin_and_the_left_right_tables_derived_from_it():
    assert sk.twin("left_hip") == "right_hip" and sk.twin("RHeel") == "LHeel"
    assert sk.twin("mouth_right") == "mouth_left" and sk.twin("MidHip") is None
    assert sk.H36M_LEFT == (4, 5, 6, 11, 12, 13)
    assert sk.H36M_RIGHT == (1, 2, 3, 14, 15, 16)
    for left, right in zip(sk.H36M_LEFT, sk.H36M_RIGHT, strict=True):
        assert sk.twin(sk.H36M_JOINTS[left]) == sk.H36M_JOINTS[right]
    perm = sk.flip_permutation()
    assert (perm[perm] == np.arange(17)).all()
    assert [sk.H36M_JOINTS[i] for i in perm] == [sk.twin(j) or j for j in sk.H36M_JOINTS]
    op = sk.get_skeleton("openpose25").joints
    assert [op[i] for i in sk.flip_permutation(op)] == [sk.twin(j) or j for j in op]
    bones = [(sk.H36M_BONE_NAMES[a], sk.H36M_BONE_NAMES[b]) for a, b in sk.H36M_MIRRORED_BONES]
    assert len(bones) == 6 and ("left_hip-left_knee", "right_hip-right_knee") in bones
    assert all(b == a.replace("left", "right") for a, b in bones)


@pytest.mark.parametrize("name", sorted(sk.SKELETONS))
def test_every_sided_joint_has_its_twin(name):
    joints = sk.get_skeleton(name).joints
    for j in joints:
        if sk.side(j) is not None:
            assert sk.twin(j) in joints, f"{name}: {j} has no twin {sk.twin(j)}"
            assert sk.twin(sk.twin(j)) == j
            assert sk.side(sk.twin(j)) != sk.side(j)
    assert sk.twin("LEFT_HIP") == "RIGHT_HIP" and sk.twin("Right_Knee") == "Left_Knee"


def test_bone_lengths(rng):
    pose = xr.DataArray(
        rng.normal(size=(3, 17, 3)), dims=("frame", "joint", "coord"), coords={"joint": list(sk.H36M_JOINTS)}
    )
    lengths = sk.bone_lengths(pose)
    assert lengths.dims == ("frame", "bone") and lengths.sizes["bone"] == 16
    expected = np.linalg.norm(pose.values[:, 2] - pose.values[:, 1], axis=-1)
    np.testing.assert_allclose(lengths.sel(bone="right_hip-right_knee"), expected)
    assert list(lengths.bone_child.values) == [sk.H36M_JOINTS[c] for _, c in sk.H36M_BONES]
    with pytest.raises(SchemaError, match="missing"):
        sk.bone_lengths(pose.isel(joint=slice(0, 10)))


def test_bone_lengths_tensor_is_the_kernel_of_bone_lengths(rng):
    torch = pytest.importorskip("torch")
    pose = rng.normal(size=(2, 3, 17, 3))
    labelled = xr.DataArray(
        pose, dims=("a", "frame", "joint", "coord"), coords={"joint": list(sk.H36M_JOINTS)}
    )
    lengths = sk.bone_lengths_tensor(torch.from_numpy(pose))
    assert lengths.shape == (2, 3, 16)
    np.testing.assert_allclose(lengths.numpy(), sk.bone_lengths(labelled).values)
    with pytest.raises(ValueError, match=r"pose: expected shape \(\*, 17, 3\), got \(3, 16, 3\)"):
        sk.bone_lengths_tensor(torch.zeros(3, 16, 3))
