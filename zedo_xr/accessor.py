"""The ``ds.zedo`` accessor: forwarders to the functions, no logic and no state.

Each method is ``function(ds, ...)`` with the function's own signature (minus the dataset) and
docstring, so ``ds.zedo.lift?`` in Jupyter shows everything ``zedo_xr.lift?`` shows. The
functions are imported on first use of a method, so ``import zedo_xr`` stays free of torch and
plotly.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Callable
from typing import Any

import xarray as xr


class _Forward:
    """Accessor method ``name`` that calls ``module.name(ds, *args, **kwargs)``.

    On a Dataset's accessor it returns a function that carries the target's name, docstring
    and signature without its first (dataset) parameter, as :func:`functools.wraps` would
    for a plain wrapper.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.qualname = f"{owner.__name__}.{attr}"

    def target(self) -> Callable[..., Any]:
        return getattr(importlib.import_module(self.module), self.name)

    def __call__(self, accessor: ZedoAccessor, *args: Any, **kwargs: Any) -> Any:
        return self.target()(accessor._ds, *args, **kwargs)

    def __get__(self, accessor: ZedoAccessor | None, owner: type | None = None) -> Any:
        func = self.target()

        @functools.wraps(func)
        def method(*args: Any, **kwargs: Any) -> Any:
            if accessor is None:
                raise TypeError(f"{self.qualname} is called on a Dataset: ds.zedo.{self.name}(...)")
            return func(accessor._ds, *args, **kwargs)

        sig = inspect.signature(func)
        method.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
        method.__qualname__ = self.qualname
        return method


@xr.register_dataset_accessor("zedo")
class ZedoAccessor:
    """ZeDO methods on a Dataset of the zedo-xr data model (see :mod:`zedo_xr.schema`).

    ``ds.zedo.f(...)`` is ``zedo_xr.f(ds, ...)`` for every method below.
    """

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    lift = _Forward("zedo_xr.estimator.driver", "lift")
    evaluate = _Forward("zedo_xr.metrics", "evaluate")
    plot = _Forward("zedo_xr.viz", "plot")
    widget = _Forward("zedo_xr.viz", "widget")
    write_html = _Forward("zedo_xr.viz", "write_html")
    to_zarr = _Forward("zedo_xr.io.store", "to_zarr")
    to_movement = _Forward("zedo_xr.io.movement_interop", "to_movement")
