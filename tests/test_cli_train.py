"""``zedo train`` on a user's files: a tiny run on .npy / .npz / BVH input, resumed, reported."""

import json

import numpy as np
import pytest

from tests.prior.conftest import TEMPLATE
from zedo_xr.cli import main
from zedo_xr.prior import load_prior

TINY = [
    "--steps",
    "3",
    "--batch-size",
    "32",
    "--width",
    "32",
    "--blocks",
    "1",
    "--warmup",
    "1",
    "--no-progress",
    "--device",
    "cpu",
    "--checkpoint-every",
    "1",
]


def _poses(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return (TEMPLATE[None] + rng.normal(scale=0.03, size=(n, 17, 3))).astype(np.float32)


def test_train_on_npy_writes_a_prior_and_says_how_to_use_it(tmp_path, capsys):
    np.save(tmp_path / "poses.npy", _poses())
    np.save(tmp_path / "held_out.npy", _poses(40, seed=1))
    out = tmp_path / "my-prior"
    assert (
        main(
            [
                "train",
                str(tmp_path / "poses.npy"),
                "--out",
                str(out),
                *TINY,
                "--eval",
                str(tmp_path / "held_out.npy"),
                "--eval-count",
                "40",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert f"prior written to {out}" in text and "prior=" in text and "--prior" in text
    prior = load_prior(out)
    assert prior.card["training"]["steps_done"] == 3 and prior.network.width == 32
    assert prior.card["data"][0]["frames"] == 64
    assert prior.card["training"]["command"].startswith("zedo train")
    quality = prior.card["quality"]
    assert quality["held_out"].startswith("npy file held_out.npy, 40 evenly spaced frames")
    assert set(quality["denoising_error_mm"]) == {"t=0.01", "t=0.05", "t=0.1"}
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
    assert (
        main(
            [
                "train",
                str(tmp_path / "3dhp.npy"),
                "--skeleton",
                "mpi_inf_3dhp17",
                "--out",
                str(out),
                *TINY,
                "--batch-size",
                "16",
            ]
        )
        == 0
    )
    assert "--skeleton mpi_inf_3dhp17" in load_prior(out).card["training"]["command"]


def test_a_real_movement_dataset_trains(tmp_path):
    load_poses = pytest.importorskip("movement.io.load_poses")
    from zedo_xr.io.poses3d import load_poses3d
    from zedo_xr.skeleton import H36M_JOINTS

    poses = _poses(40)
    ds = load_poses.from_numpy(
        poses.transpose(0, 2, 1)[..., None],
        individual_names=["id_0"],
        keypoint_names=list(H36M_JOINTS),
        fps=30,
        source_software="test",
    )
    ds.to_netcdf(tmp_path / "moves.nc", engine="scipy")
    np.testing.assert_allclose(load_poses3d(tmp_path / "moves.nc").values, poses, atol=1e-6)
    assert (
        main(["train", str(tmp_path / "moves.nc"), "--out", str(tmp_path / "p"), *TINY, "--batch-size", "16"])
        == 0
    )


def test_train_balances_its_inputs(tmp_path):
    np.save(tmp_path / "big.npy", _poses(60))
    np.save(tmp_path / "small.npy", _poses(8, seed=2))
    out = tmp_path / "p"
    inputs = [str(tmp_path / "big.npy"), str(tmp_path / "small.npy")]
    assert main(["train", *inputs, "--out", str(out), *TINY, "--source-balance", "1"]) == 0
    card = load_prior(out).card
    assert card["training"]["source_balance"] == 1.0
    assert [d["frames"] for d in card["data"]] == [60, 8]
    assert "--source-balance 1.0" in card["training"]["command"]
