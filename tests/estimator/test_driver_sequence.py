"""``lift`` on video: sequences, validity flags, estimated intrinsics, threads."""

import numpy as np
import pytest
import torch
import xarray as xr

from tests.estimator.conftest import K_H36M, GaussianPrior
from tests.estimator.test_sequence import track_scene
from zedo_xr.estimator.driver import lift
from zedo_xr.estimator.sequence import SequenceSettings
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.io.store import open_zarr
from zedo_xr.schema import SchemaError

FAST = dict(iterations=40, progress=False)


@pytest.fixture
def clip():
    """A 30-frame clip of one person at 25 fps, two frames without the person."""
    rel, absolute, uv = track_scene(F=30)
    uv = uv[:, 0].copy()
    uv[[8, 9]] = np.nan
    ds = keypoints_dataset(uv, K=K_H36M, pose3d_gt=absolute[:, 0], fps=25.0)
    return ds, GaussianPrior(rel[0, 0], std=0.05)


def test_auto_lifts_a_clip_with_fps_as_a_sequence(clip):
    ds, prior = clip
    out = lift(ds, prior=prior, **FAST)
    assert out.attrs["zedo_temporal"] == 1 and out.attrs["zedo_fps"] == 25.0
    assert out["valid"].dims == ("frame",) and out["valid"].dtype == bool
    assert out["interpolated"].values.nonzero()[0].tolist() == [8, 9]
    assert not out["valid"].values[[8, 9]].any() and out["valid"].values[:8].all()
    assert np.isfinite(out["pose3d"].values).all()  # the gap is bridged and flagged
    assert out.attrs["zedo_K_source"] == "given"
    frame = lift(ds, prior=prior, temporal=False, **FAST)
    assert frame.attrs["zedo_temporal"] == 0
    assert np.isnan(frame["pose3d"].values[[8, 9]]).all() and not frame["interpolated"].any()
    assert (frame["best_hypothesis"].values[[8, 9]] == -1).all()


def test_temporal_needs_fps(clip):
    ds, prior = clip
    with pytest.raises(SchemaError, match="fps"):
        lift(ds.drop_attrs(), prior=prior, temporal=True, **FAST)
    with pytest.raises(ValueError, match="temporal"):
        lift(ds, prior=prior, temporal="yes", **FAST)
    with pytest.raises(ValueError, match="sequence"):
        lift(ds, prior=prior, sequence={"key_step": 2}, **FAST)


def test_tracks_of_individuals_are_lifted_separately(clip):
    ds, prior = clip
    two = xr.concat([ds, ds], dim="individual").transpose("frame", "individual", ...)
    two["keypoints"][12:, 1] = np.nan  # the second person leaves: a long gap, not bridged
    out = lift(two, prior=prior, sequence=SequenceSettings(max_gap_seconds=0.1), **FAST)
    assert out["pose3d"].dims == ("frame", "individual", "hypothesis", "joint", "coord")
    assert out["valid"].dims == ("frame", "individual")
    assert np.isnan(out["pose3d"].values[12:, 1]).all() and np.isfinite(out["pose3d"].values[:8, 1]).all()
    assert np.isfinite(out["pose3d"].values[12:, 0]).all()


def test_estimated_intrinsics(clip, tmp_path):
    ds, prior = clip
    bare = ds.drop_vars("K")
    with pytest.raises(SchemaError, match="image_size"):
        lift(bare, prior=prior, **FAST)
    out = lift(bare, prior=prior, image_size=(1024, 1030), **FAST)
    assert out.attrs["zedo_K_source"] == "estimated"
    assert out["K"].dims == ("row", "col") and out["K"].values[0, 2] == 512.0
    attrs = lift(bare.assign_attrs(image_width=1024, image_height=1030), prior=prior, **FAST)
    np.testing.assert_allclose(attrs["K"].values, out["K"].values)
    with pytest.raises(ValueError, match="image_size"):
        lift(bare, prior=prior, image_size=(0, 10), **FAST)
    # a store keeps the estimate and says so, as the in-memory result does
    lift(bare, prior=prior, image_size=(1024, 1030), store=tmp_path / "k.zarr", **FAST)
    stored = open_zarr(tmp_path / "k.zarr")
    assert stored.attrs["zedo_K_source"] == "estimated"
    np.testing.assert_allclose(stored["K"].values, out["K"].values)


def test_store_chunks_of_a_sequence_join_smoothly(clip, tmp_path):
    ds, prior = clip
    eager = lift(ds, prior=prior, **FAST)
    stored = lift(ds, prior=prior, store=tmp_path / "out.zarr", batch_size=10, **FAST)
    assert stored.attrs["zedo_temporal"] == 1
    np.testing.assert_array_equal(stored["interpolated"].values, eager["interpolated"].values)
    rel = lambda p: p - p[..., :1, :]  # noqa: E731
    diff = np.linalg.norm(rel(stored["pose3d"].values) - rel(eager["pose3d"].values), axis=-1)
    assert diff.mean() < 0.005, diff.mean()


def test_lift_restores_the_callers_threads(clip):
    ds, prior = clip
    before = torch.get_num_threads()
    lift(ds, prior=prior, device="cpu", **FAST)
    assert torch.get_num_threads() == before


def test_dask_blocks_are_lifted_as_sequences(clip):
    ds, prior = clip
    lazy = lift(ds.chunk({"frame": 15}), prior=prior, **FAST)
    assert lazy["pose3d"].chunks is not None and lazy.attrs["zedo_temporal"] == 1
    out = lazy.compute()
    assert out["interpolated"].values.nonzero()[0].tolist() == [8, 9]
    assert np.isfinite(out["pose3d"].values).all() and out["valid"].dtype == bool
