"""Every data-model violation raises one SchemaError naming the variable, expected and actual."""

import numpy as np
import pytest
import xarray as xr

from zedo_xr import schema
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.schema import SchemaError, as_intrinsics, pose_dataarray

K = np.array([[1145.0, 0.0, 512.0], [0.0, 1145.0, 515.0], [0.0, 0.0, 1.0]])


@pytest.fixture
def ds():
    rng = np.random.default_rng(0)
    return keypoints_dataset(rng.uniform(300, 700, (5, 17, 2)), K=K)


def test_valid_dataset_passes(ds):
    K_da = schema.validate_lift_input(ds)
    assert K_da.dims == ("row", "col")
    assert ds.keypoints.dims == ("frame", "joint", "uv")
    assert ds.joint.dtype == object and ds.uv.dtype == object


@pytest.mark.parametrize(
    "mutate, match",
    [
        (
            lambda d: d.rename({"uv": "xy"}),
            r"keypoints: expected dims including \('frame', 'joint', 'uv'\), got .*missing \('uv',\)",
        ),
        (lambda d: d.drop_vars("keypoints"), r"dataset: expected a 'keypoints' variable"),
        (
            lambda d: d.assign_coords(joint=[f"knee_{i}" for i in range(17)]),
            r"keypoints: unknown joint names \['knee_0'",
        ),
        (
            lambda d: d.assign(keypoints=d.keypoints / 1000.0),
            r"keypoints: expected pixel coordinates .* look normalised",
        ),
        (
            lambda d: d.assign(keypoints=d.keypoints.where(d.keypoints < 0)),
            r"keypoints: every keypoint is NaN",
        ),
        (
            lambda d: d.assign(keypoints=d.keypoints.where(d.frame != 0, np.inf)),
            r"keypoints: expected finite pixel values or NaN",
        ),
        (
            lambda d: d.assign(confidence=d.confidence * 2),
            r"confidence: expected values in \[0, 1\], got range \[2, 2\]",
        ),
        (lambda d: d.isel(frame=slice(0, 0)), r"keypoints: expected a non-empty array"),
        (lambda d: d.drop_vars("K"), r"K: expected camera intrinsics, as lift\(K=...\) or a 'K' variable"),
    ],
)
def test_bad_datasets(ds, mutate, match):
    with pytest.raises(SchemaError, match=match):
        schema.validate_lift_input(mutate(ds))


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.eye(4), r"K: expected a 3x3 matrix, got 4x4"),
        (
            np.ones((2, 2, 3, 3, 1)),
            r"K: expected shape \(3, 3\) or \(frame, 3, 3\), got shape \(2, 2, 3, 3, 1\)",
        ),
        (np.where(np.eye(3) > 0, np.nan, 0.0), r"K: expected finite intrinsics, got NaN or inf"),
        (
            K + np.array([[0, 0, 0], [5.0, 0, 0], [0, 0, 0]]),
            r"K: expected an upper-triangular pinhole matrix",
        ),
        (
            K * np.array([[-1.0], [1.0], [1.0]]),
            r"K: expected positive focal lengths fx, fy in pixels, got fx=-1145",
        ),
        (np.diag([1145.0, 1145.0, 0.0]), r"K: expected positive focal lengths|K: expected K\[2, 2\] == 1"),
        (K * 2, r"K: expected K\[2, 2\] == 1, got 2"),
        (None, r"K: expected 3x3 camera intrinsics in pixels, got None"),
    ],
)
def test_bad_intrinsics(bad, match):
    with pytest.raises(SchemaError, match=match):
        as_intrinsics(bad)


def test_singular_K_is_rejected():
    singular = K.copy()
    singular[1, 1] = 0.0
    with pytest.raises(SchemaError, match="fy=0"):
        as_intrinsics(singular)


def test_per_frame_K_must_match_frames(ds):
    with pytest.raises(SchemaError, match=r"K: expected one matrix per frame \(5\), got 3"):
        schema.validate_lift_input(ds.drop_vars("K"), K=np.broadcast_to(K, (3, 3, 3)))


def test_K_dataarray_dims():
    with pytest.raises(SchemaError, match=r"K: expected dims including \('row', 'col'\)"):
        as_intrinsics(xr.DataArray(K, dims=("a", "b")))
    da = as_intrinsics(xr.DataArray(np.broadcast_to(K, (2, 3, 3)), dims=("camera", "row", "col")))
    assert da.dims == ("camera", "row", "col")


def test_millimetres_are_rejected():
    with pytest.raises(SchemaError, match=r"pose3d_gt: expected metres, got values up to .*millimetres"):
        keypoints_dataset(np.full((2, 17, 2), 500.0), pose3d_gt=np.full((2, 17, 3), 4000.0))
    with pytest.raises(
        SchemaError, match=r"pose3d: expected dims including \('frame', 'hypothesis', 'joint', 'coord'\)"
    ):
        schema.validate_pose3d(pose_dataarray(np.zeros((2, 17, 3))), "pose3d", hypotheses=True)
    with pytest.raises(SchemaError, match=r"pose3d_gt: expected 3 entries along 'coord', got 2"):
        schema.validate_pose3d(
            xr.DataArray(np.zeros((2, 17, 2)), dims=("frame", "joint", "coord")), "pose3d_gt"
        )


def test_constructors_check_shapes():
    with pytest.raises(
        SchemaError, match=r"keypoints: expected shape \(frame, joint, 2\) .*got shape \(3, 17\)"
    ):
        keypoints_dataset(np.zeros((3, 17)))
    with pytest.raises(
        SchemaError, match=r"position: expected shape \(frame, 17, 3\), got shape \(3, 16, 3\)"
    ):
        pose_dataarray(np.zeros((3, 16, 3)))


def test_nan_keypoints_get_zero_confidence():
    kp = np.full((2, 17, 2), 500.0)
    kp[0, 3] = np.nan
    ds = keypoints_dataset(kp)
    assert ds.confidence.values[0, 3] == 0.0 and ds.confidence.values[1, 3] == 1.0


def test_joint_count_must_match_names():
    with pytest.raises(SchemaError, match=r"keypoints: expected the 17 joints of skeleton 'h36m17', got 16"):
        keypoints_dataset(np.full((2, 16, 2), 500.0))
