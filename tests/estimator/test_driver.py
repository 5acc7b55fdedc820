import json

import numpy as np
import pytest
import xarray as xr

import zedo_xr
from tests.estimator.conftest import K_H36M, GaussianPrior, make_scene
from zedo_xr.estimator.driver import lift, resolve_settings
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.schema import SchemaError

# Frame-wise lifting (the fixture has an fps but its frames are unrelated poses, not a sequence).
FAST = dict(iterations=40, progress=False, temporal=False)


@pytest.fixture
def data():
    rel, absolute, uv = make_scene(6, seed=5)
    ds = keypoints_dataset(uv, K=K_H36M, pose3d_gt=absolute, fps=50.0)
    return ds, GaussianPrior(rel[0])


def test_lift_outputs_follow_the_data_model(data):
    ds, prior = data
    out = lift(ds, prior=prior, hypotheses=3, **FAST)
    assert out["pose3d"].dims == ("frame", "hypothesis", "joint", "coord")
    assert out["pose3d"].shape == (6, 3, 17, 3)
    assert out["reprojection_error"].dims == ("frame", "hypothesis")
    assert out["best_hypothesis"].dims == ("frame",)
    assert out["best_hypothesis"].dtype == np.int64
    assert set(out.data_vars) >= {"keypoints", "confidence", "K", "pose3d_gt"}
    assert (out["pose3d"].sel(coord="z") > 0).all()
    assert out.attrs["fps"] == 50.0
    assert out.attrs["zedo_hypotheses"] == 3 and out.attrs["zedo_iterations"] == 40
    assert out.attrs["zedo_prior_hash"] == "test"
    assert json.loads(out.attrs["zedo_settings"])["loop"]["iterations"] == 40


def test_accessor_forwards_to_function(data):
    ds, prior = data
    a = ds.zedo.lift(prior=prior, **FAST)
    b = zedo_xr.lift(ds, prior=prior, **FAST)
    xr.testing.assert_allclose(a["pose3d"], b["pose3d"])


def test_same_seed_same_result(data):
    ds, prior = data
    a = lift(ds, prior=prior, hypotheses=2, seed=3, **FAST)
    b = lift(ds, prior=prior, hypotheses=2, seed=3, **FAST)
    np.testing.assert_array_equal(a["pose3d"].values, b["pose3d"].values)


@pytest.mark.parametrize("form", ["array", "per-frame", "dataarray", "dataset-var"])
def test_K_forms(data, form):
    ds, prior = data
    if form == "array":
        out = lift(ds.drop_vars("K"), K=K_H36M, prior=prior, **FAST)
    elif form == "per-frame":
        out = lift(ds.drop_vars("K"), K=np.broadcast_to(K_H36M, (6, 3, 3)), prior=prior, **FAST)
    elif form == "dataarray":
        out = lift(ds.drop_vars("K"), K=xr.DataArray(K_H36M, dims=("row", "col")), prior=prior, **FAST)
    else:
        out = lift(ds, prior=prior, **FAST)
    ref = lift(ds, prior=prior, **FAST)
    np.testing.assert_allclose(out["pose3d"].values, ref["pose3d"].values, atol=1e-5)


def test_single_frame_and_batches_agree(data):
    ds, prior = data
    whole = lift(ds, prior=prior, **FAST)
    chunked = lift(ds, prior=prior, batch_size=4, **FAST)
    single = lift(ds.isel(frame=[2]), prior=prior, **FAST)
    np.testing.assert_allclose(whole["pose3d"].values, chunked["pose3d"].values, atol=1e-5)
    np.testing.assert_allclose(single["pose3d"].values[0], whole["pose3d"].values[2], atol=1e-5)


def test_nan_keypoints_and_zero_confidence(data):
    ds, prior = data
    ds = ds.copy(deep=True)
    ds["keypoints"][0, 13] = np.nan
    ds["confidence"][1, 16] = 0.0
    out = lift(ds, prior=prior, **FAST)
    assert np.isfinite(out["pose3d"].values).all()
    assert np.isfinite(out["reprojection_error"].values).all()


def test_joint_subset_in_any_order(data):
    ds, prior = data
    subset = ds.sel(joint=list(reversed(ds.joint.values[:15])))
    out = lift(subset, prior=prior, **FAST)
    assert list(out.joint.values) == list(zedo_xr.H36M_JOINTS)
    assert (out["confidence"].sel(joint=["right_elbow", "right_wrist"]) == 0).all()
    assert np.isfinite(out["pose3d"].values).all()


def test_extra_dims_ride_along(data):
    ds, prior = data
    two = xr.concat([ds, ds], dim="individual")
    out = lift(two, prior=prior, **FAST)
    assert out["pose3d"].dims == ("frame", "individual", "hypothesis", "joint", "coord")
    np.testing.assert_allclose(
        out["pose3d"].isel(individual=0).values, out["pose3d"].isel(individual=1).values, atol=1e-5
    )


