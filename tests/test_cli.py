import json

import numpy as np
import pytest

from tests.estimator.conftest import GaussianPrior
from zedo_xr.cli import UsageError, build_parser, main, parse_image_size, parse_K, read_input
from zedo_xr.demo import load_demo_clip, run_demo


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1145,1146,512,515", [[1145, 0, 512], [0, 1146, 515], [0, 0, 1]]),
        ("1000,500,400", [[1000, 0, 500], [0, 1000, 400], [0, 0, 1]]),
        ("1,0,2,0,3,4,0,0,1", [[1, 0, 2], [0, 3, 4], [0, 0, 1]]),
    ],
)
def test_parse_K(text, expected):
    np.testing.assert_array_equal(parse_K(text), expected)


def test_parse_K_from_file(tmp_path):
    K = np.array([[1000.0, 0, 1], [0, 1000, 2], [0, 0, 1]])
    np.save(tmp_path / "K.npy", K)
    np.testing.assert_array_equal(parse_K(str(tmp_path / "K.npy")), K)
    with pytest.raises(UsageError, match="--K"):
        parse_K("1,2")
    with pytest.raises(UsageError, match="--K: no such file"):
        parse_K(str(tmp_path / "missing.npy"))
    (tmp_path / "K.json").write_text("[1145, 1146, 512, 515]")  # fx, fy, cx, cy in a file
    np.testing.assert_array_equal(
        parse_K(str(tmp_path / "K.json")), [[1145, 0, 512], [0, 1146, 515], [0, 0, 1]]
    )


@pytest.mark.parametrize(
    "text, expected", [("1920x1080", (1920, 1080)), ("640,480", (640, 480)), ("1280X720", (1280, 720))]
)
def test_parse_image_size(text, expected):
    assert parse_image_size(text) == expected


@pytest.mark.parametrize("text", ["1920", "axb", "0x480", "1920x1080x3", "-5x4"])
def test_parse_image_size_rejects(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="expected"):
        parse_image_size(text)


def test_parser_has_the_four_commands():
    parser = build_parser()
    commands = (
        ["demo"],
        ["lift", "x.zarr", "--out", "y.zarr"],
        ["train", "poses.npy", "--out", "p"],
        ["evaluate", "x.zarr"],
    )
    for argv in commands:
        assert parser.parse_args(argv).command == argv[0]


def test_read_input_rejects_unknown(tmp_path):
    (tmp_path / "a.txt").write_text("hi")
    with pytest.raises(UsageError, match="format"):
        read_input(str(tmp_path / "a.txt"))


def test_demo_clip_is_a_person():
    clip = load_demo_clip()
    assert clip.shape == (150, 17, 3)
    head = clip.sel(joint="head", coord="z")
    pelvis = clip.sel(joint="pelvis", coord="z")
    assert (head > pelvis).all()


def test_run_demo_writes_store_and_scores(tmp_path):
    clip = load_demo_clip()
    prior = GaussianPrior(np.zeros((17, 3)), std=0.3)
    summary = run_demo(
        out=tmp_path, frames=4, hypotheses=2, prior=prior, iterations=10, progress=False, html=False
    )
    assert (tmp_path / "demo.zarr").exists()
    assert summary["frames"] == 4 and summary["frames_per_second"] > 0
    assert np.isfinite(summary["scores_mm"]["mpjpe_mean"])
    assert clip.attrs["fps"] == 30.0


# ------------------------------------------------------------------ errors: one line, non-zero exit
K_TEXT = "1145,1145,500,500"


