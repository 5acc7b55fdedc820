"""zarr v3 round trip of a lifted-shaped dataset and the resumable chunk writer."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from zedo_xr.io import ChunkedZarrWriter, open_zarr, to_zarr
from zedo_xr.io.store import CHUNK_DONE
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


def _template(ds: xr.Dataset) -> xr.Dataset:
    return ds  # the writer only takes dims, coords, attrs and non-frame variables from it


def test_chunked_writer_interrupt_and_resume(tmp_path, monkeypatch):
    ds = lifted(n_frame=23)
    store = tmp_path / "long.zarr"
    writer = ChunkedZarrWriter(store, _template(ds), frame_chunk=5)
    assert writer.pending() == [0, 1, 2, 3, 4]
    writer.write(0, ds.isel(frame=writer.frames(0)))
    writer.write(3, ds.isel(frame=writer.frames(3)).chunk())  # dask-backed chunks work too

    # Interrupted after the data of chunk 2 but before its completion mark: redone on resume.
    def crash(index):
        raise KeyboardInterrupt

    monkeypatch.setattr(writer, "_mark_done", crash)
    bad = ds.isel(frame=writer.frames(2)).copy(deep=True)
    bad["pose3d"][:] = -1
    with pytest.raises(KeyboardInterrupt):
        writer.write(2, bad)

    resumed = ChunkedZarrWriter(store, _template(ds), frame_chunk=5)
    assert resumed.pending() == [1, 2, 4]
    with pytest.raises(RuntimeError, match="not written"):
        resumed.finalize()
    for i in resumed.pending():
        resumed.write(i, ds.isel(frame=resumed.frames(i)))
    assert resumed.pending() == []
    resumed.finalize()
    back = open_zarr(store).load()
    assert CHUNK_DONE not in back
    xr.testing.assert_identical(back, ds)
    # Reopening a finished store: nothing pending.
    assert ChunkedZarrWriter(store, _template(ds), frame_chunk=5).pending() == []


def test_chunked_writer_rejects_mismatch(tmp_path):
    ds = lifted(n_frame=12)
    store = tmp_path / "m.zarr"
    writer = ChunkedZarrWriter(store, ds, frame_chunk=4)
    with pytest.raises(ValueError, match="frame_chunk"):
        ChunkedZarrWriter(store, ds, frame_chunk=3)
    with pytest.raises(ValueError, match="covers 4 frames"):
        writer.write(0, ds.isel(frame=slice(0, 3)))
    with pytest.raises(IndexError):
        writer.frames(3)
