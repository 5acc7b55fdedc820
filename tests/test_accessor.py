"""The accessor only forwards: each method equals the function it names."""

import subprocess
import sys

import numpy as np
import pytest
import xarray as xr

import zedo_xr
from zedo_xr.schema import pose_dataarray


def test_import_is_light():
    code = ("import sys, zedo_xr; heavy = [m for m in ('torch', 'plotly', 'movement', 'ipywidgets') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["lift", "evaluate", "plot", "widget", "write_html", "to_zarr",
                                  "load_prior", "train_prior", "open_zarr"])
def test_public_names_resolve(name):
    assert callable(getattr(zedo_xr, name))


def test_evaluate_accessor_matches_function():
    gt = pose_dataarray(np.random.default_rng(0).normal(0, 0.3, (3, 17, 3)) + [0, 0, 5])
    ds = xr.Dataset({"pose3d_gt": gt, "pose3d": (gt + 0.01).expand_dims(hypothesis=2, axis=1)})
    xr.testing.assert_identical(ds.zedo.evaluate(), zedo_xr.evaluate(ds))
