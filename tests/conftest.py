"""Shared fixtures. ``pytest --device cuda`` runs the tensor tests on a GPU (kornia style)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ZEDO_SHARED_DATA", REPO.parent / "shared" / "data"))
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--device",
        default=os.environ.get("ZEDO_TEST_DEVICE", "cpu"),
        help="torch device for tensor tests: cpu or cuda",
    )
    parser.addoption(
        "--dtype", default="float32,float64", help="comma-separated torch dtypes for tensor tests"
    )


@pytest.fixture(scope="session")
def device(request: pytest.FixtureRequest):
    import torch

    name = request.config.getoption("--device")
    if name.startswith("cuda") and not torch.cuda.is_available():
        pytest.skip(f"device {name!r} is not available")
    return torch.device(name)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dtype" in metafunc.fixturenames:
        import torch

        names = metafunc.config.getoption("--dtype").split(",")
        metafunc.parametrize("dtype", [getattr(torch, n) for n in names], ids=names)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(42)


@pytest.fixture(scope="session")
def shared_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (set ZEDO_SHARED_DATA)")
    _convert_cmu(tmp_path_factory)
    return SHARED_DATA


def _convert_cmu(tmp_path_factory: pytest.TempPathFactory) -> None:
    """``io.load_cmu`` reads a pickle-free conversion of the shared CMU file (never the pickles);
    a machine without one gets it for this session, by the repository's converter."""
    import importlib.util

    from zedo_xr.io.cmu import converted_path

    original = SHARED_DATA / "cmu" / "cmu_h36m17.npz"
    if not original.is_file() or converted_path(original).exists():
        return
    os.environ["ZEDO_XR_CACHE"] = str(tmp_path_factory.mktemp("zedo-xr-cache"))
    spec = importlib.util.spec_from_file_location("convert_cmu_npz", REPO / "scripts" / "convert_cmu_npz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.convert(original, converted_path(original))
