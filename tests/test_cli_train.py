"""``zedo train`` on a user's files: a tiny run on .npy / .npz / BVH input, resumed, reported."""

import json

import numpy as np
import pytest

from tests.prior.conftest import TEMPLATE
from zedo_xr.cli import main
from zedo_xr.prior import load_prior

TINY = ["--steps", "3", "--batch-size", "32", "--width", "32", "--blocks", "1", "--warmup", "1",
        "--no-progress", "--device", "cpu", "--checkpoint-every", "1"]


def _poses(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return (TEMPLATE[None] + rng.normal(scale=0.03, size=(n, 17, 3))).astype(np.float32)


def test_train_on_npy_writes_a_prior_and_says_how_to_use_it(tmp_path, capsys):
    np.save(tmp_path / "poses.npy", _poses())
    out = tmp_path / "my-prior"
    assert main(["train", str(tmp_path / "poses.npy"), "--out", str(out), *TINY]) == 0
    text = capsys.readouterr().out
    assert f"prior written to {out}" in text and "prior=" in text and "--prior" in text
    prior = load_prior(out)
    assert prior.card["training"]["steps_done"] == 3 and prior.network.width == 32
    assert prior.card["data"][0]["frames"] == 64
    assert prior.card["training"]["command"].startswith("zedo train")
    assert (tmp_path / "my-prior.checkpoint" / "state.json").exists()


def test_train_resumes_from_its_checkpoint(tmp_path, capsys):
    np.savez(tmp_path / "poses.npz", poses=_poses() * 100, fps=np.float32(30))  # centimetres
    out = tmp_path / "p"
    args = ["train", str(tmp_path / "poses.npz"), "--out", str(out), *TINY]
    main([*args[:-2], "--checkpoint-every", "1"])
    meta = json.loads((tmp_path / "p.checkpoint" / "state.json").read_text())
    assert meta["step"] == 3
    main([*args, "--steps", "5"])
    text = capsys.readouterr().out
    assert "resumed from" in text and "step 3" in text
    card = load_prior(out).card
    assert card["training"]["steps_done"] == 5
    assert card["data"][0]["units_read"] == "cm"


def _as_skeleton(poses, name):
    """H36M poses laid out as another skeleton's joints (matched by name, else the thorax)."""
    from zedo_xr.skeleton import H36M_JOINTS, get_skeleton

    index = {n: i for i, n in enumerate(H36M_JOINTS)} | {"head_top": 10}
    return np.stack([poses[:, index.get(n, 8)] for n in get_skeleton(name).joints], axis=1)


def test_other_skeletons_are_converted_by_name_and_incomplete_ones_refused(tmp_path, capsys):
    from zedo_xr.io.poses3d import load_poses3d

    np.save(tmp_path / "3dhp.npy", _as_skeleton(_poses(40), "mpi_inf_3dhp17"))
    da = load_poses3d(tmp_path / "3dhp.npy", skeleton="mpi_inf_3dhp17")
    assert da.sizes["joint"] == 17 and np.isfinite(da.values).all()
    np.save(tmp_path / "smpl.npy", _as_skeleton(_poses(40), "smpl24"))
    with pytest.raises(Exception, match="got 24 joints; pass skeleton"):
        load_poses3d(tmp_path / "smpl.npy")
    with pytest.raises(Exception, match=r"smpl24 cannot make the H36M joints \['head'\]"):
        load_poses3d(tmp_path / "smpl.npy", skeleton="smpl24")
    out = tmp_path / "p"
    assert main(["train", str(tmp_path / "3dhp.npy"), "--skeleton", "mpi_inf_3dhp17",
                 "--out", str(out), *TINY, "--batch-size", "16"]) == 0
    assert "--skeleton mpi_inf_3dhp17" in load_prior(out).card["training"]["command"]


def test_bvh_files_are_read_by_joint_names(tmp_path):
    from zedo_xr.io.poses3d import load_poses3d

    bvh = tmp_path / "clips"
    bvh.mkdir()
    (bvh / "a.bvh").write_text(_BVH)
    da = load_poses3d(bvh)
    assert da.sizes["frame"] == 2 and da.attrs["units_read"] == "cm"
    # Z up: the head is above the pelvis, the ankles below
    z = da.sel(coord="z").values
    assert (z[:, 10] > z[:, 0]).all() and (z[:, 3] < z[:, 0]).all()
    # the root sits at its position channels (zero); the right hip 10 cm to -x
    np.testing.assert_allclose(da.sel(joint="right_hip").values[0], [-0.1, 0.0, 0.0], atol=1e-6)


def test_unknown_inputs_are_named(tmp_path):
    from zedo_xr.io.poses3d import load_poses3d

    with pytest.raises(FileNotFoundError, match="path"):
        load_poses3d(tmp_path / "missing.npy")
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="format"):
        load_poses3d(tmp_path / "a.txt")
    np.save(tmp_path / "bad.npy", np.zeros((3, 17, 2)))
    with pytest.raises(Exception, match="expected shape"):
        load_poses3d(tmp_path / "bad.npy")


def _joint(name, offset, body, channels=3):
    chans = "Zrotation Xrotation Yrotation"
    return f"JOINT {name}\n{{\nOFFSET {offset}\nCHANNELS {channels} {chans}\n{body}}}\n"


_END = "End Site\n{\nOFFSET 0 10 0\n}\n"
_LEG = "End Site\n{\nOFFSET 0 -5 0\n}\n"


def _leg(side, x):
    foot = _joint(f"{side}Foot", "0 -40 0", _LEG)
    return _joint(f"{side}UpLeg", f"{x} 0 0", _joint(f"{side}Leg", "0 -40 0", foot))


def _arm(side, x):
    hand = _joint(f"{side}Hand", f"{x} 0 0", "End Site\n{\nOFFSET 5 0 0\n}\n")
    return _joint(f"{side}Arm", f"{x} 0 0", _joint(f"{side}ForeArm", f"{x * 2} 0 0", hand))


_HEAD = _joint("Head", "0 8 0", _END)
_UPPER = _joint("Spine1", "0 20 0", _joint("Neck", "0 20 0", _HEAD + _arm("Left", 15) + _arm("Right", -15)))
# a T-pose facing +Z (Y up): the subject's left is +X
_BVH = ("HIERARCHY\nROOT Hips\n{\nOFFSET 0 90 0\n"
        "CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n"
        + _joint("Spine", "0 10 0", _UPPER) + _leg("Left", 10) + _leg("Right", -10) + "}\n"
        "MOTION\nFrames: 2\nFrame Time: 0.033333\n"
        + " ".join(["0"] * (6 + 3 * 16)) + "\n" + " ".join(["0"] * (6 + 3 * 16)) + "\n")
