"""The ``ds.zedo`` accessor: forwarders to the functions, no logic and no state.

Each method is ``function(ds, ...)`` with the function's own signature (minus the dataset) and
docstring, so ``ds.zedo.lift?`` in Jupyter shows everything ``zedo_xr.lift?`` shows. The
functions are imported on first use of a method (by the small loaders below, plain imports that
tools and the import-graph test see), so ``import zedo_xr`` stays free of torch and plotly.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import xarray as xr


class _Forward:
    """Accessor method calling ``load()(ds, *args, **kwargs)``.

    On a Dataset's accessor it returns a function that carries the target's name, docstring
    and signature without its first (dataset) parameter, as :func:`functools.wraps` would
    for a plain wrapper.
    """

    def __init__(self, load: Callable[[], Callable[..., Any]]) -> None:
        self.load = load

    def __set_name__(self, owner: type, attr: str) -> None:
        self.name, self.qualname = attr, f"{owner.__name__}.{attr}"

    def __call__(self, accessor: ZedoAccessor, *args: Any, **kwargs: Any) -> Any:
        return self.load()(accessor._ds, *args, **kwargs)

    def __get__(self, accessor: ZedoAccessor | None, owner: type | None = None) -> Any:
        func = self.load()

        @functools.wraps(func)
        def method(*args: Any, **kwargs: Any) -> Any:
            if accessor is None:
                raise TypeError(f"{self.qualname} is called on a Dataset: ds.zedo.{self.name}(...)")
            return func(accessor._ds, *args, **kwargs)

        sig = inspect.signature(func)
        method.__signature__ = sig.replace(parameters=list(sig.parameters.values())[1:])  # type: ignore[attr-defined]
        method.__qualname__ = self.qualname
        return method


def _lift() -> Callable[..., Any]:
    from zedo_xr.estimator.driver import lift

    return lift


def _evaluate() -> Callable[..., Any]:
    from zedo_xr.metrics import evaluate

    return evaluate


def _plot() -> Callable[..., Any]:
    from zedo_xr.viz import plot

    return plot


def _widget() -> Callable[..., Any]:
    from zedo_xr.viz import widget

    return widget


def _write_html() -> Callable[..., Any]:
    from zedo_xr.viz import write_html

    return write_html


def _to_zarr() -> Callable[..., Any]:
    from zedo_xr.io.store import to_zarr

    return to_zarr


def _to_movement() -> Callable[..., Any]:
    from zedo_xr.io.movement_interop import to_movement

    return to_movement


@xr.register_dataset_accessor("zedo")
class ZedoAccessor:
    """ZeDO methods on a Dataset of the zedo-xr data model (see :mod:`zedo_xr.schema`).

    ``ds.zedo.f(...)`` is ``zedo_xr.f(ds, ...)`` for every method below.
    """

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    lift = _Forward(_lift)
    evaluate = _Forward(_evaluate)
    plot = _Forward(_plot)
    widget = _Forward(_widget)
    write_html = _Forward(_write_html)
    to_zarr = _Forward(_to_zarr)
    to_movement = _Forward(_to_movement)
