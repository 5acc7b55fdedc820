"""Every ``lift`` parameter is validated with the schema's grammar ("name: expected X, got Y"),
and inputs that would overflow or be misread are refused or respected."""

from __future__ import annotations

import re

import numpy as np
import pytest
import xarray as xr

from tests.estimator.conftest import K_H36M, GaussianPrior, make_scene
from zedo_xr.estimator.driver import lift
from zedo_xr.estimator.settings import PRESETS, LiftSettings, LoopSettings, resolve_settings
from zedo_xr.io.keypoints import keypoints_dataset
from zedo_xr.schema import SchemaError

FAST = dict(iterations=5, progress=False, device="cpu")


@pytest.fixture
def data():
    rel, absolute, uv = make_scene(4, seed=3)
    return keypoints_dataset(uv, K=K_H36M), GaussianPrior(rel[0])


BAD = [
    (dict(dtype="bogus"), r"dtype: expected 'float32' or 'float64', got 'bogus'"),
    (dict(dtype="float16"), r"dtype: expected 'float32' or 'float64', got 'float16'"),
    (dict(batch_size=0), r"batch_size: expected an integer >= 1 or None, got 0"),
    (dict(batch_size=-1), r"batch_size: expected an integer >= 1 or None, got -1"),
    (dict(batch_size=1.5), r"batch_size: expected an integer >= 1 or None, got 1.5"),
    (dict(hypotheses="5"), r"hypotheses: expected an integer >= 1, got '5'"),
    (dict(hypotheses=True), r"hypotheses: expected an integer >= 1, got True"),
    (dict(hypotheses=-1), r"hypotheses: expected an integer >= 1, got -1"),
    (dict(iterations=0), r"iterations: expected an integer >= 1 or None, got 0"),
    (dict(seed=-1), r"seed: expected an integer in \[0, 2\*\*63\), got -1"),
    (dict(seed="a"), r"seed: expected an integer"),
    (
        dict(device="bogus"),
        r"device: expected 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got 'bogus'",
    ),
    (dict(progress="yes"), r"progress: expected True or False, got 'yes'"),
    (dict(overwrite="yes"), r"overwrite: expected True or False, got 'yes'"),
    (dict(store=5), r"store: expected a path or a zarr store, got int"),
    (dict(prior=5), r"prior: expected 'default', a prior directory or a loaded Prior, got int"),
    (
        dict(settings="fastest"),
        r"settings: expected one of \['default', 'parity'\] or a LiftSettings, got 'fastest'",
    ),
    (dict(step_size=-1.0), r"step_size: expected a finite number in"),
    (dict(initial="magic"), r"initial: expected one of \['grid', 'adam', 'none'\], got 'magic'"),
    (dict(warp_speed=9), r"settings: unexpected setting\(s\) \['warp_speed'\]; expected names from"),
    (dict(K={"fx": 1145.0}), r"K: expected a 3x3 array, an \(frame, 3, 3\) array or a DataArray .*got dict"),
    (
        dict(K=xr.DataArray(np.stack([K_H36M, K_H36M]), dims=("camera", "row", "col"))),
        r"K: expected dims among the keypoints' .* got \('camera', 'row', 'col'\) \(unknown \('camera',\)\)",
    ),
]


