"""zedo_xr.viz.prepare: selection, reprojection and MPJPE from camera/metrics, fitted boxes."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from tests.viz.conftest import K, lifted, without_pose
from zedo_xr import metrics, schema
from zedo_xr.viz.prepare import prepare, reproject


def test_reprojection_is_the_camera_projection(ds: xr.Dataset) -> None:
    view = prepare(ds)
    assert view.reproj is not None
    # The ground truth reprojects onto the input keypoints (they were made with the same K).
    gt_uv = reproject(ds.pose3d_gt.values[:, None], np.broadcast_to(K, (12, 3, 3)))[:, 0]
    assert np.allclose(gt_uv, ds.keypoints.values, atol=1e-6)
    # Points behind the camera have no pixel.
    behind = ds.pose3d_gt.values[:1, None] * np.array([1.0, 1.0, -1.0])
    assert np.isnan(reproject(behind, K[None])).all()


def test_mpjpe_is_the_metric(ds: xr.Dataset) -> None:
    view = prepare(ds, hypotheses=[0, 2])
    expected = metrics.mpjpe(ds.pose3d.isel(hypothesis=[0, 2]), ds.pose3d_gt)
    assert view.mpjpe is not None
    assert np.allclose(view.mpjpe[:, :2], expected.transpose("frame", "hypothesis").values)
    best = metrics.mpjpe(ds.pose3d.isel(hypothesis=ds.best_hypothesis), ds.pose3d_gt)
    assert np.allclose(view.mpjpe[:, 2], best.values)


def test_reprojection_error_measured_without_the_lifts(ds: xr.Dataset) -> None:
    exact = ds.drop_vars(["pose3d", "reprojection_error", "best_hypothesis", "hypothesis"])
    exact["pose3d"] = ds.pose3d_gt.expand_dims(hypothesis=1, axis=1)
    view = prepare(exact)
    assert view.error is not None and np.allclose(view.error, 0.0, atol=1e-6)
    assert view.slot_labels == ["hypothesis 0"]


def test_person_box_fits_the_skeleton(ds: xr.Dataset) -> None:
    view = prepare(ds)
    points = np.concatenate([view.pose.reshape(-1, 3), ds.pose3d_gt.values.reshape(-1, 3)])
    lo, hi = view.range3d[:, 0], view.range3d[:, 1]
    assert (points >= lo).all() and (points <= hi).all()
    # Tight: at most the pad (and the minimum extent) around the skeletons, 5 m from the camera.
    extent = points.max(axis=0) - points.min(axis=0)
    assert np.all(hi - lo <= np.maximum(extent + 0.25, 0.61))
    assert lo[2] > 4.0
    # The camera layout holds the camera (the origin) and the person.
    assert (view.scene3d[:, 0] <= 0).all() and (view.scene3d[:, 1] >= hi).all()
    assert view.camera is not None and np.allclose(view.camera[0], 0.0)


def test_person_box_leaves_out_hypotheses_far_off_in_depth(ds: xr.Dataset) -> None:
    """A hypothesis scaled along the rays (same 2D, 3x as far) stays out of the person's box but in
    the camera layout."""
    far = ds.copy(deep=True)
    far["pose3d"][:, 1] = far["pose3d"][:, 1] * 3.0
    view, near = prepare(far), prepare(ds)
    np.testing.assert_allclose(view.range3d, prepare(ds.isel(hypothesis=[0, 2])).range3d)
    assert view.range3d[2, 1] < 8.0 <= float(far.pose3d[:, 1, :, 2].max())
    assert view.scene3d[2, 1] >= float(far.pose3d[:, 1, :, 2].max())
    assert near.range3d[2, 1] < 8.0


def test_2d_zoom_fits_the_person_inside_the_image(ds: xr.Dataset) -> None:
    view = prepare(ds)
    assert view.range2d is not None and view.image2d is not None
    kp = ds.keypoints.values.reshape(-1, 2)
    assert (kp >= view.range2d[:, 0]).all() and (kp <= view.range2d[:, 1]).all()
    width = view.range2d[:, 1] - view.range2d[:, 0]
    assert width.max() < 500  # a person of ~430 px in a 1000 px image, not the whole image
    assert np.allclose(view.image2d, [[0, 1000], [0, 1000]])
    assert view.image_size == (1000.0, 1000.0)


def test_frames_without_a_pose(ds: xr.Dataset) -> None:
    holes = without_pose(ds, slice(3, 6))
    view = prepare(holes)
    assert view.no_pose.tolist() == [False] * 3 + [True] * 3 + [False] * 6
    assert view.mpjpe is not None and np.isnan(view.mpjpe[3:6]).all()
    # The box comes from the frames that have a pose.
    assert np.isfinite(view.range3d).all()
    # valid=False alone marks a frame too (its pose is not trusted even if present).
    flagged = ds.assign(valid=("frame", np.arange(12) != 7))
    assert prepare(flagged).no_pose.tolist() == [i == 7 for i in range(12)]
    # Every frame empty: still a view, with a default box.
    empty = prepare(without_pose(ds, slice(None)))
    assert empty.no_pose.all() and np.isfinite(empty.range3d).all()


def test_root_relative_has_no_camera(ds: xr.Dataset) -> None:
    view = prepare(ds, root_relative=True)
    assert view.camera is None and np.allclose(view.pose[:, :, 0], 0.0)
    assert np.array_equal(view.scene3d, view.range3d)


def test_selection_and_subsampling(ds: xr.Dataset) -> None:
    assert prepare(ds, frames=slice(2, 8)).frame_labels == [str(i) for i in range(2, 8)]
    assert prepare(lifted(n_frame=450, n_hyp=2), max_frames=100).frame_labels[1] == "5"
    assert prepare(ds, hypotheses=2).slot_labels == ["hypothesis 0", "hypothesis 1", "best"]
    with pytest.raises(ValueError, match="hypotheses"):
        prepare(ds, hypotheses=0)
    with pytest.raises(ValueError, match="frames"):
        prepare(ds, frames=[20])
    with pytest.raises(ValueError, match="max_frames"):
        prepare(ds, max_frames=0)


def test_extra_dims_and_bad_input(ds: xr.Dataset) -> None:
    both = xr.concat([ds, lifted(seed=1)], dim="individual").assign_coords(individual=["a", "b"])
    assert np.array_equal(prepare(both).pose, prepare(ds).pose)
    with pytest.raises(schema.SchemaError, match="select"):
        prepare(both, select={"person": "b"})
    with pytest.raises(schema.SchemaError, match="pose3d"):
        prepare(ds.drop_vars("pose3d"))
    with pytest.raises(schema.SchemaError, match="millimetres"):
        prepare(ds.assign(pose3d=ds.pose3d * 1000))
    with pytest.raises(schema.SchemaError, match="Dataset"):
        prepare(ds.pose3d)  # type: ignore[arg-type]
