"""A self-contained HTML file of the :func:`~zedo_xr.viz.plot` figure."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import xarray as xr

from zedo_xr.viz.figure import plot
from zedo_xr.viz.traces import import_plotly

if TYPE_CHECKING:
    import plotly.graph_objects as go


def write_html(ds_or_fig: xr.Dataset | go.Figure, path: str | Path, **plot_kwargs: Any) -> Path:
    """Write a self-contained HTML viewer (plotly.js inlined, works offline).

    Parameters
    ----------
    ds_or_fig
        A lifted dataset (passed to :func:`plot` with ``plot_kwargs``) or a figure from it.
    path
        Output file.
    **plot_kwargs
        Keyword arguments of :func:`plot`; only with a dataset.

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> zedo_xr.viz.write_html(out, "viewer.html", max_frames=100)   # doctest: +SKIP
    """
    go = import_plotly()
    if isinstance(ds_or_fig, go.Figure):
        if plot_kwargs:
            raise TypeError(
                f"write_html: plot keyword arguments {sorted(plot_kwargs)} need a dataset, got a figure"
            )
        fig = ds_or_fig
    else:
        fig = plot(ds_or_fig, **plot_kwargs)
    path = Path(path)
    fig.write_html(
        path,
        include_plotlyjs=True,
        full_html=True,
        auto_play=False,
        config={"responsive": True, "displaylogo": False},
    )
    return path