@pytest.mark.parametrize(("kwargs", "message"), BAD, ids=[re.sub(r"\W+", "-", str(k))[:40] for k, _ in BAD])
@pytest.mark.parametrize("chunked", [False, True], ids=["eager", "dask"])
def test_bad_parameters_are_named_with_what_was_expected(data, kwargs, message, chunked):
    """Issue 10.7: each of these crashed unclearly (or was accepted) before."""
    ds, prior = data
    ds = ds.chunk({"frame": 2}) if chunked else ds
    kwargs = {"prior": prior, **FAST, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        lift(ds, **kwargs)


def test_cuda_without_cuda_is_a_clear_error(data):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    ds, prior = data
    with pytest.raises(ValueError, match=r"device: expected 'auto' or 'cpu' on this machine .*got 'cuda'"):
        lift(ds, prior=prior, **{**FAST, "device": "cuda"})


@pytest.mark.parametrize(
    ("scale", "message"),
    [
        (1e20, r"keypoints: expected pixel coordinates within \+-1e\+06, got \|value\| up to"),
        (1e30, r"keypoints: expected pixel coordinates within"),
    ],
)
def test_keypoints_that_overflow_float32_are_refused(data, scale, message):
    """Issue 10.8: around 1e20-1e30 px they used to become NaN/inf poses."""
    ds, prior = data
    with pytest.raises(SchemaError, match=message):
        lift(ds.assign(keypoints=ds["keypoints"] * scale), prior=prior, **FAST)


@pytest.mark.parametrize("focal", [1e-30, 0.5, 1e30, 2e6])
def test_absurd_focal_lengths_are_refused(data, focal):
    """Issue 10.8: 1e-30 gave NaN poses, 1e30 an infinite reprojection error."""
    ds, prior = data
    K = K_H36M.copy()
    K[0, 0] = K[1, 1] = focal
    with pytest.raises(SchemaError, match=r"K: expected focal lengths in \[1, 1e\+06\] pixels, got"):
        lift(ds.drop_vars("K"), K=K, prior=prior, **FAST)


@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_extreme_but_valid_inputs_give_finite_outputs(data, precision):
    ds, prior = data
    K = K_H36M.copy()
    K[0, 0] = K[1, 1] = 1e6
    wide = ds.assign(keypoints=ds["keypoints"] * 900.0)  # up to ~9e5 px
    out = lift(wide.drop_vars("K"), K=K, prior=prior, dtype=precision, **FAST)
    assert np.isfinite(out["pose3d"].values).all()
    assert np.isfinite(out["reprojection_error"].values).all()
    tiny = ds.assign(confidence=ds["confidence"] * 1e-30)
    out = lift(tiny, prior=prior, dtype=precision, **FAST)
    assert np.isfinite(out["pose3d"].values).all()


def test_uv_labels_are_respected(data):
    """Issue 10.8: ds.isel(uv=[1, 0]) used to move the result by metres."""
    ds, prior = data
    ref = lift(ds, prior=prior, **FAST)
    swapped = lift(ds.isel(uv=[1, 0]), prior=prior, **FAST)
    np.testing.assert_allclose(swapped["pose3d"].values, ref["pose3d"].values, atol=1e-6)
    unlabeled = lift(ds.drop_vars("uv"), prior=prior, **FAST)
    np.testing.assert_allclose(unlabeled["pose3d"].values, ref["pose3d"].values, atol=1e-6)
    with pytest.raises(
        SchemaError, match=r"uv: expected the labels \['u', 'v'\] \(or no labels\), got \['x', 'y'\]"
    ):
        lift(ds.assign_coords(uv=np.array(["x", "y"], dtype=object)), prior=prior, **FAST)


def test_lift_settings_stand_alone():
    """LiftSettings() is usable on its own (no loop=None) and is the default preset."""
    s = LiftSettings()
    assert isinstance(s.loop, LoopSettings) and s == PRESETS["default"]
    assert resolve_settings("parity").loop.iterations == 1000
    assert s.replace(iterations=7, initial_joints="hips") == LiftSettings(
        initial_joints="hips", loop=LoopSettings(iterations=7)
    )
    assert LiftSettings.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match=r"loop: expected a LoopSettings, got NoneType"):
        LiftSettings(loop=None)
    with pytest.raises(ValueError, match=r"iterations: expected an integer >= 1, got 0"):
        LoopSettings(iterations=0)
    with pytest.raises(ValueError, match=r"settings: expected one of .* got int"):
        resolve_settings(5)


def test_settings_object_and_overrides_are_one_path(data):
    ds, prior = data
    a = lift(ds, prior=prior, step_size=0.3, **FAST)
    b = lift(ds, prior=prior, settings=LiftSettings().replace(step_size=0.3), **FAST)
    np.testing.assert_array_equal(a["pose3d"].values, b["pose3d"].values)
    assert a.attrs["zedo_settings"] == b.attrs["zedo_settings"]


def test_import_zedo_xr_and_settings_stay_torch_free():
    import subprocess
    import sys

    code = (
        "import sys, zedo_xr, zedo_xr.estimator, zedo_xr.estimator.settings, zedo_xr.device; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("fps", [None, 50.0], ids=["frames", "sequence"])
def test_a_track_without_a_usable_frame_is_nan_and_flagged(data, fps):
    """Two joints never constrain a pose: NaN and valid False, not a crash (found by the fuzz)."""
    ds, prior = data
    thin = ds.sel(joint=["pelvis", "head"])
    if fps:
        thin = thin.assign_attrs(fps=fps)
    out = lift(thin, prior=prior, hypotheses=2, batch_size=3, **FAST)
    assert not out["valid"].any()
    assert np.isnan(out["pose3d"].values).all()
    assert (out["best_hypothesis"].values == -1).all()
