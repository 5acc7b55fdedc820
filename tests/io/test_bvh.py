"""BVH parser and FK on a hand-written fixture; the Bandai reader on the shared data only.

Bandai-Namco data are CC BY-NC: nothing derived from them is committed, they are read from
``../shared`` through the ``shared_data`` fixture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from zedo_xr.io import load_bandai, read_bvh
from zedo_xr.io.bvh import BVHError, parse_bvh

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny.bvh"
BANDAI_DIR = Path("bandai1", "Bandai-Namco-Research-Motiondataset-1", "data")


def test_parse_hierarchy():
    bvh = read_bvh(TINY)
    assert bvh.names == ("Root", "Spine", "Head", "Leg")
    assert list(bvh.parents) == [-1, 0, 1, 0]
    assert [len(j.channels) for j in bvh.joints] == [6, 6, 3, 3]
    assert [j.channel_start for j in bvh.joints] == [0, 6, 12, 15]
    assert [j.rotation_order for j in bvh.joints] == ["zxy", "zxy", "xyz", "yxz"]
    np.testing.assert_array_equal(bvh.offsets[3], [0, -30, 0])
    assert bvh.joints[1].end_site is None
    np.testing.assert_array_equal(bvh.joints[2].end_site, [0, 5, 0])
    assert bvh.n_frames == 3 and bvh.frame_time == 0.04 and bvh.fps == pytest.approx(25.0)
    np.testing.assert_array_equal(bvh.channel_values("Spine", "Zrotation"), [0, 0, 90])


def test_forward_kinematics_by_hand():
    bvh = read_bvh(TINY)
    pos, rot = bvh.forward_kinematics()
    ends = bvh.end_site_positions(pos, rot)
    # Frame 0: rest pose; the Spine's position channels replace its offset.
    np.testing.assert_allclose(pos[0], [[0, 100, 0], [10, 100, 0], [10, 120, 0], [0, 70, 0]])
    np.testing.assert_allclose(ends["Head"][0], [10, 125, 0])
    np.testing.assert_allclose(ends["Leg"][0], [0, 30, 0])
    # Frame 1: root translated to (1, 2, 3) and turned 90 deg about Z.
    np.testing.assert_allclose(pos[1], [[1, 2, 3], [1, 12, 3], [-19, 12, 3], [31, 2, 3]], atol=1e-9)
    # Frame 2: Spine Z=90 then X=90 in the listed order (R = Rz . Rx); reading it as
    # Rx . Rz would put the head at (-10, 0, 0).
    np.testing.assert_allclose(pos[2, 2], [10, 0, 20], atol=1e-9)
    np.testing.assert_allclose(ends["Head"][2], [15, 0, 20], atol=1e-9)
    np.testing.assert_allclose(ends["Leg"][2], [0, -30, -40], atol=1e-9)
    assert np.allclose(np.linalg.det(rot), 1.0)


def test_malformed_bvh():
    text = TINY.read_text()
    with pytest.raises(BVHError, match="values"):
        parse_bvh(text.rsplit("\n", 2)[0] + "\n")  # drop the last frame line
    with pytest.raises(BVHError, match="MOTION"):
        parse_bvh(text.split("MOTION")[0])
    with pytest.raises(BVHError, match="unknown channels"):
        parse_bvh(text.replace("Xrotation Yrotation Zrotation", "Xrotation Yrotation Wrotation"))


@pytest.fixture(scope="module")
def bandai_sample(shared_data):
    folder = shared_data / BANDAI_DIR
    names = [
        "walk_normal_001",
        "run_normal_001",
        "walk-back_normal_001",
        "kick_normal_001",
        "bow_normal_001",
        "walk-left_happy_001",
    ]
    files = [folder / f"dataset-1_{n}.bvh" for n in names]
    return files, [load_bandai(f) for f in files]


def test_bvh_matches_bvhio(bandai_sample):
    bvhio = pytest.importorskip("bvhio")
    file = bandai_sample[0][0]
    bvh = read_bvh(file)
    pos, _ = bvh.forward_kinematics()
    root = bvhio.readAsHierarchy(str(file))
    for frame in (0, 97):
        root.loadPose(frame)
        for joint, _, _ in root.layout():
            theirs = np.array(list(joint.PositionWorld))
            np.testing.assert_allclose(pos[frame, bvh.index(joint.Name)], theirs, atol=1e-3)


def test_bandai_reader(bandai_sample, physics):
    _, arrays = bandai_sample
    walk = arrays[0]
    physics.check_reader_conventions(walk)
    assert walk.sizes["frame"] == 195 and walk.attrs["fps"] == 30.0
    assert "CC BY-NC" in walk.attrs["licence"]
    assert set(walk["sequence"].values) == {"dataset-1_walk_normal_001"}
    # Units and up axis: hip-joint midpoint ~0.88 m above the floor when standing.
    assert 0.8 < float(walk.sel(joint="pelvis", coord="z").median()) < 0.95
    hip_width = np.linalg.norm(walk.sel(joint="left_hip") - walk.sel(joint="right_hip"), axis=-1)
    assert hip_width.mean() == pytest.approx(0.1294, abs=0.001)


BANDAI_VIRTUAL_BONES = {  # H36M bones across a rotating source joint (or the head axis)
    ("pelvis", "spine"), ("spine", "thorax"), ("thorax", "neck"),
    ("thorax", "left_shoulder"), ("thorax", "right_shoulder"),
}  # fmt: skip


def test_bandai_physics(bandai_sample, physics):
    for da in bandai_sample[1]:
        stds = physics.bone_length_std(da)
        rigid = {b: s for b, s in stds.items() if b not in BANDAI_VIRTUAL_BONES}
        assert max(rigid.values()) < 1e-3, rigid
        agree, n = physics.left_right_agreement(da)
        assert n >= 20 and agree > 0.98, (da["sequence"].values[0], agree, n)
        assert physics.head_above_pelvis(da) > 0.4


@pytest.mark.slow
def test_bandai_all_files(shared_data, physics):
    da = load_bandai(shared_data / BANDAI_DIR)
    assert da.sizes["frame"] == 31914
    assert len(np.unique(da["sequence"].values)) == 174
    agree, n = physics.left_right_agreement(da)
    assert agree > 0.99, (agree, n)
    rigid = {b: s for b, s in physics.bone_length_std(da).items() if b not in BANDAI_VIRTUAL_BONES}
    assert max(rigid.values()) < 1e-3