@pytest.fixture
def coco_json(tmp_path):
    """A COCO-format results file of 3 frames of one person (what a detector writes)."""
    from zedo_xr.datasets import make_views
    from zedo_xr.skeleton import COCO17_JOINTS, H36M_JOINTS

    views = make_views(load_demo_clip().isel(frame=slice(0, 3)), seed=0, camera="fixed")
    uv = views["keypoints"].values
    # COCO joints from the H36M ones where they exist; eyes and ears near the nose.
    coco = np.stack([uv[:, H36M_JOINTS.index(j if j in H36M_JOINTS else "neck")] for j in COCO17_JOINTS], 1)
    results = [
        {
            "image_id": f,
            "category_id": 1,
            "score": 0.9,
            "keypoints": np.column_stack([coco[f], np.full(17, 0.8)]).ravel().tolist(),
        }
        for f in range(3)
    ]
    path = tmp_path / "person_keypoints_results.json"
    path.write_text(json.dumps(results))
    return path, coco


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _lifted_store(tmp_path, gt: bool) -> str:
    import xarray as xr

    import zedo_xr

    rng = np.random.default_rng(0)
    ds = zedo_xr.keypoints_dataset(
        rng.uniform(300, 700, (2, 17, 2)),
        K=parse_K(K_TEXT),
        pose3d_gt=rng.normal(0, 0.2, (2, 17, 3)) + [0, 0, 5] if gt else None,
    )
    ds["pose3d"] = xr.DataArray(
        rng.normal(0, 0.2, (2, 1, 17, 3)) + [0, 0, 5], dims=("frame", "hypothesis", "joint", "coord")
    )
    ds = ds.assign_coords(hypothesis=[0], coord=np.array(["x", "y", "z"], dtype=object))
    path = tmp_path / ("gt.zarr" if gt else "nogt.zarr")
    zedo_xr.to_zarr(ds, path)
    return str(path)


def test_evaluate_without_ground_truth(tmp_path, capsys):
    assert main(["evaluate", _lifted_store(tmp_path, gt=False)]) == 1
    assert "has no pose3d_gt; evaluate scores a lift against ground truth" in _error_line(capsys)
    assert main(["evaluate", _lifted_store(tmp_path, gt=True), "--json"]) == 0
    assert "mpjpe_mean" in json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["lift", "missing.json", "--out", "o.zarr"], "IN: no such file or directory: missing.json"),
        (["evaluate", "missing.zarr"], "IN: no such file or directory: missing.zarr"),
        (
            ["lift", "{coco}", "--format", "openpose", "--out", "o.zarr"],
            "expected an OpenPose object with a 'people' list",
        ),
        (["lift", "{coco}", "--K", "1,2", "--out", "o.zarr"], "--K: expected 3, 4 or 9 numbers"),
        (["lift", "{coco}", "--K", "abc", "--out", "o.zarr"], "--K: expected fx,fy,cx,cy"),
        (["lift", "{coco}", "--K", "0,0,500,500", "--out", "o.zarr"], "K: expected positive focal lengths"),
        (["lift", "{coco}", "--out", "o.zarr"], "--K: the input has no intrinsics"),
        (
            ["lift", "{coco}", "--K", K_TEXT, "--skeleton", "nope", "--out", "o.zarr"],
            "skeleton: unknown name 'nope'",
        ),
    ],
)
def test_errors_are_one_line(tmp_path, capsys, monkeypatch, coco_json, argv, message):
    monkeypatch.chdir(tmp_path)
    argv = [a.replace("{coco}", str(coco_json[0])) for a in argv]
    assert main(argv) == 1
    assert message in _error_line(capsys)
    assert not (tmp_path / "o.zarr").exists()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["lift"], "zedo lift: error: the following arguments are required"),
        (
            ["lift", "x.json", "--out", "o.zarr", "--batch-size", "0"],
            "argument --batch-size: expected a positive integer, got 0",
        ),
        (["lift", "x.json", "--out", "o.zarr", "-S", "two"], "expected a positive integer, got 'two'"),
        (["demo", "--frames", "0"], "zedo demo: error: argument --frames: expected a positive integer"),
    ],
)
def test_usage_errors_are_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in _error_line(capsys)


def test_any_hypothesis_count_is_one_line_or_works(tmp_path, capsys, coco_json):
    out = tmp_path / "s3.zarr"
    code = main(
        [
            "lift",
            str(coco_json[0]),
            "--K",
            K_TEXT,
            "-S",
            "3",
            "--iterations",
            "2",
            "--no-progress",
            "--out",
            str(out),
        ]
    )
    if code:
        assert "S: expected" in _error_line(capsys)
    else:
        import zedo_xr

        assert zedo_xr.open_zarr(out).sizes["hypothesis"] == 3


