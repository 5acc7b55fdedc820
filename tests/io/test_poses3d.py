"""Reading a user's 3D poses: arrays, BVH folders, movement datasets, other skeletons."""

import numpy as np
import pytest

from tests.prior.conftest import TEMPLATE


def _poses(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return (TEMPLATE[None] + rng.normal(scale=0.03, size=(n, 17, 3))).astype(np.float32)


def test_bvh_files_are_read_by_joint_names(tmp_path):
    from zedo_xr.io.poses3d import load_poses3d

    bvh = tmp_path / "clips"
    bvh.mkdir()
    (bvh / "a.bvh").write_text(_BVH)
    da = load_poses3d(bvh)
    assert da.sizes["frame"] == 2 and da.attrs["units_read"] == "cm"
    # Z up: the head is above the pelvis, the ankles below
    z = da.sel(coord="z").values
    assert (z[:, 10] > z[:, 0]).all() and (z[:, 3] < z[:, 0]).all()
    # the root sits at its position channels (zero); the right hip 10 cm to -x
    np.testing.assert_allclose(da.sel(joint="right_hip").values[0], [-0.1, 0.0, 0.0], atol=1e-6)


def test_unknown_inputs_are_named(tmp_path):
    from zedo_xr.io.poses3d import load_poses3d

    with pytest.raises(FileNotFoundError, match="path"):
        load_poses3d(tmp_path / "missing.npy")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="format"):
        load_poses3d(tmp_path / "a.txt")
    np.save(tmp_path / "bad.npy", np.zeros((3, 17, 2)))
    with pytest.raises(Exception, match="expected shape"):
        load_poses3d(tmp_path / "bad.npy")


def _joint(name, offset, body, channels=3):
    chans = "Zrotation Xrotation Yrotation"
    return f"JOINT {name}\n{{\nOFFSET {offset}\nCHANNELS {channels} {chans}\n{body}}}\n"


_END = "End Site\n{\nOFFSET 0 10 0\n}\n"
_LEG = "End Site\n{\nOFFSET 0 -5 0\n}\n"


def _leg(side, x):
    foot = _joint(f"{side}Foot", "0 -40 0", _LEG)
    return _joint(f"{side}UpLeg", f"{x} 0 0", _joint(f"{side}Leg", "0 -40 0", foot))


def _arm(side, x):
    hand = _joint(f"{side}Hand", f"{x} 0 0", "End Site\n{\nOFFSET 5 0 0\n}\n")
    return _joint(f"{side}Arm", f"{x} 0 0", _joint(f"{side}ForeArm", f"{x * 2} 0 0", hand))


_HEAD = _joint("Head", "0 8 0", _END)
_UPPER = _joint("Spine1", "0 20 0", _joint("Neck", "0 20 0", _HEAD + _arm("Left", 15) + _arm("Right", -15)))
# a T-pose facing +Z (Y up): the subject's left is +X
_BVH = (
    "HIERARCHY\nROOT Hips\n{\nOFFSET 0 90 0\n"
    "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
    + _joint("Spine", "0 10 0", _UPPER)
    + _leg("Left", 10)
    + _leg("Right", -10)
    + "}\n"
    "MOTION\nFrames: 2\nFrame Time: 0.033333\n"
    + " ".join(["0"] * (6 + 3 * 16))
    + "\n"
    + " ".join(["0"] * (6 + 3 * 16))
    + "\n"
)


@pytest.mark.parametrize("style", ["plural", "singular"])
def test_movement_datasets_are_read_in_either_dim_style(tmp_path, style):
    import xarray as xr

    from zedo_xr.io.poses3d import load_poses3d
    from zedo_xr.skeleton import H36M_JOINTS

    poses = _poses(6)
    kp, ind = ("keypoints", "individuals") if style == "plural" else ("keypoint", "individual")
    position = xr.DataArray(
        poses.transpose(0, 2, 1)[..., None],
        dims=("time", "space", kp, ind),
        coords={"space": ["x", "y", "z"], kp: list(H36M_JOINTS), ind: ["id_0"]},
    )
    ds = xr.Dataset({"position": position}, attrs={"fps": 30.0})
    ds.to_netcdf(tmp_path / "m.nc", engine="scipy")
    da = load_poses3d(tmp_path / "m.nc", units="m")
    np.testing.assert_allclose(da.values, poses, atol=1e-6)
    assert da.attrs["fps"] == 30.0


def test_zarr_stores_of_the_data_model_are_read(tmp_path):
    from zedo_xr.io.poses3d import load_poses3d
    from zedo_xr.io.store import to_zarr
    from zedo_xr.schema import pose_dataarray

    poses = _poses(8)
    to_zarr(pose_dataarray(poses, fps=50.0, name="pose3d"), tmp_path / "p.zarr")
    da = load_poses3d(tmp_path / "p.zarr")
    np.testing.assert_allclose(da.values, poses, atol=1e-6)
    assert da.attrs["fps"] == 50.0 and da.attrs["units_read"] == "m"


def test_npz_without_a_pose_array_is_named(tmp_path):
    from zedo_xr.io.poses3d import load_poses3d

    np.savez(tmp_path / "two.npz", a=_poses(3), b=_poses(3))
    with pytest.raises(Exception, match="expected an array named one of"):
        load_poses3d(tmp_path / "two.npz")
