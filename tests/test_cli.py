import numpy as np
import pytest

from tests.estimator.conftest import GaussianPrior
from zedo_xr.cli import build_parser, parse_K, read_input
from zedo_xr.demo import load_demo_clip, run_demo


@pytest.mark.parametrize("text, expected", [
    ("1145,1146,512,515", [[1145, 0, 512], [0, 1146, 515], [0, 0, 1]]),
    ("1000,500,400", [[1000, 0, 500], [0, 1000, 400], [0, 0, 1]]),
    ("1,0,2,0,3,4,0,0,1", [[1, 0, 2], [0, 3, 4], [0, 0, 1]]),
])
def test_parse_K(text, expected):
    np.testing.assert_array_equal(parse_K(text), expected)


def test_parse_K_from_file(tmp_path):
    K = np.array([[1000.0, 0, 1], [0, 1000, 2], [0, 0, 1]])
    np.save(tmp_path / "K.npy", K)
    np.testing.assert_array_equal(parse_K(str(tmp_path / "K.npy")), K)
    with pytest.raises(SystemExit, match="--K"):
        parse_K("1,2")


def test_parser_has_the_four_commands():
    parser = build_parser()
    commands = (["demo"], ["lift", "x.zarr", "--out", "y.zarr"], ["train", "poses.npy", "--out", "p"],
                ["evaluate", "x.zarr"])
    for argv in commands:
        assert parser.parse_args(argv).command == argv[0]


def test_read_input_rejects_unknown(tmp_path):
    (tmp_path / "a.txt").write_text("hi")
    with pytest.raises(SystemExit, match="format"):
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
    summary = run_demo(out=tmp_path, frames=4, hypotheses=2, prior=prior, iterations=10,
                       progress=False, html=False)
    assert (tmp_path / "demo.zarr").exists()
    assert summary["frames"] == 4 and summary["frames_per_second"] > 0
    assert np.isfinite(summary["scores_mm"]["mpjpe_mean"])
    assert clip.attrs["fps"] == 30.0
