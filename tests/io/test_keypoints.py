"""keypoints_dataset: any supported skeleton in one call; detector scores clipped or refused."""

from __future__ import annotations

import numpy as np
import pytest

import zedo_xr
from zedo_xr import skeleton
from zedo_xr.io.keypoints import detector_scores, keypoints_dataset
from zedo_xr.schema import SchemaError, validate_lift_input

K = [[1000.0, 0.0, 500.0], [0.0, 1000.0, 500.0], [0.0, 0.0, 1.0]]


def test_exported_from_the_package():
    assert zedo_xr.keypoints_dataset is keypoints_dataset


def test_coco17_by_name(rng):
    coco = rng.uniform(300, 700, (6, 17, 2))
    ds = keypoints_dataset(coco, "coco17", K=K, fps=30)
    assert ds.keypoints.dims == ("frame", "joint", "uv")
    assert list(ds.joint.values) == list(skeleton.H36M_JOINTS)
    names = skeleton.COCO17_JOINTS
    hips = coco[:, [names.index("left_hip"), names.index("right_hip")]].mean(1)
    np.testing.assert_allclose(ds.keypoints.sel(joint="pelvis"), hips)
    np.testing.assert_allclose(ds.keypoints.sel(joint="left_wrist"), coco[:, names.index("left_wrist")])
    assert (ds.confidence.sel(joint="head") == 0).all() and ds.keypoints.sel(joint="head").isnull().all()
    assert ds.attrs["fps"] == 30.0 and ds.attrs["skeleton_source"] == "coco17"
    validate_lift_input(ds)


@pytest.mark.parametrize("name", sorted(skeleton.SKELETONS))
def test_every_skeleton_converts(name, rng):
    sk = skeleton.get_skeleton(name)
    ds = keypoints_dataset(rng.uniform(100, 900, (3, len(sk.joints), 2)), name, K=K)
    _, present = sk.conversion_matrix()
    np.testing.assert_array_equal((ds.confidence > 0).all("frame").values, present)
    validate_lift_input(ds)


def test_individuals_and_score_column(rng):
    arr = np.concatenate([rng.uniform(300, 700, (4, 2, 26, 2)), rng.uniform(0.5, 0.9, (4, 2, 26, 1))], -1)
    ds = keypoints_dataset(arr, "halpe26", individuals=["ann", "bob"])
    assert ds.keypoints.dims == ("frame", "individual", "joint", "uv")
    assert list(ds.individual.values) == ["ann", "bob"]
    # Halpe's head top is H36M's head; the confidence of a joint is the minimum of its sources.
    head = skeleton.HALPE26_JOINTS.index("head")
    np.testing.assert_allclose(ds.confidence.sel(joint="head"), arr[:, :, head, 2])
    with pytest.raises(SchemaError, match=r"individuals: expected 2 names .*got 3"):
        keypoints_dataset(arr, "halpe26", individuals=["a", "b", "c"])


def test_subset_of_joints_and_missing():
    uv = np.full((2, 3, 2), 500.0)
    ds = keypoints_dataset(uv, joints=["pelvis", "left_hip", "right_hip"])
    assert ds.sizes["joint"] == 17
    assert float(ds.confidence.sel(joint="pelvis").min()) == 1.0
    assert float(ds.confidence.sel(joint="left_knee").max()) == 0.0
    with pytest.raises(SchemaError, match=r"not in skeleton 'coco17'"):
        keypoints_dataset(uv, "coco17", joints=["pelvis", "left_hip", "right_hip"])


def test_scores_slightly_above_one_are_clipped_once(rng):
    coco = rng.uniform(300, 700, (5, 17, 2))
    scores = np.full((5, 17), 0.8)
    scores[0, :3] = [1.04, 1.01, np.nan]
    with pytest.warns(
        UserWarning, match=r"confidence: clipped 2 detector scores above 1 \(largest 1.04\) to 1"
    ):
        ds = keypoints_dataset(coco, "coco17", confidence=scores)
    assert float(ds.confidence.max()) <= 1.0
    # nose (index 0) feeds H36M's neck/nose: clipped to 1
    assert float(ds.confidence.sel(joint="neck").isel(frame=0)) == 1.0


@pytest.mark.parametrize("bad", [3.0, 100.0, -0.2, np.inf])
def test_absurd_scores_are_refused(bad):
    with pytest.raises(SchemaError, match=r"confidence: expected scores in \[0, 1\]"):
        detector_scores([0.5, bad])


def test_shapes_and_image_size_checks(rng):
    with pytest.raises(SchemaError, match=r"keypoints: expected the 17 joints of skeleton .coco17., got 26"):
        keypoints_dataset(np.zeros((2, 26, 2)) + 300, "coco17")
    with pytest.raises(SchemaError, match=r"confidence: expected shape \(2, 17\)"):
        keypoints_dataset(np.zeros((2, 17, 2)) + 300, "coco17", confidence=np.ones((2, 16)))
    ds = keypoints_dataset(rng.uniform(0, 600, (2, 17, 2)), "coco17", image_size=(640, 480))
    assert (ds.attrs["image_width"], ds.attrs["image_height"]) == (640, 480)
    with pytest.raises(SchemaError, match=r"keypoints: expected pixels of a 64 x 48 image"):
        keypoints_dataset(rng.uniform(5000, 6000, (2, 17, 2)), "coco17", image_size=(64, 48))
    with pytest.raises(SchemaError, match=r"image_size: expected \(width, height\)"):
        keypoints_dataset(rng.uniform(0, 600, (2, 17, 2)), "coco17", image_size=640)


def test_single_frame_and_skeleton_hint(rng):
    ds = keypoints_dataset(rng.uniform(300, 700, (17, 2)), "coco17")
    assert ds.sizes["frame"] == 1
    with pytest.raises(
        SchemaError,
        match=r"expected the 26 joints of skeleton 'halpe26', got 17 "
        r"\(skeletons with 17 joints: coco17, h36m17, mpi_inf_3dhp17\)",
    ):
        keypoints_dataset(rng.uniform(300, 700, (3, 17, 2)), "halpe26")