def test_dask_backed_is_lazy_and_equal(data):
    ds, prior = data
    eager = lift(ds, prior=prior, **FAST)
    lazy = lift(ds.chunk({"frame": 2}), prior=prior, **FAST)
    assert lazy["pose3d"].chunks is not None
    np.testing.assert_allclose(lazy["pose3d"].values, eager["pose3d"].values, atol=1e-5)
    np.testing.assert_array_equal(lazy["best_hypothesis"].values, eager["best_hypothesis"].values)


def test_clear_errors(data):
    ds, prior = data
    with pytest.raises(SchemaError, match="K"):
        lift(ds.drop_vars("K"), prior=prior, **FAST)
    with pytest.raises(SchemaError, match="keypoints"):
        lift(ds.rename({"keypoints": "kp"}), prior=prior, **FAST)
    with pytest.raises(ValueError, match="hypotheses"):
        lift(ds, prior=prior, hypotheses=0, **FAST)
    with pytest.raises(TypeError, match="unexpected"):
        lift(ds, prior=prior, warp_speed=9, **FAST)
    singular = K_H36M.copy()
    singular[0, 0] = 0
    with pytest.raises(SchemaError, match="focal"):
        lift(ds.drop_vars("K"), K=singular, prior=prior, **FAST)


def test_presets():
    assert resolve_settings("parity").loop.iterations == 1000
    assert resolve_settings("parity").initial == "adam"
    assert resolve_settings("default", iterations=7).loop.iterations == 7
    with pytest.raises(ValueError, match="settings"):
        resolve_settings("fastest")


def test_store_is_written_chunkwise_and_resumes(data, tmp_path, monkeypatch):
    from zedo_xr.estimator import pipeline

    ds, prior = data
    path = tmp_path / "out.zarr"
    eager = lift(ds, prior=prior, **FAST)
    stored = lift(ds, prior=prior, store=path, batch_size=2, **FAST)
    np.testing.assert_allclose(stored["pose3d"].values, eager["pose3d"].values, atol=1e-5)
    assert stored.attrs["zedo_prior_hash"] == "test"
    assert list(stored.joint.values) == list(zedo_xr.H36M_JOINTS)

    # A complete store is reopened without lifting (the provenance needs no network call).
    calls = prior.calls
    again = lift(ds, prior=prior, store=path, batch_size=2, **FAST)
    assert prior.calls == calls
    xr.testing.assert_identical(again.load(), stored.load())

    # Interrupted run: the second chunk fails; a second call lifts only what is missing.
    path2 = tmp_path / "partial.zarr"
    real = pipeline.lift_arrays
    seen = []

    def fails_on_second_chunk(uv, *args, **kwargs):
        seen.append(len(uv))
        if seen == [2, 2]:  # the first run's second chunk
            raise KeyboardInterrupt
        return real(uv, *args, **kwargs)

    monkeypatch.setattr(pipeline, "lift_arrays", fails_on_second_chunk)
    with pytest.raises(KeyboardInterrupt):
        lift(ds, prior=prior, store=path2, batch_size=2, **FAST)
    seen[:] = [0, 0, 0]
    resumed = lift(ds, prior=prior, store=path2, batch_size=2, **FAST)
    assert seen == [0, 0, 0, 2, 2]  # chunks 1 and 2 only: chunk 0 was recorded
    np.testing.assert_allclose(resumed["pose3d"].values, eager["pose3d"].values, atol=1e-5)


def test_initial_none_keeps_the_canonical_orientation(data):
    ds, prior = data
    none = lift(ds, prior=prior, initial="none", iterations=1, progress=False)
    grid = lift(ds, prior=prior, initial="grid", iterations=1, progress=False)
    assert none["pose3d"].shape == grid["pose3d"].shape
    assert not np.allclose(none["pose3d"].values, grid["pose3d"].values)
    with pytest.raises(ValueError, match="initial"):
        lift(ds, prior=prior, initial="magic", **FAST)


def test_one_joint_and_single_frame(data):
    ds, prior = data
    one = ds.sel(joint=["pelvis"]).isel(frame=[0])
    out = lift(one, prior=prior, **FAST)
    assert out["pose3d"].shape == (1, 1, 17, 3)
    # One joint cannot constrain a pose: NaN and flagged, never a made-up pose.
    assert np.isnan(out["pose3d"].values).all() and np.isnan(out["reprojection_error"].values).all()
    assert not out["valid"].item() and out["best_hypothesis"].item() == -1


def test_dask_and_eager_agree_on_a_joint_subset(data):
    ds, prior = data
    subset = ds.sel(joint=ds.joint.values[:15])
    eager = lift(subset, prior=prior, **FAST)
    lazy = lift(subset.chunk({"frame": 3}), prior=prior, **FAST).compute()
    xr.testing.assert_allclose(lazy["confidence"], eager["confidence"])
    assert (lazy["confidence"].sel(joint=["right_elbow", "right_wrist"]) == 0).all()
    np.testing.assert_allclose(lazy["pose3d"].values, eager["pose3d"].values, atol=1e-5)
