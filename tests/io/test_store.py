"""zarr v3 round trip of a lifted-shaped dataset and the resumable chunk writer."""

from __future__ import annotations

import errno

import numpy as np
import pytest
import xarray as xr

from zedo_xr.io import ChunkedZarrWriter, open_zarr, to_zarr
from zedo_xr.io.store import RECORD, StoreError
from zedo_xr.schema import COORDS_2D, COORDS_3D, labels
from zedo_xr.skeleton import H36M_JOINTS


def lifted(n_frame: int = 23, n_hyp: int = 3, seed: int = 0) -> xr.Dataset:
    rng = np.random.default_rng(seed)
    J = len(H36M_JOINTS)
    return xr.Dataset(
        {
            "pose3d": (
                ("frame", "hypothesis", "joint", "coord"),
                rng.normal(size=(n_frame, n_hyp, J, 3)).astype(np.float32),
                {"units": "m"},
            ),
            "reprojection_error": (("frame", "hypothesis"), rng.random((n_frame, n_hyp))),
            "best_hypothesis": ("frame", rng.integers(0, n_hyp, n_frame)),
            "keypoints": (
                ("frame", "joint", "uv"),
                rng.random((n_frame, J, 2)) * 1000,
                {"units": "pixels"},
            ),
            "confidence": (("frame", "joint"), rng.random((n_frame, J))),
            "K": (("row", "col"), np.array([[1145.0, 0, 512], [0, 1145, 515], [0, 0, 1]])),
            "pose3d_gt": (("frame", "joint", "coord"), rng.normal(size=(n_frame, J, 3))),
        },
        coords={
            "frame": np.arange(n_frame),
            "hypothesis": np.arange(n_hyp),
            "joint": labels(H36M_JOINTS),
            "coord": labels(COORDS_3D),
            "uv": labels(COORDS_2D),
            "sequence": ("frame", labels(f"seq{i // 10}" for i in range(n_frame))),
        },
        attrs={
            "prior": "default",
            "prior_hash": "abc123",
            "iterations": 1000,
            "fps": 50.0,
            "settings": {"hypotheses": n_hyp, "device": "cpu", "seed": None},
            "joints_used": ["pelvis", "thorax"],
            "flag": True,
        },
    )


def test_round_trip_identical(tmp_path):
    ds = lifted()
    to_zarr(ds, tmp_path / "out.zarr")
    back = open_zarr(tmp_path / "out.zarr").load()
    xr.testing.assert_identical(back, ds)
    assert back["joint"].dtype == object and back["sequence"].dtype == object
    with pytest.raises(FileExistsError):  # mode "w-" by default
        to_zarr(ds, tmp_path / "out.zarr")


def test_round_trip_unicode_strings_and_chunks(tmp_path):
    ds = lifted()
    # <U coords (what np.array(list_of_str) gives) are written as variable-length strings too.
    ds = ds.assign_coords(joint=np.array(H36M_JOINTS), coord=np.array(COORDS_3D))
    to_zarr(ds, tmp_path / "u.zarr", chunks={"frame": 10})
    back = open_zarr(tmp_path / "u.zarr", chunks={})
    assert back["pose3d"].chunks[0] == (10, 10, 3)
    back = back.load()
    assert back["joint"].dtype == object
    xr.testing.assert_equal(back, ds)
    assert back.attrs == ds.attrs


def test_dataarray_round_trip(tmp_path):
    da = lifted()["pose3d_gt"].rename("position")
    to_zarr(da, tmp_path / "da.zarr", mode="w")
    xr.testing.assert_identical(open_zarr(tmp_path / "da.zarr")["position"].load(), da)


def test_plain_xarray_opens_our_stores_quietly(tmp_path):
    """xr.open_zarr without arguments: no consolidated-metadata warning (warnings are errors)."""
    ds = lifted(n_frame=6)
    to_zarr(ds, tmp_path / "plain.zarr")
    assert xr.open_zarr(tmp_path / "plain.zarr")["pose3d"].shape == ds["pose3d"].shape
    writer = ChunkedZarrWriter(tmp_path / "w.zarr", ds, frame_chunk=4)
    for i in writer.pending():
        writer.write(i, ds.isel(frame=writer.frames(i)))
    writer.finalize()
    back = xr.open_zarr(tmp_path / "w.zarr")
    assert RECORD not in back.variables  # the writer's record is a subgroup, not a variable
    np.testing.assert_array_equal(back["pose3d"].values, ds["pose3d"].values)


def _fill(writer: ChunkedZarrWriter, ds: xr.Dataset) -> None:
    for i in writer.pending():
        writer.write(i, ds.isel(frame=writer.frames(i)))
    writer.finalize()


