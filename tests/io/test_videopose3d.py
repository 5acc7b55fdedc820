"""VideoPose3D npz reading and writing (committed fixture from CMU test data)."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from zedo_xr.io import load_videopose3d_2d, load_videopose3d_3d, save_videopose3d
from zedo_xr.io.videopose3d import H36M32_TO_17
from zedo_xr.schema import SchemaError
from zedo_xr.skeleton import H36M_JOINTS

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_read_3d_fixture(physics):
    da = load_videopose3d_3d(FIXTURES / "data_3d_cmu_tiny.npz")
    physics.check_reader_conventions(da)
    assert da.sizes["frame"] == 12 and da.attrs["fps"] == 120.0
    assert list(np.unique(da["sequence"].values)) == [
        "CMU/jumping/jumping_1",
        "CMU/walking/walking_1",
    ]
    assert set(da["subject"].values) == {"CMU"}
    assert "mocap.cs.cmu.edu" in da.attrs["licence"]
    assert physics.head_above_pelvis(da) > 0.4


def test_read_2d_fixture():
    ds = load_videopose3d_2d(FIXTURES / "data_2d_cmu_tiny.npz")
    assert ds["keypoints"].dims == ("frame", "camera", "joint", "uv")
    assert ds.sizes == {"frame": 12, "camera": 2, "joint": 17, "uv": 2}
    assert (ds["confidence"] == 1).all()
    assert ds.attrs["metadata"]["layout_name"] == "h36m"
    assert list(ds["joint"].values) == list(H36M_JOINTS)
    # The virtual camera looks at the pelvis from 5 m: the image is around the principal point.
    assert float(ds["keypoints"].min()) > 250 and float(ds["keypoints"].max()) < 750


def test_save_3d_round_trip(tmp_path):
    da = load_videopose3d_3d(FIXTURES / "data_3d_cmu_tiny.npz")
    save_videopose3d(tmp_path / "x.npz", da)
    back = load_videopose3d_3d(tmp_path / "x.npz")
    np.testing.assert_array_equal(back.values, da.values)
    np.testing.assert_array_equal(back["sequence"].values, da["sequence"].values)
    # Plain VideoPose3D readers see the usual nesting.
    with np.load(tmp_path / "x.npz", allow_pickle=True) as f:  # our own file: trusted
        nested = f["positions_3d"].item()
    assert nested["CMU"]["walking/walking_1"].shape == (6, 17, 3)


def test_32_joint_subset_and_2d_confidence(tmp_path, rng):
    raw = rng.normal(size=(4, 32, 3)).astype(np.float32)
    np.savez_compressed(tmp_path / "data_3d_h36m.npz", positions_3d={"S9": {"Walking": raw}})
    da = load_videopose3d_3d(tmp_path / "data_3d_h36m.npz")
    assert da.attrs["fps"] == 50.0
    np.testing.assert_array_equal(da.values, raw[:, list(H36M32_TO_17)])
    assert da["sequence"].values[0] == "S9/Walking"
    cams = [rng.random((5 + c, 17, 3)) * [1000, 1000, 1] for c in range(4)]
    np.savez_compressed(
        tmp_path / "data_2d.npz",
        positions_2d={"S9": {"Walking": cams}},
        metadata={"layout_name": "h36m", "num_joints": 17},
    )
    ds = load_videopose3d_2d(tmp_path / "data_2d.npz")
    assert ds.sizes["frame"] == 5 and ds.sizes["camera"] == 4  # trimmed to the shortest
    np.testing.assert_allclose(ds["confidence"].isel(camera=2).values, cams[2][:5, :, 2])


def test_bad_files(tmp_path, rng):
    np.savez_compressed(tmp_path / "a.npz", positions_3d={"S1": {"x": rng.random((2, 5, 3))}})
    with pytest.raises(SchemaError, match="17 or 32"):
        load_videopose3d_3d(tmp_path / "a.npz")
    np.savez_compressed(tmp_path / "b.npz", other=np.zeros(3))
    with pytest.raises(SchemaError, match="positions_3d"):
        load_videopose3d_3d(tmp_path / "b.npz")
    np.savez_compressed(tmp_path / "c.npz", positions_2d={}, metadata={"layout_name": "openpose"})
    with pytest.raises(SchemaError, match=r"layout_name: expected one of \['coco', 'h36m', .*got 'openpose'"):
        load_videopose3d_2d(tmp_path / "c.npz")
    np.savez_compressed(
        tmp_path / "d.npz",
        positions_2d={"S1": {"a": [rng.random((3, 17, 2))]}},
        metadata={"layout_name": "humaneva15"},
    )
    with pytest.raises(SchemaError, match=r"expected 15 joints \(layout 'humaneva15'\), got 17"):
        load_videopose3d_2d(tmp_path / "d.npz")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_refuses_code_in_pickles(tmp_path):
    np.savez(tmp_path / "evil.npz", positions_3d=np.array(_Evil(), dtype=object))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_videopose3d_3d(tmp_path / "evil.npz")


# ------------------------------------------------------------------ every layout VideoPose3D writes
def _metadata(layout, n):
    # As VideoPose3D's data_utils.suggest_metadata writes it (symmetry lists abbreviated).
    return {"layout_name": layout, "num_joints": n, "keypoints_symmetry": [[], []]}


@pytest.mark.parametrize(
    ("layout", "skeleton"),
    [
        ("humaneva15", "humaneva15"),
        ("humaneva20", "humaneva20"),
        ("coco", "coco17"),
        ("mpii", "mpii16"),
        ("h36m", "h36m17"),
    ],
)
def test_2d_layouts(tmp_path, rng, layout, skeleton):
    from zedo_xr.skeleton import get_skeleton

    sk = get_skeleton(skeleton)
    n = len(sk.joints)
    # HumanEva files: subjects 'Train/S1', actions 'Walking 1 chunk0', three cameras of which one
    # may have no detections (None), as prepare_data_humaneva.py writes them.
    cams = [
        rng.uniform(50, 600, (6, n, 2)).astype(np.float32),
        None,
        rng.uniform(50, 600, (7, n, 2)).astype(np.float32),
    ]
    np.savez_compressed(
        tmp_path / f"data_2d_{layout}_gt.npz",
        positions_2d={"Train/S1": {"Walking 1 chunk0": cams}},
        metadata=_metadata(layout, n),
    )
    ds = load_videopose3d_2d(tmp_path / f"data_2d_{layout}_gt.npz")
    assert ds.sizes == {"frame": 6, "camera": 3, "joint": 17, "uv": 2}
    assert ds.attrs["skeleton_source"] == skeleton
    assert list(ds["subject"].values[:1]) == ["Train/S1"]
    assert (ds["confidence"].isel(camera=1) == 0).all() and ds["keypoints"].isel(camera=1).isnull().all()
    _, present = sk.conversion_matrix()
    np.testing.assert_array_equal((ds["confidence"].isel(camera=0) > 0).all("frame").values, present)
    wrist = sk.joints.index("left_wrist")
    np.testing.assert_allclose(
        ds["keypoints"].isel(camera=2).sel(joint="left_wrist").values, cams[2][:6, wrist], rtol=1e-6
    )
    if layout == "humaneva20":  # the elbow is the mean of the two segment ends that meet there
        ends = [sk.joints.index("left_upper_arm_distal"), sk.joints.index("left_lower_arm_proximal")]
        np.testing.assert_allclose(
            ds["keypoints"].isel(camera=0).sel(joint="left_elbow").values,
            cams[0][:6, ends].mean(1),
            rtol=1e-6,
        )


def test_3d_humaneva15(tmp_path, rng):
    from zedo_xr.skeleton import HUMANEVA15_JOINTS

    raw = rng.normal(0, 0.3, (5, 15, 3)).astype(np.float32)
    np.savez_compressed(tmp_path / "data_3d_humaneva15.npz", positions_3d={"Train/S1": {"Jog 1 chunk0": raw}})
    da = load_videopose3d_3d(tmp_path / "data_3d_humaneva15.npz")
    assert da.dims == ("frame", "joint", "coord") and da.attrs["fps"] == 60.0
    np.testing.assert_allclose(
        da.sel(joint="head").values, raw[:, HUMANEVA15_JOINTS.index("head")], rtol=1e-6
    )
    assert da.sel(joint="neck").isnull().all()  # HumanEva has no nose-height joint
    assert "humaneva15" in da.attrs["source"]


def test_2d_detector_scores_clipped(tmp_path, rng):
    arr = np.concatenate([rng.uniform(50, 600, (4, 17, 2)), np.full((4, 17, 1), 0.7)], -1)
    arr[0, 0, 2] = 1.03
    np.savez_compressed(
        tmp_path / "data_2d_custom.npz", positions_2d={"v": {"custom": [arr]}}, metadata=_metadata("coco", 17)
    )
    with pytest.warns(UserWarning, match="clipped 1 detector scores"):
        ds = load_videopose3d_2d(tmp_path / "data_2d_custom.npz")
    assert float(ds["confidence"].max()) == 1.0
