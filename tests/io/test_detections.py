"""COCO keypoint JSON and OpenPose BODY-25 JSON readers (small hand-made files)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zedo_xr.io import load_coco_keypoints, load_openpose
from zedo_xr.schema import SchemaError, validate_confidence, validate_keypoints
from zedo_xr.skeleton import H36M_JOINTS, get_skeleton

COCO = get_skeleton("coco17").joints
BODY25 = get_skeleton("openpose25").joints


def coco_person(rng, v=2, score=None):
    xy = rng.uniform(100, 900, (17, 2))
    vis = np.full(17, v, dtype=float) if score is None else rng.uniform(0.2, 1, 17)
    kp = np.concatenate([xy, vis[:, None]], 1)
    return kp


@pytest.fixture
def coco_file(tmp_path, rng):
    people = [coco_person(rng) for _ in range(3)]
    people[1][COCO.index("left_ear"), 2] = 0  # not labelled
    people[1][COCO.index("left_hip"), :] = 0  # not labelled (COCO writes 0, 0, 0)
    anns = [
        {"id": 1, "image_id": 7, "category_id": 1, "keypoints": people[0].ravel().tolist()},
        {"id": 2, "image_id": 9, "category_id": 1, "keypoints": people[1].ravel().tolist()},
        {"id": 3, "image_id": 9, "category_id": 1, "keypoints": people[2].ravel().tolist()},
        {"id": 4, "image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]},  # no keypoints
    ]
    data = {
        "images": [{"id": 7, "file_name": "a.jpg"}, {"id": 9, "file_name": "b.jpg"}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO)}],
    }
    path = tmp_path / "person_keypoints.json"
    path.write_text(json.dumps(data))
    return path, people


def test_coco_ground_truth(coco_file):
    path, people = coco_file
    ds = load_coco_keypoints(path)
    assert ds["keypoints"].dims == ("frame", "individual", "joint", "uv")
    assert ds.sizes == {"frame": 2, "individual": 2, "joint": 17, "uv": 2}
    assert list(ds["joint"].values) == list(H36M_JOINTS)
    assert list(ds["image_id"].values) == [7, 9]
    assert list(ds["file_name"].values) == ["a.jpg", "b.jpg"]
    kp = ds["keypoints"]
    np.testing.assert_allclose(
        kp.isel(frame=1, individual=1).sel(joint="right_wrist").values,
        people[2][COCO.index("right_wrist"), :2],
    )
    hips = people[0][[COCO.index("left_hip"), COCO.index("right_hip")], :2].mean(0)
    np.testing.assert_allclose(kp.isel(frame=0, individual=0).sel(joint="pelvis").values, hips)
    conf = ds["confidence"]
    assert (conf.sel(joint="head") == 0).all()  # COCO has no head top
    # Image 7 has one person: the second slot is padding.
    assert (conf.isel(frame=0, individual=1) == 0).all()
    # A missing left hip also removes the pelvis (mean of both hips).
    assert float(conf.isel(frame=1, individual=0).sel(joint="left_hip")) == 0
    assert float(conf.isel(frame=1, individual=0).sel(joint="pelvis")) == 0
    assert np.isnan(kp.isel(frame=1, individual=0).sel(joint="pelvis")).all()
    one = load_coco_keypoints(path, image_id=7)
    assert one["keypoints"].dims == ("frame", "joint", "uv")
    assert int(one["individual"]) == 0
    validate_keypoints(one["keypoints"])
    validate_confidence(one["confidence"])


def test_coco_results_list(tmp_path, rng):
    results = [
        {"image_id": 3, "category_id": 1, "score": 0.9,
         "keypoints": coco_person(rng, score=True).ravel().tolist()},
    ]  # fmt: skip
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    ds = load_coco_keypoints(path)
    assert float(ds["score"].squeeze()) == 0.9
    src = np.asarray(results[0]["keypoints"]).reshape(17, 3)
    assert float(ds["confidence"].sel(joint="left_knee").squeeze()) == pytest.approx(
        src[COCO.index("left_knee"), 2]
    )
    path.write_text(json.dumps([{"image_id": 3, "keypoints": [1.0] * 50}]))
    with pytest.raises(SchemaError, match="51"):
        load_coco_keypoints(path)


def write_openpose(folder, frames):
    folder.mkdir()
    for i, people in enumerate(frames):
        data = {
            "version": 1.3,
            "people": [
                {"person_id": [-1], "pose_keypoints_2d": p.ravel().tolist()} for p in people
            ],
        }
        (folder / f"clip_{i:012d}_keypoints.json").write_text(json.dumps(data))


def test_openpose(tmp_path, rng):
    def person():
        kp = np.concatenate([rng.uniform(50, 600, (25, 2)), rng.uniform(0.3, 1, (25, 1))], 1)
        return kp

    a, b, c = person(), person(), person()
    b[BODY25.index("LWrist")] = 0  # undetected
    write_openpose(tmp_path / "op", [[a], [b, c], []])
    ds = load_openpose(tmp_path / "op", fps=30)
    assert ds.sizes == {"frame": 3, "individual": 2, "joint": 17, "uv": 2}
    assert list(ds["frame_number"].values) == [0, 1, 2]
    assert ds.attrs["fps"] == 30.0
    np.testing.assert_allclose(
        ds["keypoints"].isel(frame=0, individual=0).sel(joint="thorax").values,
        a[BODY25.index("Neck"), :2],
    )
    np.testing.assert_allclose(
        ds["confidence"].isel(frame=1, individual=1).sel(joint="right_knee").values,
        c[BODY25.index("RKnee"), 2],
    )
    assert float(ds["confidence"].isel(frame=1, individual=0).sel(joint="left_wrist")) == 0
    assert np.isnan(ds["keypoints"].isel(frame=1, individual=0).sel(joint="left_wrist")).all()
    assert (ds["confidence"].isel(frame=2) == 0).all()  # nobody detected
    single = load_openpose(tmp_path / "op" / "clip_000000000000_keypoints.json")
    assert single["keypoints"].dims == ("frame", "joint", "uv")
    bad = tmp_path / "bad_keypoints.json"
    bad.write_text(json.dumps({"people": [{"pose_keypoints_2d": [0.0] * 54}]}))
    with pytest.raises(SchemaError, match="BODY-25"):
        load_openpose(bad)
