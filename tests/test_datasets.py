"""Virtual-camera evaluation views (DESIGN.md §5)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from zedo_xr.datasets import make_views, subsample
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.schema import SchemaError, pose_dataarray, validate_lift_input
from zedo_xr.skeleton import H36M_JOINTS

# A standing H36M pose, world metres, Z up, facing +Y: (x, y, z) per joint in H36M order.
STANDING = np.array(
    [
        [0.00, 0.0, 0.95],  # pelvis
        [-0.12, 0.0, 0.93], [-0.12, 0.0, 0.50], [-0.12, 0.0, 0.08],  # right leg
        [0.12, 0.0, 0.93], [0.12, 0.0, 0.50], [0.12, 0.0, 0.08],  # left leg
        [0.00, 0.0, 1.18], [0.00, 0.0, 1.42], [0.00, 0.05, 1.55], [0.00, 0.0, 1.72],  # torso, head
        [0.18, 0.0, 1.40], [0.20, 0.0, 1.12], [0.22, 0.0, 0.88],  # left arm
        [-0.18, 0.0, 1.40], [-0.20, 0.0, 1.12], [-0.22, 0.0, 0.88],  # right arm
    ]
)  # fmt: skip


@pytest.fixture
def world(rng) -> xr.DataArray:
    n = 12
    poses = STANDING[None] + rng.normal(0.0, 0.03, (n, 17, 3))
    poses[..., :2] += rng.uniform(-2.0, 2.0, (n, 1, 2))  # anywhere on the floor
    da = pose_dataarray(poses, fps=50.0)
    return da.assign_coords(sequence=("frame", np.repeat(["walk", "jump"], n // 2).astype(object)))


def _reproject(ds: xr.Dataset) -> np.ndarray:
    cam = ds.pose3d_gt.transpose("frame", "joint", "coord").values
    homog = np.einsum("fij,fkj->fki", ds.K.values, cam)
    return homog[..., :2] / homog[..., 2:3]


def test_schema_and_reprojection(world):
    ds = make_views(world, seed=3, views_per_pose=2)
    assert ds.keypoints.dims == ("frame", "joint", "uv")
    assert ds.confidence.dims == ("frame", "joint")
    assert ds.K.dims == ("frame", "row", "col")
    assert ds.pose3d_gt.dims == ("frame", "joint", "coord")
    assert ds.sizes["frame"] == 24 and ds.attrs["n_dropped"] == 0
    assert list(ds.joint.values) == list(H36M_JOINTS)
    validate_lift_input(ds)
    np.testing.assert_allclose(_reproject(ds), ds.keypoints.values, atol=1e-9)
    assert (ds.confidence == 1).all()
    # carried coords and provenance
    assert list(ds.sequence.values[:2]) == ["walk", "walk"]
    assert list(ds.source_frame.values[:4]) == [0, 0, 1, 1]
    assert list(ds.view.values[:4]) == [0, 1, 0, 1]
    assert ds.attrs["seed"] == 3 and ds.attrs["source_fps"] == 50.0 and "fps" not in ds.attrs
    assert ds.attrs["focal_px"] == [1145.0, 1150.0] and ds.attrs["image_size"] == [1000, 1000]
    # intrinsics in the H36M range, principal point at the image centre
    assert ((ds.K[:, 0, 0] >= 1145) & (ds.K[:, 0, 0] <= 1150)).all()
    np.testing.assert_allclose(ds.K[:, :2, 2], 500.0)
    # the world pose is the camera pose moved back: rigid, so bone lengths survive
    back = np.einsum("fji,fkj->fki", ds.camera_R.values, ds.pose3d_gt.values - ds.camera_t.values[:, None, :])
    np.testing.assert_allclose(back, world.values[ds.source_frame.values], atol=1e-9)


def test_every_keypoint_in_image_and_depth_in_range(world):
    ds = make_views(world, seed=0, views_per_pose=3)
    uv = ds.keypoints.values
    assert (uv >= 0).all() and (uv[..., 0] < 1000).all() and (uv[..., 1] < 1000).all()
    # the camera looks at the pelvis: it projects onto the principal point
    np.testing.assert_allclose(ds.keypoints.sel(joint="pelvis"), 500.0, atol=1e-6)
    pelvis = ds.pose3d_gt.sel(joint="pelvis")
    np.testing.assert_allclose(pelvis.sel(coord=["x", "y"]), 0.0, atol=1e-9)
    # depth = sqrt(distance^2 + (camera height - pelvis height)^2), distance in [4, 6]
    depth = pelvis.sel(coord="z")
    assert (depth >= 4.0).all() and (depth <= np.hypot(6.0, 1.65)).all()
    # looking slightly down: the head is above (smaller v than) the pelvis, the camera y axis
    # points down in the world
    assert (ds.keypoints.sel(joint="head", uv="v") < 500).all()
    down = ds.camera_R.values[:, 1, :]  # camera y axis in world coordinates
    assert (down[:, 2] < -0.9).all()


def test_determinism_and_independent_streams(world):
    a = make_views(world, seed=7)
    b = make_views(world, seed=7)
    xr.testing.assert_identical(a, b)
    c = make_views(world, seed=8)
    assert not np.allclose(a.keypoints, c.keypoints)
    noisy = make_views(world, seed=7, noise_px=5.0, drop_joints=2)
    xr.testing.assert_allclose(a.pose3d_gt, noisy.pose3d_gt)
    xr.testing.assert_allclose(a.K, noisy.K)


def test_noise_std(rng):
    poses = pose_dataarray(STANDING[None] + rng.normal(0.0, 0.02, (400, 17, 3)))
    clean = make_views(poses, seed=1)
    noisy = make_views(poses, seed=1, noise_px=5.0)
    diff = (noisy.keypoints - clean.keypoints).values
    assert diff.size == 400 * 17 * 2
    assert abs(diff.std() - 5.0) < 0.15 and abs(diff.mean()) < 0.15
    assert noisy.attrs["noise_px"] == 5.0


def test_dropped_joints(world):
    ds = make_views(world, seed=2, drop_joints=3)
    dropped = ds.confidence == 0
    assert (dropped.sum("joint") == 3).all()
    assert ds.keypoints.where(dropped).isnull().all()
    assert ds.keypoints.where(~dropped).notnull().sum() == ds.sizes["frame"] * 14 * 2
    ranged = make_views(world, seed=2, drop_joints=(1, 3))
    counts = (ranged.confidence == 0).sum("joint")
    assert ((counts >= 1) & (counts <= 3)).all()
    assert ranged.attrs["drop_joints"] == [1, 3]
    validate_lift_input(ds)  # NaN keypoints are allowed by the data model


def test_unplaceable_frames_are_dropped_and_recorded(world):
    poses = world.copy()
    poses[4, 10, 2] = 30.0  # a head 30 m up never fits in the image from 4-6 m
    poses[7, 0, 0] = np.nan
    ds = make_views(poses, seed=0, max_tries=5)
    assert ds.sizes["frame"] == 10
    assert ds.attrs["dropped_frames"] == [4, 7] and ds.attrs["n_dropped"] == 2
    assert 4 not in ds.source_frame.values


def test_settings_and_errors(world):
    ds = make_views(
        world,
        seed=0,
        distance=5.0,
        height=1.5,
        focal=1000.0,
        principal=(480.0, 520.0),
        image_size=(960, 1040),
    )
    np.testing.assert_allclose(ds.K[:, 0, 0], 1000.0)
    np.testing.assert_allclose(ds.keypoints.sel(joint="pelvis"), [[480.0, 520.0]] * 12, atol=1e-6)
    depth = ds.pose3d_gt.sel(joint="pelvis", coord="z").values
    np.testing.assert_allclose(depth, np.hypot(5.0, 1.5 - world.sel(joint="pelvis", coord="z")))
    with pytest.raises(SchemaError, match="millimetres"):
        make_views(world * 1000.0)
    with pytest.raises(SchemaError, match="pelvis"):
        make_views(world.isel(joint=slice(1, None)))
    with pytest.raises(SchemaError, match="extra dims"):
        make_views(world.expand_dims(individual=2))
    with pytest.raises(ValueError, match="drop_joints"):
        make_views(world, drop_joints=18)


def test_subsample(world):
    sub = subsample(world, 4)
    assert sub.sizes["frame"] == 3 and sub.attrs["fps"] == 12.5
    assert list(sub.frame.values) == [0, 4, 8]
    with pytest.raises(ValueError):
        subsample(world, 0)


def test_views_match_keypoints_dataset(world):
    ds = make_views(world, seed=0)
    rebuilt = keypoints_dataset(ds.keypoints.values, K=ds.K.values, pose3d_gt=ds.pose3d_gt.values)
    np.testing.assert_allclose(rebuilt.keypoints, ds.keypoints)


def test_fixed_camera_films_the_clip_with_one_camera():
    from zedo_xr.demo import load_demo_clip

    clip = load_demo_clip()
    ds = make_views(clip, seed=3, camera="fixed")
    assert ds.sizes["frame"] == clip.sizes["frame"]
    assert ds.attrs["camera"] == "fixed"
    assert (ds.camera_R == ds.camera_R.isel(frame=0)).all()
    assert (ds.K.isel(frame=0) == ds.K).all()
    # The subject moves through a static camera's view: the pelvis does not stay centred.
    pelvis_u = ds.keypoints.sel(joint="pelvis", uv="u")
    assert float(pelvis_u.max() - pelvis_u.min()) > 20
    uv = ds.keypoints.values
    assert (uv >= 0).all() and (uv[..., 0] < 1000).all() and (uv[..., 1] < 1000).all()
    # Reprojection still holds.
    cam = ds.pose3d_gt.values @ ds.K.values[0].T
    np.testing.assert_allclose(cam[..., :2] / cam[..., 2:], uv, atol=1e-6)


def test_fixed_camera_that_cannot_fit_raises():
    from zedo_xr.demo import load_demo_clip

    with pytest.raises(ValueError, match="camera='fixed'"):
        make_views(load_demo_clip(), camera="fixed", distance=0.5, max_tries=3)
