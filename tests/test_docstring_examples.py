"""The docstring examples of the core modules run and print what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "zedo_xr.camera",
    "zedo_xr.datasets",
    "zedo_xr.metrics",
    "zedo_xr.schema",
    "zedo_xr.skeleton",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name}: no docstring examples found"
    assert result.failed == 0, f"{name}: {result.failed} docstring examples failed (output above)"
