"""The accessor only forwards: each method equals the function it names."""

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import zedo_xr
from zedo_xr.schema import pose_dataarray


def test_import_is_light():
    code = (
        "import sys, zedo_xr; heavy = [m for m in ('torch', 'plotly', 'movement', 'ipywidgets') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "name",
    ["lift", "evaluate", "plot", "widget", "write_html", "to_zarr", "load_prior", "train_prior", "open_zarr"],
)
def test_public_names_resolve(name):
    assert callable(getattr(zedo_xr, name))


def test_evaluate_accessor_matches_function():
    gt = pose_dataarray(np.random.default_rng(0).normal(0, 0.3, (3, 17, 3)) + [0, 0, 5])
    ds = xr.Dataset({"pose3d_gt": gt, "pose3d": (gt + 0.01).expand_dims(hypothesis=2, axis=1)})
    xr.testing.assert_identical(ds.zedo.evaluate(), zedo_xr.evaluate(ds))


FORWARDED = {
    "lift": "zedo_xr.estimator.driver",
    "evaluate": "zedo_xr.metrics",
    "plot": "zedo_xr.viz",
    "widget": "zedo_xr.viz",
    "write_html": "zedo_xr.viz",
    "to_zarr": "zedo_xr.io.store",
    "to_movement": "zedo_xr.io.movement_interop",
}


@pytest.mark.parametrize("name", sorted(FORWARDED))
def test_accessor_methods_show_the_function_signature_and_docstring(name):
    import importlib
    import inspect

    func = getattr(importlib.import_module(FORWARDED[name]), name)
    method = getattr(xr.Dataset().zedo, name)
    params = list(inspect.signature(func).parameters.values())
    assert inspect.signature(method) == inspect.signature(func).replace(parameters=params[1:])
    assert method.__doc__ == func.__doc__ and len(method.__doc__.splitlines()) > 5
    assert method.__name__ == name


def test_every_accessor_method_is_tested():
    from zedo_xr.accessor import ZedoAccessor

    assert {m for m in vars(ZedoAccessor) if not m.startswith("_")} == set(FORWARDED)


def test_lift_signature_starts_with_K():
    import inspect

    sig = inspect.signature(xr.Dataset().zedo.lift)
    assert list(sig.parameters)[:2] == ["K", "hypotheses"]
    assert sig.parameters["hypotheses"].kind is inspect.Parameter.KEYWORD_ONLY