def test_chunked_writer_interrupt_and_resume(tmp_path, monkeypatch):
    ds = lifted(n_frame=23)
    store = tmp_path / "long.zarr"
    writer = ChunkedZarrWriter(store, ds, frame_chunk=5)
    assert writer.pending() == [0, 1, 2, 3, 4]
    writer.write(0, ds.isel(frame=writer.frames(0)))
    writer.write(3, ds.isel(frame=writer.frames(3)).chunk())  # dask-backed chunks work too

    # Interrupted after the data of chunk 2 but before its completion record: redone on resume.
    def crash(index):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_mark_done", crash)
    bad = ds.isel(frame=writer.frames(2)).copy(deep=True)
    bad["pose3d"][:] = -1
    with pytest.raises(KeyboardInterrupt):
        writer.write(2, bad)

    resumed = ChunkedZarrWriter(store, ds, frame_chunk=5)
    assert resumed.pending() == [1, 2, 4]
    with pytest.raises(RuntimeError, match="not written"):
        resumed.finalize()
    _fill(resumed, ds)
    back = open_zarr(store).load()
    xr.testing.assert_identical(back, ds)
    # Reopening a finished store: nothing pending.
    assert ChunkedZarrWriter(store, ds, frame_chunk=5).pending() == []


def test_chunked_writer_rejects_mismatch(tmp_path):
    ds = lifted(n_frame=12)
    store = tmp_path / "m.zarr"
    writer = ChunkedZarrWriter(store, ds, frame_chunk=4)
    with pytest.raises(StoreError, match=r"frame_chunk: expected the store's 4 .*got 3.*overwrite"):
        ChunkedZarrWriter(store, ds, frame_chunk=3)
    with pytest.raises(ValueError, match="covers 4 frames"):
        writer.write(0, ds.isel(frame=slice(0, 3)))
    with pytest.raises(IndexError):
        writer.frames(3)
    with pytest.raises(StoreError, match=r"expected 13 frames"):
        ChunkedZarrWriter(store, lifted(n_frame=13), frame_chunk=4)


def test_other_identity_is_refused_with_what_differs(tmp_path):
    """Issue 10.1: a store records what it was written from and refuses anything else."""
    ds = lifted(n_frame=8)
    store = tmp_path / "id.zarr"
    first = {"inputs": "aaa", "settings": {"hypotheses": 3, "iterations": 100}}
    writer = ChunkedZarrWriter(store, ds, frame_chunk=4, identity=first)
    writer.write(0, ds.isel(frame=writer.frames(0)))
    other = {"inputs": "bbb", "settings": {"hypotheses": 3, "iterations": 50}}
    with pytest.raises(
        StoreError,
        match=r"an unfinished store of other ones \(inputs: 'aaa' in the "
        r"store, 'bbb' now; settings.iterations: 100 in the store, 50 now\).*"
        r"overwrite=True",
    ):
        ChunkedZarrWriter(store, ds, frame_chunk=4, identity=other)
    # The same identity resumes; overwrite=True starts over with the new one.
    assert ChunkedZarrWriter(store, ds, frame_chunk=4, identity=first).pending() == [1]
    fresh = ChunkedZarrWriter(store, ds, frame_chunk=4, identity=other, overwrite=True)
    assert fresh.pending() == [0, 1]
    _fill(fresh, ds)
    with pytest.raises(StoreError, match="a complete store of other ones"):
        ChunkedZarrWriter(store, ds, frame_chunk=4, identity=first)


def test_foreign_paths_are_never_touched(tmp_path):
    ds = lifted(n_frame=4)
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "keep.txt").write_text("mine")
    with pytest.raises(StoreError, match="not a zarr store; choose another path"):
        ChunkedZarrWriter(folder, ds, frame_chunk=2)
    with pytest.raises(StoreError, match="refusing to delete"):
        ChunkedZarrWriter(folder, ds, frame_chunk=2, overwrite=True)
    assert (folder / "keep.txt").read_text() == "mine"
    # A zarr store without the writer's record (another program's, or an older zedo-xr's).
    to_zarr(ds, tmp_path / "plain.zarr")
    with pytest.raises(StoreError, match=r"without its 'zedo_store' record.*overwrite=True"):
        ChunkedZarrWriter(tmp_path / "plain.zarr", ds, frame_chunk=2)


