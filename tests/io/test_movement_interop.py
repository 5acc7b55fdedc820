"""movement interop: dim renames (old plural / new singular), seconds vs frames, hypotheses.

Datasets are built by hand so these tests run without movement installed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

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
        from_movement(src)
    ds = from_movement(src, skeleton="coco17")
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
        np.testing.assert_array_equal(
            mv["position"].values[f, :, :, 0], out["pose3d"].values[f, best[f]].T
        )
    back = from_movement(mv)
    np.testing.assert_allclose(
        back["pose3d"].values, mv["position"].values[..., 0].transpose(0, 2, 1)
    )
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


def test_with_movement_installed():
    movement = pytest.importorskip("movement")
    from movement.validators.datasets import ValidPosesInputs  # noqa: F401

    mv = to_movement(lifted())
    assert movement is not None and "position" in mv
