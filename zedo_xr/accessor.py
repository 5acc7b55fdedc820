"""The ``ds.zedo`` accessor: one-line forwarders to the functions, no logic and no state."""

from __future__ import annotations

from typing import Any

import xarray as xr


@xr.register_dataset_accessor("zedo")
class ZedoAccessor:
    """ZeDO methods on a Dataset of the zedo-xr data model (see :mod:`zedo_xr.schema`)."""

    def __init__(self, ds: xr.Dataset) -> None:
        self._ds = ds

    def lift(self, K: Any = None, **kwargs: Any) -> xr.Dataset:
        """Call :func:`zedo_xr.lift` on this Dataset."""
        from zedo_xr.estimator.driver import lift

        return lift(self._ds, K=K, **kwargs)

    def evaluate(self, **kwargs: Any) -> xr.Dataset:
        """Call :func:`zedo_xr.evaluate` on this Dataset."""
        from zedo_xr.metrics import evaluate

        return evaluate(self._ds, **kwargs)

    def plot(self, **kwargs: Any) -> Any:
        """Call :func:`zedo_xr.plot` on this Dataset."""
        from zedo_xr.viz import plot

        return plot(self._ds, **kwargs)

    def widget(self, **kwargs: Any) -> Any:
        """Call :func:`zedo_xr.widget` on this Dataset."""
        from zedo_xr.viz import widget

        return widget(self._ds, **kwargs)

    def write_html(self, path: Any, **kwargs: Any) -> Any:
        """Call :func:`zedo_xr.write_html` on this Dataset."""
        from zedo_xr.viz import write_html

        return write_html(self._ds, path, **kwargs)

    def to_zarr(self, store: Any, **kwargs: Any) -> Any:
        """Call :func:`zedo_xr.to_zarr` on this Dataset."""
        from zedo_xr.io.store import to_zarr

        return to_zarr(self._ds, store, **kwargs)
