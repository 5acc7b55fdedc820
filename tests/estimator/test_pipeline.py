"""The numeric pipeline's pieces: the progress bar and the device resolver."""

from __future__ import annotations

import re

import numpy as np
import pytest

from zedo_xr.device import resolve_device
from zedo_xr.estimator.pipeline import Progress


def _shown(text: str) -> list[str]:
    return re.findall(r"(\S+)/(\d+) \[", text)


@pytest.mark.parametrize("done", [0, 4])
def test_progress_counts_whole_frames_on_one_line(capsys, done):
    """Integer frames, the rate in frames/s, one line, correct when a store resumes."""
    with Progress(10, True, done=done) as bar:
        bar.bar.mininterval = 0  # show every update
        todo = 10 - done
        update = bar.chunk(todo, iterations=7)
        for i in range(7):
            update({"i": i})
        assert bar.bar.n == 10
    err = capsys.readouterr().err
    counts = _shown(err)
    assert counts and all(n.isdigit() for n, _ in counts), counts
    assert [int(n) for n, _ in counts] == sorted(int(n) for n, _ in counts)
    assert int(counts[0][0]) == done and counts[-1] == ("10", "10")
    assert "frames/s" in err
    assert err.count("\n") == 1  # one line, redrawn with carriage returns


def test_progress_off_has_no_callback():
    with Progress(5, False) as bar:
        assert bar.chunk(5, 3) is None


def test_resolve_device():
    import torch

    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(torch.device("cpu")) == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match=r"device: expected .*got 'gpu0'"):
        resolve_device("gpu0")
    with pytest.raises(ValueError, match=r"device: expected .*got list"):
        resolve_device(["cpu"])


@pytest.mark.parametrize(
    ("hypotheses", "changes", "pool_size"),
    [
        (1, {}, 50),
        (1, {"initial_pool": 1}, None),
        (1, {"initial_method": "random"}, None),  # the pool is k-means centres: not for other methods
        (4, {}, None),  # more hypotheses keep one centre each
    ],
)
def test_start_poses_pool_only_for_one_kmeans_hypothesis(hypotheses, changes, pool_size):
    from tests.estimator.conftest import GaussianPrior
    from zedo_xr.estimator.pipeline import start_poses
    from zedo_xr.estimator.settings import LiftSettings
    from zedo_xr.skeleton import H36M_JOINTS

    prior = GaussianPrior(np.zeros((len(H36M_JOINTS), 3)))
    canonical, pool = start_poses(prior, hypotheses, LiftSettings().replace(**changes))
    assert tuple(canonical.shape) == (hypotheses, 17, 3)
    assert (pool is None) if pool_size is None else tuple(pool.shape) == (pool_size, 17, 3)
