"""zedo_xr.viz.html: a self-contained viewer file."""

from __future__ import annotations

import pytest
import xarray as xr

pytest.importorskip("plotly")

from zedo_xr import viz


def test_write_html(tmp_path, ds: xr.Dataset) -> None:
    path = viz.write_html(ds, tmp_path / "viewer.html", max_frames=5)
    text = path.read_text()
    assert "<script" in text and "Plotly.newPlot" in text
    assert "<script src=" not in text  # plotly.js inlined: works offline
    fig = viz.plot(ds, max_frames=3)
    assert viz.write_html(fig, tmp_path / "fig.html").stat().st_size > 1_000_000
    with pytest.raises(TypeError, match="max_frames"):
        viz.write_html(fig, tmp_path / "x.html", max_frames=3)


def test_accessor_forwards(tmp_path, ds: xr.Dataset) -> None:
    import zedo_xr

    assert len(ds.zedo.plot(max_frames=4).frames) == 4
    assert ds.zedo.write_html(tmp_path / "v.html", max_frames=2).exists()
    assert zedo_xr.plot is viz.plot and zedo_xr.write_html is viz.write_html
