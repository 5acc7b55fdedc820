"""movement interop: dim renames (old plural / new singular), seconds vs frames, hypotheses.

Most datasets are built by hand so these tests run without movement; the tests at the end
build real movement objects (``movement.io.load_poses.from_numpy``) and skip without movement.
None of them needs torch except the one that lifts, so ``nox -s movement_latest`` runs this file
on the newest movement (singular dims) without torch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

import zedo_xr
from zedo_xr.io import from_movement, to_movement
from zedo_xr.schema import SchemaError, labels
from zedo_xr.skeleton import H36M_JOINTS


def movement_ds(style="singular", n_space=2, names=H36M_JOINTS, n_ind=1, fps=25.0, rng=None):
    rng = rng or np.random.default_rng(0)
    kp, ind = ("keypoint", "individual") if style == "singular" else ("keypoints", "individuals")
    T = 6
    pos = rng.uniform(100, 900, (T, n_space, len(names), n_ind))
    conf = rng.uniform(0.5, 1, (T, len(names), n_ind))
    time = np.arange(T) / fps if fps else np.arange(T)
    return xr.Dataset(
        {
            "position": (("time", "space", kp, ind), pos),
            "confidence": (("time", kp, ind), conf),
        },
        coords={
            "time": time,
            "space": ["x", "y", "z"][:n_space],
            kp: list(names),
            ind: [f"id_{i}" for i in range(n_ind)],
        },
        attrs={"fps": fps, "time_unit": "seconds" if fps else "frames", "source_software": "X"},
    )


@pytest.mark.parametrize("style", ["singular", "plural"])
def test_from_movement_2d(style):
    src = movement_ds(style)
    ds = from_movement(src)
    assert ds["keypoints"].dims == ("frame", "joint", "uv")
    assert list(ds["frame"].values) == list(range(6))
    np.testing.assert_allclose(ds["time"].values, np.arange(6) / 25.0)
    assert ds["individual"].item() == "id_0"  # squeezed to a scalar coord
    np.testing.assert_array_equal(
        ds["keypoints"].sel(joint="thorax").values,
        src["position"].isel({src["position"].dims[3]: 0}).values[:, :, 8],
    )
    assert ds.attrs["fps"] == 25.0


def test_from_movement_frames_subset_and_individuals():
    names = ["pelvis", "left_hip", "right_hip"]
    src = movement_ds("plural", n_space=3, names=names, n_ind=2, fps=None)
    ds = from_movement(src)
    assert ds["pose3d"].dims == ("frame", "individual", "joint", "coord")
    assert ds.sizes["joint"] == 17 and "time" not in ds.coords
    assert (ds["confidence"].sel(joint="head") == 0).all()
    assert ds["pose3d"].sel(joint="head").isnull().all()
    one = from_movement(src, individual="id_1")
    np.testing.assert_array_equal(
        one["pose3d"].sel(joint="left_hip").values,
        src["position"].sel(individuals="id_1", keypoints="left_hip").values,
    )


def test_from_movement_with_skeleton():
    coco = [
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
        "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ]  # fmt: skip
    src = movement_ds(names=coco)
    with pytest.raises(SchemaError, match="skeleton"):
        from_movement(movement_ds(names=[f"keypoint_{i}" for i in range(17)]))
    xr.testing.assert_identical(from_movement(src), from_movement(src, skeleton="coco17"))
    ds = from_movement(src, skeleton="coco17")
    assert ds.attrs["skeleton_source"] == "coco17"
    assert list(ds["joint"].values) == list(H36M_JOINTS)
    pelvis = src["position"].sel(keypoint=["left_hip", "right_hip"]).mean("keypoint")
    np.testing.assert_allclose(ds["keypoints"].sel(joint="pelvis").values, pelvis.values[..., 0])


def lifted(n_frame=5, n_hyp=3, fps=50.0):
    rng = np.random.default_rng(1)
    return xr.Dataset(
        {
            "pose3d": (("frame", "hypothesis", "joint", "coord"),
                       rng.normal(size=(n_frame, n_hyp, 17, 3))),
            "best_hypothesis": ("frame", np.array([2, 0, 1, 2, 0])[:n_frame]),
            "confidence": (("frame", "joint"), rng.random((n_frame, 17))),
        },
        coords={"frame": np.arange(n_frame), "joint": labels(H36M_JOINTS),
                "coord": labels("xyz")},
        attrs={"fps": fps},
    )  # fmt: skip


def test_to_movement_best_and_round_trip():
    out = lifted()
    mv = to_movement(out, dim_style="singular")
    assert mv["position"].dims == ("time", "space", "keypoint", "individual")
    assert mv["confidence"].dims == ("time", "keypoint", "individual")
    np.testing.assert_allclose(mv["time"].values, np.arange(5) / 50.0)
    assert mv.attrs["time_unit"] == "seconds" and mv.attrs["ds_type"] == "poses"
    assert json.loads(mv.attrs["log"])[-1]["operation"] == "zedo_xr.io.to_movement"
    best = out["best_hypothesis"].values
    for f in range(5):
        np.testing.assert_array_equal(mv["position"].values[f, :, :, 0], out["pose3d"].values[f, best[f]].T)
    back = from_movement(mv)
    np.testing.assert_allclose(back["pose3d"].values, mv["position"].values[..., 0].transpose(0, 2, 1))
    assert list(back["frame"].values) == list(range(5))


def test_to_movement_int_none_plural_frames():
    out = lifted(fps=None)
    out.attrs = {}
    mv = to_movement(out, hypothesis=1, dim_style="plural")
    assert mv["position"].dims == ("time", "space", "keypoints", "individuals")
    assert mv.attrs["time_unit"] == "frames" and "fps" not in mv.attrs
    np.testing.assert_array_equal(
        mv["position"].values[:, :, :, 0], out["pose3d"].values[:, 1].transpose(0, 2, 1)
    )
    keep = to_movement(out, hypothesis=None, dim_style="plural")
    assert keep["position"].dims == ("time", "space", "keypoints", "individuals", "hypothesis")
    with pytest.raises(ValueError, match="hypothesis"):
        to_movement(out, hypothesis="mean")


def test_lifted_dataset_with_time_coord_converts():
    # from_movement keeps 'time' along 'frame'; to_movement used to fail renaming frame -> time.
    out = lifted().assign_coords(time=("frame", np.arange(5) / 50.0), individual="id_7")
    mv = to_movement(out, dim_style="singular")
    np.testing.assert_allclose(mv["time"].values, np.arange(5) / 50.0)
    assert list(mv["individual"].values) == ["id_7"]


# ------------------------------------------------------------------ real movement objects
def _real_movement(names, n_space=2, fps=30.0, n_ind=1, seed=0):
    load_poses = pytest.importorskip("movement.io.load_poses")
    rng = np.random.default_rng(seed)
    pos = rng.uniform(300, 700, (8, n_space, len(names), n_ind))
    conf = rng.uniform(0.6, 1.0, (8, len(names), n_ind))
    return load_poses.from_numpy(
        pos,
        conf,
        individual_names=[f"id_{i}" for i in range(n_ind)],
        keypoint_names=list(names),
        fps=fps,
        source_software="test",
    )


def _dims():
    from importlib.metadata import version

    major, minor = (int(x) for x in version("movement").split(".")[:2])
    return ("keypoint", "individual") if (major, minor) >= (0, 17) else ("keypoints", "individuals")


def test_real_movement_dataset_in():
    from zedo_xr.skeleton import COCO17_JOINTS

    src = _real_movement(COCO17_JOINTS, n_ind=2)
    kp_dim, ind_dim = _dims()
    assert src["position"].dims == ("time", "space", kp_dim, ind_dim)
    ds = from_movement(src)
    assert ds["keypoints"].dims == ("frame", "individual", "joint", "uv")
    assert list(ds["frame"].values) == list(range(8))
    wrist = src["position"].sel({kp_dim: "left_wrist", ind_dim: "id_1"}).values
    np.testing.assert_allclose(ds["keypoints"].sel(joint="left_wrist", individual="id_1").values, wrist)
    assert (ds["confidence"].sel(joint="head") == 0).all()


def test_real_movement_3d_out_equals_movements_own_dataset():
    """to_movement gives what movement itself builds from the same arrays, and kinematics run on it."""
    load_poses = pytest.importorskip("movement.io.load_poses")
    from movement.kinematics import compute_velocity

    out = lifted(fps=30.0)
    mv = to_movement(out)
    best = out["pose3d"].isel(hypothesis=out["best_hypothesis"]).values  # (frame, joint, coord)
    ref = load_poses.from_numpy(
        best.transpose(0, 2, 1)[..., None],
        out["confidence"].values[..., None],
        individual_names=["id_0"],
        keypoint_names=list(H36M_JOINTS),
        fps=30.0,
    )
    assert mv["position"].dims == ref["position"].dims
    for name in ("position", "confidence"):
        np.testing.assert_allclose(mv[name].values, ref[name].values)
    for dim in ref["position"].dims:
        assert [str(v) for v in mv[dim].values] == [str(v) for v in ref[dim].values] or dim == "time"
    np.testing.assert_allclose(mv["time"].values, ref["time"].values)
    assert list(mv["space"].values) == ["x", "y", "z"]
    velocity = compute_velocity(mv["position"])
    np.testing.assert_allclose(
        velocity.isel(time=2).values,
        (mv["position"].isel(time=3) - mv["position"].isel(time=1)).values * 15.0,
        rtol=1e-6,
    )


def test_real_movement_round_trip_through_lift():
    """movement 2D -> lift (directly) -> .zedo.to_movement() -> movement 3D, as in the quickstart."""
    pytest.importorskip("torch")
    from zedo_xr.datasets import make_views
    from zedo_xr.demo import load_demo_clip

    load_poses = pytest.importorskip("movement.io.load_poses")
    views = make_views(load_demo_clip().isel(frame=slice(0, 4)), seed=0, camera="fixed")
    src = load_poses.from_numpy(
        views["keypoints"].values.transpose(0, 2, 1)[..., None],
        np.ones((4, 17, 1)),
        individual_names=["jumper"],
        keypoint_names=[str(j) for j in views["joint"].values],
        fps=30.0,
    )
    out = zedo_xr.lift(src, K=views["K"].values[0], hypotheses=5, iterations=5, progress=False)
    assert out["pose3d"].dims == ("frame", "hypothesis", "joint", "coord")
    mv = out.zedo.to_movement()
    kp_dim, ind_dim = _dims()
    assert mv["position"].dims == ("time", "space", kp_dim, ind_dim)
    assert list(mv[ind_dim].values) == ["jumper"]
    np.testing.assert_allclose(mv["time"].values, src["time"].values)
    assert np.isfinite(mv["position"].values).all()
    # The lifted pelvis is in front of the camera, a few metres away (metres, camera frame).
    assert (mv["position"].sel(space="z", **{kp_dim: "pelvis"}).values > 1.0).all()


def test_unknown_keypoint_names_say_what_to_do():
    src = movement_ds(names=["snout", "tail_base"])
    with pytest.raises(
        SchemaError,
        match=r"keypoint names: expected the joint names of a known skeleton .*"
        r"from_movement\(ds, skeleton=\.\.\.\)",
    ):
        zedo_xr.lift(src, K=np.eye(3))
