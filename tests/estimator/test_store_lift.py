"""``lift(store=...)``: what the store records, what it refuses, and recovery from faults
(SIGKILL during creation and lifting, deleted chunks, a full disk), each rerun ending with every
frame written once and equal to an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from tests.estimator.store_job import scene_dataset
from zedo_xr.estimator import pipeline
from zedo_xr.estimator.driver import lift
from zedo_xr.io.store import CHECKSUM, RECORD, StoreError

REPO = Path(__file__).resolve().parents[2]
RUN = dict(hypotheses=2, progress=False, device="cpu")


@pytest.fixture
def job():
    return scene_dataset(12)


def _spy(monkeypatch):
    """Record the number of frames of every chunk lifted."""
    seen: list[int] = []
    real = pipeline.lift_arrays

    def spy(uv, *args, **kwargs):
        seen.append(len(uv))
        return real(uv, *args, **kwargs)

    monkeypatch.setattr(pipeline, "lift_arrays", spy)
    return seen


def _recorded(path: Path) -> np.ndarray:
    import zarr

    group = zarr.open_group(path, mode="r", use_consolidated=False)
    return np.asarray(group[RECORD][CHECKSUM][:]) != 0


def test_other_keypoints_are_refused_partial_or_complete(job, tmp_path, monkeypatch):
    """Issue 10.1: never mix inputs (a partial store) nor return old results (a complete one)."""
    ds, prior = job
    path = tmp_path / "a.zarr"
    real = pipeline.lift_arrays

    def stop_after_first(uv, *args, **kwargs):
        monkeypatch.setattr(pipeline, "lift_arrays", _raise)
        return real(uv, *args, **kwargs)

    monkeypatch.setattr(pipeline, "lift_arrays", stop_after_first)
    with pytest.raises(KeyboardInterrupt):
        lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    monkeypatch.undo()
    moved = ds.copy(deep=True)
    moved["keypoints"][:] = moved["keypoints"].values + 3.0
    with pytest.raises(StoreError, match=r"an unfinished store of other ones \(inputs: .*overwrite=True"):
        lift(moved, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    done = lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN).load()
    with pytest.raises(StoreError, match=r"a complete store of other ones \(inputs: "):
        lift(moved, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    # Another variable (here the ground truth) is part of the inputs too: the store holds it.
    other_gt = ds.assign(pose3d_gt=ds["pose3d_gt"] + 0.1)
    with pytest.raises(StoreError, match="inputs"):
        lift(other_gt, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    fresh = lift(moved, prior=prior, batch_size=4, iterations=10, **RUN)
    replaced = lift(moved, prior=prior, store=path, batch_size=4, iterations=10, overwrite=True, **RUN)
    np.testing.assert_allclose(replaced["pose3d"].values, fresh["pose3d"].values, atol=1e-6)
    assert not np.allclose(replaced["pose3d"].values, done["pose3d"].values)


def _raise(*args, **kwargs):
    raise KeyboardInterrupt


@pytest.mark.parametrize(
    "change",
    [dict(hypotheses=3), dict(iterations=11), dict(seed=1), dict(step_size=0.2), dict(dtype="float64")],
)
def test_other_settings_are_refused_with_what_differs(job, tmp_path, change):
    ds, prior = job
    path = tmp_path / "s.zarr"
    base = dict(RUN, batch_size=6, iterations=10)
    lift(ds, prior=prior, store=path, **base)
    key = next(iter(change))
    with pytest.raises(StoreError, match=rf"{key}: .* in the store, .* now.*overwrite=True"):
        lift(ds, prior=prior, store=path, **{**base, **change})
    out = lift(ds, prior=prior, store=path, overwrite=True, **{**base, **change})
    fresh = lift(ds, prior=prior, **{**base, **change})
    np.testing.assert_allclose(out["pose3d"].values, fresh["pose3d"].values, atol=1e-6)


def test_rerun_with_another_batch_size_says_what_to_do(job, tmp_path, monkeypatch):
    """A failed lift must not block a rerun with other settings without saying what to do."""
    ds, prior = job
    path = tmp_path / "b.zarr"
    monkeypatch.setattr(pipeline, "lift_arrays", _raise)
    with pytest.raises(KeyboardInterrupt):
        lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    monkeypatch.undo()
    with pytest.raises(
        StoreError,
        match=r"frame_chunk: expected the store's 4 \(batch_size .*got 5; "
        r"resume with the same batch_size.*overwrite=True",
    ):
        lift(ds, prior=prior, store=path, batch_size=5, iterations=10, **RUN)
    out = lift(ds, prior=prior, store=path, batch_size=5, iterations=10, overwrite=True, **RUN)
    assert int(out.sizes["frame"]) == 12


def test_cli_overwrite_flag(job, tmp_path, monkeypatch, capsys):
    from zedo_xr import cli
    from zedo_xr.io import to_zarr

    ds, prior = job
    to_zarr(ds, tmp_path / "in.zarr")
    monkeypatch.setattr(pipeline, "load_model", lambda *a: prior)
    args = [
        "lift",
        str(tmp_path / "in.zarr"),
        "--out",
        str(tmp_path / "o.zarr"),
        "--device",
        "cpu",
        "--no-progress",
    ]
    assert cli.main([*args, "--iterations", "5"]) == 0
    assert cli.main([*args, "--iterations", "6"]) == 1
    err = capsys.readouterr().err
    assert "iterations: 5 in the store, 6 now" in err and "--overwrite" in err and err.count("\n") == 1
    assert cli.main([*args, "--iterations", "6", "--overwrite"]) == 0


def test_deleted_chunk_is_redone_on_rerun(job, tmp_path, monkeypatch):
    """Issue 10.3 through lift: a deleted chunk is found and lifted again, nothing else."""
    ds, prior = job
    path = tmp_path / "d.zarr"
    first = lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN).load()
    files = sorted(p for p in (path / "pose3d" / "c").rglob("*") if p.is_file())
    assert len(files) == 3
    files[1].unlink()
    seen = _spy(monkeypatch)
    again = lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN).load()
    assert seen == [4]
    xr.testing.assert_identical(again, first)


def test_full_disk_then_rerun_equals_uninterrupted(job, tmp_path, monkeypatch):
    from zarr.storage import LocalStore

    ds, prior = job
    reference = lift(ds, prior=prior, batch_size=4, iterations=10, **RUN)
    path = tmp_path / "full.zarr"
    lift(ds.isel(frame=[0]), prior=prior, iterations=1, **RUN)  # warm caches outside the count
    real, count = LocalStore.set, {"n": 0}

    async def fills_up(store, key, value):
        count["n"] += 1
        if count["n"] > 40 and "/c/" in key:
            raise OSError(28, "No space left on device")
        return await real(store, key, value)

    monkeypatch.setattr(LocalStore, "set", fills_up)
    with pytest.raises(OSError, match=r"No space left on device.*rerun the same call"):
        lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    monkeypatch.undo()
    before = _recorded(path)
    seen = _spy(monkeypatch)
    out = lift(ds, prior=prior, store=path, batch_size=4, iterations=10, **RUN)
    assert sum(seen) == 4 * int((~before).sum())  # only the chunks not recorded
    np.testing.assert_allclose(out["pose3d"].values, reference["pose3d"].values, atol=1e-6)
    assert _recorded(path).all()


def _start_job(path: Path, frames: int, batch: int, iterations: int) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.estimator.store_job",
            str(path),
            str(frames),
            str(batch),
            str(iterations),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_when(proc: subprocess.Popen, ready, timeout: float = 120.0) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()``; False if it finished first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return True
        time.sleep(0.002)
    proc.kill()
    raise AssertionError("the job neither finished nor reached the kill point")


def _rerun_and_check(path: Path, frames: int, batch: int, iterations: int, monkeypatch) -> None:
    from zedo_xr.estimator.driver import lift as lift_

    ds, prior = scene_dataset(frames)
    run = dict(prior=prior, batch_size=batch, iterations=iterations, **RUN)
    reference = lift_(ds, **run)
    before = _recorded(path) if (path / RECORD).exists() else np.zeros(-(-frames // batch), bool)
    seen = _spy(monkeypatch)
    out = lift_(ds, store=path, **run).load()
    monkeypatch.undo()
    # Every frame written exactly once over both runs: the rerun lifts only unrecorded chunks.
    assert sum(seen) == sum(min(batch, frames - i * batch) for i in np.flatnonzero(~before))
    assert _recorded(path).all()
    np.testing.assert_array_equal(out["frame"].values, np.arange(frames))
    np.testing.assert_allclose(out["pose3d"].values, reference["pose3d"].values, atol=1e-6)
    np.testing.assert_array_equal(out["best_hypothesis"].values, reference["best_hypothesis"].values)


def test_sigkill_during_creation_and_during_lifting(tmp_path, monkeypatch):
    """Issue 10.2: a process killed while creating the store, then one killed after some chunks;
    each rerun resumes (or restarts) and ends equal to an uninterrupted run."""
    frames, batch, iterations = 24, 3, 40
    path = tmp_path / "k.zarr"
    proc = _start_job(path, frames, batch, iterations)
    killed = _kill_when(proc, lambda: any(tmp_path.glob(".k.zarr.partial-*")))
    assert killed and not path.exists()
    _rerun_and_check(path, frames, batch, iterations, monkeypatch)

    path2 = tmp_path / "k2.zarr"
    proc = _start_job(path2, frames, batch, iterations)
    chunks = path2 / RECORD / CHECKSUM / "c"
    assert _kill_when(proc, lambda: chunks.is_dir() and len(list(chunks.iterdir())) >= 2)
    assert 2 <= _recorded(path2).sum() < -(-frames // batch)
    _rerun_and_check(path2, frames, batch, iterations, monkeypatch)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_sigkill_at_random_points(tmp_path, monkeypatch, seed):
    frames, batch, iterations = 24, 3, 40
    path = tmp_path / "r.zarr"
    proc = _start_job(path, frames, batch, iterations)
    delay = np.random.default_rng(seed).uniform(0.5, 8.0)
    start = time.monotonic()
    _kill_when(proc, lambda: time.monotonic() - start > delay)
    _rerun_and_check(path, frames, batch, iterations, monkeypatch)
