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
            "people": [{"person_id": [-1], "pose_keypoints_2d": p.ravel().tolist()} for p in people],
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


# ------------------------------------------------------------------ AlphaPose / Halpe / WholeBody
HALPE = get_skeleton("halpe26").joints


def alphapose_results(rng, n_frames=12, tracks=(1, 4), n_joints=26, overshoot=True):
    """An AlphaPose results list as its writer makes it: image ids are file names, ``idx`` the
    PoseFlow track id (sometimes a one-element list), person ``score`` above 1, ``box`` x,y,w,h."""
    results = []
    for f in range(n_frames):
        for t in tracks:
            if t == 4 and f == 5:
                continue  # person 4 not detected in frame 5
            xy = rng.uniform(200, 800, (n_joints, 2))
            s = rng.uniform(0.05, 0.98, n_joints)
            if overshoot and f == 3 and t == 1:
                s[HALPE.index("nose")] = 1.04  # heatmap overshoot, as AlphaPose writes
            results.append(
                {
                    "image_id": f"{f}.jpg",
                    "category_id": 1,
                    "keypoints": np.column_stack([xy, s]).ravel().round(3).tolist(),
                    "score": float(rng.uniform(1.5, 3.2)),
                    "box": [150.0, 120.0, 300.0, 600.0],
                    "idx": [float(t)] if f % 2 else t,
                }
            )
    return results


def test_alphapose_halpe26_with_tracks(tmp_path, rng):
    results = alphapose_results(rng)
    path = tmp_path / "alphapose-results.json"
    path.write_text(json.dumps(results))
    with pytest.warns(
        UserWarning, match=r"keypoint scores: clipped 1 detector scores above 1 \(largest 1.04\)"
    ):
        ds = load_coco_keypoints(path)
    assert ds.attrs["skeleton_source"] == "halpe26"
    assert ds.sizes == {"frame": 12, "individual": 2, "joint": 17, "uv": 2}
    assert list(ds["individual"].values) == [1, 4]
    # "10.jpg" comes after "9.jpg" (numeric order, not string order)
    assert list(ds["image_id"].values) == [f"{f}.jpg" for f in range(12)]
    # person 4 keeps its slot; its missing frame is empty
    assert (ds["confidence"].sel(individual=4).isel(frame=5) == 0).all()
    src = next(r for r in results if r["image_id"] == "10.jpg" and r["idx"] == 4)
    kp = np.asarray(src["keypoints"]).reshape(26, 3)
    got = ds.sel(individual=4).isel(frame=10)
    np.testing.assert_allclose(got["keypoints"].sel(joint="head").values, kp[HALPE.index("head"), :2])
    np.testing.assert_allclose(got["keypoints"].sel(joint="pelvis").values, kp[HALPE.index("hip"), :2])
    np.testing.assert_allclose(got["confidence"].sel(joint="thorax"), kp[HALPE.index("neck"), 2])
    assert float(ds["confidence"].max()) <= 1.0
    assert float(ds["score"].sel(individual=4).isel(frame=10)) == pytest.approx(src["score"])
    validate_keypoints(ds["keypoints"])
    validate_confidence(ds["confidence"])


@pytest.mark.parametrize(
    ("n_joints", "skeleton"), [(17, "coco17"), (133, "coco_wholebody133"), (136, "halpe136")]
)
def test_other_coco_format_sizes(tmp_path, rng, n_joints, skeleton):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(alphapose_results(rng, 3, (0,), n_joints, overshoot=False)))
    ds = load_coco_keypoints(path)
    assert ds.attrs["skeleton_source"] == skeleton and ds.sizes["joint"] == 17
    assert int(ds["individual"]) == 0
    head_present = float(ds["confidence"].sel(joint="head").max()) > 0
    assert head_present == skeleton.startswith("halpe")


def test_absurd_scores_and_mixed_sizes_are_refused(tmp_path, rng):
    results = alphapose_results(rng, 2, (0,), overshoot=False)
    kp = np.asarray(results[0]["keypoints"]).reshape(26, 3)
    kp[0, 2] = 87.0  # a 0-100 scale is not a detector overshoot
    results[0]["keypoints"] = kp.ravel().tolist()
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    with pytest.raises(
        SchemaError, match=r"keypoint scores: expected scores in \[0, 1\] .*got range \[.*, 87\]"
    ):
        load_coco_keypoints(path)
    results[0]["keypoints"] = results[0]["keypoints"][:51]
    path.write_text(json.dumps(results))
    with pytest.raises(
        SchemaError, match=r"keypoints: expected 51 \(coco17\), 78 \(halpe26\).*got \[51, 78\]"
    ):
        load_coco_keypoints(path)
    path.write_text("{not json")
    with pytest.raises(SchemaError, match="invalid JSON"):
        load_coco_keypoints(path)


def test_repeated_ids_are_not_tracks(tmp_path, rng):
    # Two people in every image with the same idx: not track ids, so nobody may be dropped.
    results = alphapose_results(rng, 3, (0,), overshoot=False)
    results += [dict(r, keypoints=(np.asarray(r["keypoints"]) + [50, 0, 0] * 26).tolist()) for r in results]
    path = tmp_path / "results.json"
    path.write_text(json.dumps(results))
    ds = load_coco_keypoints(path)
    assert ds.sizes["individual"] == 2 and list(ds["individual"].values) == [0, 1]
    assert (ds["confidence"].sel(joint="head") > 0).all()
