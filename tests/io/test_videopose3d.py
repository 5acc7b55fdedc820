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
    np.savez_compressed(tmp_path / "c.npz", positions_2d={}, metadata={"layout_name": "coco"})
    with pytest.raises(SchemaError, match="layout_name"):
        load_videopose3d_2d(tmp_path / "c.npz")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


def test_refuses_code_in_pickles(tmp_path):
    np.savez(tmp_path / "evil.npz", positions_3d=np.array(_Evil(), dtype=object))
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_videopose3d_3d(tmp_path / "evil.npz")
