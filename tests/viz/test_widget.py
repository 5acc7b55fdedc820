"""zedo_xr.viz.widget: the FigureWidget follows its slider and dropdown."""

from __future__ import annotations

import pytest
import xarray as xr

pytest.importorskip("plotly")
pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")

import plotly.graph_objects as go

from zedo_xr import viz


def test_widget_observers(ds: xr.Dataset) -> None:
    viewer = viz.widget(ds)
    fw = viewer.figure
    assert isinstance(fw, go.FigureWidget)
    assert viewer.frame_slider.max == 11
    assert len(fw.data) == 11  # 10 per-frame traces and the camera
    before = fw.data[0].x
    # it opens on the static figure's first frame (both from traces.first_frame_traces)
    static = viz.plot(ds)
    assert [t.x for t in fw.data] == [t.x for t in static.data]
    assert [t.name for t in fw.data] == [t.name for t in static.data]
    viewer.frame_slider.value = 5
    assert fw.data[0].x != before
    assert fw.data[0].x == tuple(viz.plot(ds).frames[5].data[0].x)
    assert fw.layout.title.text.startswith("zedo-xr · frame 5")
    viewer.hypothesis_dropdown.value = 1
    assert [t.visible for t in fw.data[:10]] == [
        False,
        True,
        False,
        False,
        True,
        True,
        False,
        True,
        False,
        False,
    ]
    assert fw.data[10].name == "camera" and fw.data[10].visible is True
    viewer.hypothesis_dropdown.value = "best"
    assert [t.visible for t in fw.data[:4]] == [False, False, False, True]
    assert [label for label, _ in viewer.hypothesis_dropdown.options][:2] == ["all", "best"]
    # The view buttons of the static figure work in the widget too.
    assert [b.label for b in fw.layout.updatemenus[0].buttons] == ["3D: person", "camera layout"]
    bundle = viewer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