def test_numpy_input_needs_and_uses_skeleton(tmp_path, capsys, coco_json):
    import zedo_xr

    _, coco = coco_json
    np.save(tmp_path / "coco.npy", np.concatenate([coco, np.full((3, 17, 1), 0.9)], -1))
    assert main(["lift", str(tmp_path / "coco.npy"), "--K", K_TEXT, "--out", str(tmp_path / "a.zarr")]) == 1
    assert "pass --skeleton with the order of its joint axis (17 joints: coco17, h36m17" in _error_line(
        capsys
    )
    np.savez(tmp_path / "coco.npz", keypoints=coco, K=parse_K(K_TEXT))
    for name in ("coco.npy", "coco.npz"):
        out = tmp_path / f"{name}.zarr"
        argv = [
            "lift",
            str(tmp_path / name),
            "--skeleton",
            "coco17",
            "--iterations",
            "2",
            "--no-progress",
            "--fps",
            "30",
            "--out",
            str(out),
        ] + (["--K", K_TEXT] if name.endswith("npy") else [])
        assert main(argv) == 0, capsys.readouterr().err
        lifted = zedo_xr.open_zarr(out)
        assert lifted.attrs["skeleton_source"] == "coco17" and lifted.attrs["fps"] == 30.0
        assert float(lifted["confidence"].sel(joint="head").max()) == 0.0
        assert np.isfinite(lifted["pose3d"].values).all()


def test_subprocess_shows_no_traceback(tmp_path):
    import subprocess
    import sys

    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "zedo_xr.cli",
            "lift",
            str(tmp_path / "nope.json"),
            "--K",
            K_TEXT,
            "--out",
            str(tmp_path / "o.zarr"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"zedo lift: error: IN: no such file or directory: {tmp_path / 'nope.json'}"
    ]


def test_demo_says_where_the_viewer_is(tmp_path, capsys):
    pytest.importorskip("plotly")
    assert (
        main(
            [
                "demo",
                "--frames",
                "2",
                "-S",
                "1",
                "--iterations",
                "2",
                "--no-progress",
                "--out",
                str(tmp_path / "demo"),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    html = (tmp_path / "demo" / "demo.html").resolve()
    assert f"3D viewer:   {html}" in out and html.as_uri() in out and "Next:" in out
    assert html.exists()


def test_lifting_a_lifted_store_again(tmp_path, capsys):
    import zedo_xr

    src = _lifted_store(tmp_path, gt=True)  # one hypothesis
    out = tmp_path / "again.zarr"
    assert main(["lift", src, "-S", "5", "--iterations", "2", "--no-progress", "--out", str(out)]) == 0
    assert "already holds a lift" in capsys.readouterr().out
    assert zedo_xr.open_zarr(out).sizes["hypothesis"] == 5


def test_lift_without_K_estimates_it_from_the_image_size(tmp_path, capsys, coco_json):
    """A video's detections with no intrinsics: --image-size gives K, --temporal picks the mode."""
    import zedo_xr

    common = ["lift", str(coco_json[0]), "--iterations", "2", "--no-progress", "--fps", "25"]
    out = tmp_path / "estimated.zarr"
    assert main([*common, "--image-size", "1000x1000", "--out", str(out)]) == 0, capsys.readouterr().err
    assert "K was estimated from the image size" in capsys.readouterr().out
    lifted = zedo_xr.open_zarr(out)
    assert lifted.attrs["zedo_K_source"] == "estimated"
    K = np.asarray(lifted["K"].values).reshape(-1, 3, 3)[0]
    np.testing.assert_allclose(K[:2, 2], [500.0, 500.0])  # principal point at the image centre
    assert K[0, 0] > 0 and np.isfinite(lifted["pose3d"].values).all()
    assert lifted.attrs["zedo_temporal"] == 1  # auto: the frame rate is known

    out = tmp_path / "per-frame.zarr"
    argv = [*common, "--K", K_TEXT, "--temporal", "off", "--out", str(out)]
    assert main(argv) == 0, capsys.readouterr().err
    lifted = zedo_xr.open_zarr(out)
    assert lifted.attrs["zedo_temporal"] == 0 and lifted.attrs["zedo_K_source"] == "given"
    assert "estimated" not in capsys.readouterr().out


def test_lift_image_size_is_checked(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["lift", "x.json", "--out", "o.zarr", "--image-size", "wide"])
    assert exit_info.value.code == 2
    assert "argument --image-size: expected WIDTHxHEIGHT in pixels, got 'wide'" in _error_line(capsys)