def test_killed_creation_leaves_no_store_and_a_rerun_starts_clean(tmp_path, monkeypatch):
    """Issue 10.2: creation is atomic (temporary name, renamed when the skeleton is complete)."""
    ds = lifted(n_frame=9)
    store = tmp_path / "atomic.zarr"
    real = ChunkedZarrWriter._write_skeleton

    def dies_half_way(self, template, target):
        real(self, template, target)
        raise KeyboardInterrupt  # as if killed just before the rename

    monkeypatch.setattr(ChunkedZarrWriter, "_write_skeleton", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        ChunkedZarrWriter(store, ds, frame_chunk=4)
    monkeypatch.undo()
    assert not store.exists()
    leftovers = list(tmp_path.glob(".atomic.zarr.partial-*"))
    assert leftovers  # a killed process cannot clean up; the next run does
    writer = ChunkedZarrWriter(store, ds, frame_chunk=4)
    assert not list(tmp_path.glob(".atomic.zarr.partial-*"))
    _fill(writer, ds)
    xr.testing.assert_identical(open_zarr(store).load(), ds)


def _chunk_files(store, name):
    return sorted(p for p in (store / name / "c").rglob("*") if p.is_file())


@pytest.mark.parametrize("damage", ["delete", "truncate", "flip"])
def test_damaged_chunks_are_found_and_redone(tmp_path, damage):
    """Issue 10.3: a rerun verifies every recorded chunk and redoes missing or corrupt ones."""
    ds = lifted(n_frame=12)
    store = tmp_path / "d.zarr"
    _fill(ChunkedZarrWriter(store, ds, frame_chunk=4), ds)
    victim = _chunk_files(store, "pose3d")[1]
    if damage == "delete":
        victim.unlink()
    elif damage == "truncate":
        victim.write_bytes(victim.read_bytes()[:7])
    else:
        raw = bytearray(victim.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        victim.write_bytes(bytes(raw))
    writer = ChunkedZarrWriter(store, ds, frame_chunk=4)
    assert writer.pending() == [1]
    _fill(writer, ds)
    xr.testing.assert_identical(open_zarr(store).load(), ds)


class _DiskFull:
    """Make zarr's local store fail with ENOSPC after ``after`` successful writes."""

    def __init__(self, monkeypatch, after: int, error: OSError | None = None):
        from zarr.storage import LocalStore

        self.count, self.after = 0, after
        self.error = error or OSError(errno.ENOSPC, "No space left on device")
        real = LocalStore.set

        async def set(store, key, value):
            self.count += 1
            if self.count > self.after:
                raise self.error
            return await real(store, key, value)

        monkeypatch.setattr(LocalStore, "set", set)


@pytest.mark.parametrize("after", [0, 3, 9])
def test_full_disk_fails_clearly_and_a_rerun_completes(tmp_path, monkeypatch, after):
    ds = lifted(n_frame=16)
    store = tmp_path / "full.zarr"
    writer = ChunkedZarrWriter(store, ds, frame_chunk=4)
    _DiskFull(monkeypatch, after)
    with pytest.raises(OSError, match=r"store: writing chunk \d .*No space left on device.*rerun the same"):
        _fill(writer, ds)
    monkeypatch.undo()
    resumed = ChunkedZarrWriter(store, ds, frame_chunk=4)
    assert len(resumed.pending()) >= 1
    _fill(resumed, ds)
    xr.testing.assert_identical(open_zarr(store).load(), ds)


def test_unwritable_location_fails_clearly_and_leaves_nothing(tmp_path, monkeypatch):
    ds = lifted(n_frame=8)
    store = tmp_path / "ro.zarr"
    _DiskFull(monkeypatch, 0, PermissionError(errno.EACCES, "Permission denied"))
    with pytest.raises(PermissionError, match=r"store: cannot create .*ro.zarr.*Permission denied.*writable"):
        ChunkedZarrWriter(store, ds, frame_chunk=4)
    monkeypatch.undo()
    assert not store.exists() and not list(tmp_path.glob(".ro.zarr.partial-*"))
    _fill(ChunkedZarrWriter(store, ds, frame_chunk=4), ds)
    xr.testing.assert_identical(open_zarr(store).load(), ds)


def test_creating_a_huge_store_allocates_no_result(tmp_path):
    """Issue 10.4: the skeleton of 50,000 frames x 20 hypotheses (204 MB of pose3d) is never built."""
    import tracemalloc

    import dask.array as da

    n, S = 50_000, 20
    template = xr.Dataset(
        {
            "pose3d": (
                ("frame", "hypothesis", "joint", "coord"),
                da.full((n, S, 17, 3), np.nan, dtype=np.float32, chunks=(256, S, 17, 3)),
            ),
            "best_hypothesis": ("frame", da.full(n, -1, dtype=np.int64, chunks=256)),
        }
    )
    tracemalloc.start()
    writer = ChunkedZarrWriter(tmp_path / "huge.zarr", template, frame_chunk=256)
    chunk = template.isel(frame=writer.frames(5)).compute()
    writer.write(5, chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert writer.pending()[:6] == [0, 1, 2, 3, 4, 6]
