"""Plotly figures and an ipywidgets viewer for lifted poses.

Two viewers share one data preparation step (:mod:`zedo_xr.viz.prepare`, which projects with
:mod:`zedo_xr.camera` and scores with :mod:`zedo_xr.metrics`) and one set of traces
(:mod:`zedo_xr.viz.traces`):

- :func:`plot` returns a static :class:`plotly.graph_objects.Figure` with one animation frame per
  (subsampled) frame, a frame slider, play/pause buttons, a hypothesis dropdown and view buttons
  (:mod:`zedo_xr.viz.figure`). It needs no kernel, so it works in HTML files (:func:`write_html`)
  and on the documentation site.
- :func:`widget` returns a :class:`ViewerWidget`: a ``FigureWidget`` driven by an ``IntSlider``
  and a ``Dropdown`` for live Jupyter sessions (:mod:`zedo_xr.viz.widget`).

plotly, ipywidgets and anywidget are imported inside the functions (``pip install zedo-xr[viz]``).
"""

from zedo_xr.viz.figure import plot
from zedo_xr.viz.html import write_html
from zedo_xr.viz.widget import ViewerWidget, widget

__all__ = ["ViewerWidget", "plot", "widget", "write_html"]
