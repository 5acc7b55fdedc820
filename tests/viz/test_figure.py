"""zedo_xr.viz.figure: the static figure opens on the person and has its controls."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

pytest.importorskip("plotly")

import plotly.graph_objects as go

from tests.viz.conftest import N_GAPS, N_POINTS, K, lifted, without_pose
from zedo_xr import viz


def traces_3d(fig: go.Figure) -> list:
    return [t for t in fig.data if t.type == "scatter3d" and t.name != "camera"]


def traces_2d(fig: go.Figure) -> list:
    return [t for t in fig.data if t.type == "scatter"]


@pytest.fixture(scope="module")
def fig(ds: xr.Dataset) -> go.Figure:
    return viz.plot(ds)


def test_plot_traces(fig: go.Figure) -> None:
    # 3 hypotheses + best + GT in 3D; input + 3 hypotheses + best reprojected in 2D; the camera.
    names = [t.name for t in traces_3d(fig)]
    assert len(names) == 5
    assert [n.split(" ·")[0] for n in names[:3]] == [f"hypothesis {h}" for h in range(3)]
    assert names[3].startswith("best (hypothesis ")
    assert names[4] == "ground truth"
    assert all(" px · MPJPE " in n and n.endswith(" mm") for n in names[:4])
    assert len(traces_2d(fig)) == 5
    assert all(len(t.x) == N_POINTS and len(t.z) == N_POINTS for t in traces_3d(fig))
    # Legend entries come from the single-colour 2D reprojections, grouped with the 3D traces.
    assert [t.showlegend for t in traces_3d(fig)[:4]] == [False] * 4
    assert [t.legendgroup for t in traces_2d(fig)[1:]] == [f"slot{s}" for s in range(4)]
    assert traces_2d(fig)[1].name == names[0]
    # Default "all": every hypothesis, not the duplicate best trace; the camera is static.
    assert [t.visible for t in fig.data] == [True] * 3 + [False, True] + [True] * 4 + [False, True]
    assert fig.data[-1].name == "camera"


def test_plot_frames_and_slider(fig: go.Figure, ds: xr.Dataset) -> None:
    assert len(fig.frames) == ds.sizes["frame"] == 12
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [str(i) for i in range(12)]
    assert [list(s.args[0]) for s in steps] == [[f.name] for f in fig.frames]
    assert all(len(f.data) == len(fig.data) - 1 for f in fig.frames)  # not the camera
    assert list(fig.frames[3].traces) == list(range(len(fig.data) - 1))
    assert fig.frames[0].data[0].x != fig.frames[5].data[0].x  # the waving wrist
    buttons = fig.layout.updatemenus[1].buttons
    assert [b.method for b in buttons] == ["animate", "animate"]
    assert buttons[0].args[1]["frame"]["duration"] == pytest.approx(40.0)  # 25 fps


def test_plot_hypothesis_dropdown(fig: go.Figure) -> None:
    menu = fig.layout.updatemenus[0]
    assert menu.type == "dropdown"
    labels = [b.label for b in menu.buttons]
    assert labels == ["all", "best", "hypothesis 0", "hypothesis 1", "hypothesis 2"]
    visible = {b.label: b.args[0]["visible"] for b in menu.buttons}
    assert all(len(v) == len(fig.data) for v in visible.values())
    assert visible["best"] == [False] * 3 + [True, True, True] + [False] * 3 + [True, True]
    one = [False, True, False, False, True, True, False, True, False, False, True]
    assert visible["hypothesis 1"] == one
    # In the row of view buttons, at the scene's right edge: never over the legend.
    assert menu.y == 1.0 and menu.yanchor == "bottom" and menu.x == fig.layout.scene.domain.x[1]


def test_opens_on_the_person(fig: go.Figure, ds: xr.Dataset) -> None:
    scene = fig.layout.scene
    # Equal metres on every axis, in a box fitted to the person (about 0.6 x 2 x 0.6 m).
    assert scene.aspectmode == "manual"
    widths = np.array([abs(a.range[1] - a.range[0]) for a in (scene.xaxis, scene.yaxis, scene.zaxis)])
    ratios = np.array([scene.aspectratio.x, scene.aspectratio.y, scene.aspectratio.z])
    assert np.allclose(ratios * widths.max(), widths)
    assert widths.max() < 2.5 and scene.yaxis.range[0] > 4.0  # not the camera at z = 0
    # Scene axes are (x, z, y) with y reversed: -y is up under plotly's z-up turntable.
    assert [a.title.text for a in (scene.xaxis, scene.yaxis, scene.zaxis)] == [
        "x (m, right)",
        "z (m, forward)",
        "y (m, down)",
    ]
    assert scene.zaxis.range[0] > scene.zaxis.range[1]
    # Three-quarter front: from the camera's side (-z), as far to the side as in front, above.
    eye = scene.camera.eye
    assert eye.y < 0 < eye.z and 0.5 < abs(eye.x / eye.y) < 1.5
    # The image panel is zoomed to the person; the image's frame is drawn as a rectangle.
    u0, u1 = fig.layout.xaxis.range
    v0, v1 = fig.layout.yaxis.range
    assert v0 > v1  # v grows downwards
    assert 0 < u1 - u0 < 500 and v0 - v1 < 600
    assert fig.layout.yaxis.scaleanchor == "x"
    assert (fig.layout.shapes[0].x1, fig.layout.shapes[0].y1) == (1000, 1000)


def test_view_buttons(fig: go.Figure) -> None:
    menus = {m.buttons[0].label: m for m in fig.layout.updatemenus[2:]}
    assert set(menus) == {"3D: person", "2D: person"}
    person, layout = menus["3D: person"].buttons
    assert layout.label == "camera layout" and layout.method == "relayout"
    assert person.args[0]["scene.xaxis.range"] == list(fig.layout.scene.xaxis.range)
    depth = layout.args[0]["scene.yaxis.range"]
    assert depth[0] < 0 < 5 < depth[1]  # the camera and the person
    _, whole = menus["2D: person"].buttons
    assert whole.label == "whole image"
    assert whole.args[0]["xaxis.range"][0] <= 0 and whole.args[0]["xaxis.range"][1] >= 1000
    assert whole.args[0]["yaxis.range"] == [1000.0, 0.0] or whole.args[0]["yaxis.range"][1] <= 0


def test_frames_without_a_pose_render(ds: xr.Dataset) -> None:
    fig = viz.plot(without_pose(ds, slice(6, None)))
    assert "no pose (not enough visible joints)" in fig.frames[8].layout.title.text
    assert "no pose" not in fig.frames[2].layout.title.text
    assert all(v is None for v in fig.frames[8].data[0].x)
    assert "nan" not in fig.to_json().lower()
    # Every frame without a pose: still a figure, every frame says so.
    empty = viz.plot(without_pose(ds, slice(None)))
    assert all("no pose" in f.layout.title.text for f in empty.frames)


def test_plot_size_and_rounding() -> None:
    fig = viz.plot(lifted(n_frame=450, n_hyp=2), max_frames=100)
    assert len(fig.frames) == 90  # every 5th frame
    assert len(fig.to_json()) < 1_500_000
    xs = [v for v in fig.frames[1].data[0].x if v is not None]
    assert all(round(v, 4) == v for v in xs)  # 0.1 mm


def test_plot_options(ds: xr.Dataset) -> None:
    fig = viz.plot(
        ds, frames=slice(2, 8), hypotheses=2, show_gt=False, show_2d=False, root_relative=True, title="demo"
    )
    assert len(fig.frames) == 6
    assert len(fig.data) == 3 and all(t.type == "scatter3d" for t in fig.data)
    assert all(t.showlegend is not False for t in fig.data)
    assert fig.data[0].x[0] == 0.0  # the first bone starts at the pelvis
    assert fig.layout.title.text.startswith("demo · frame 2")
    assert "ground truth" not in fig.layout.title.text  # the key has no GT entry
    assert "xaxis" not in fig.layout.to_plotly_json()
    assert [m.buttons[0].label for m in fig.layout.updatemenus[2:]] == ["3D: person"]
    labels = [b.label for b in viz.plot(ds.drop_vars("best_hypothesis")).layout.updatemenus[0].buttons]
    assert labels == ["all", "hypothesis 0", "hypothesis 1", "hypothesis 2"]


def test_plot_intrinsics_per_frame_or_absent(ds: xr.Dataset) -> None:
    per_frame = ds.assign(K=(("frame", "row", "col"), np.broadcast_to(K, (12, 3, 3))))
    assert viz.plot(per_frame).frames[7].data[6].x == viz.plot(ds).frames[7].data[6].x
    no_k = viz.plot(ds.drop_vars("K"))
    assert [t.name for t in traces_2d(no_k)] == ["2D input"]
    assert "shapes" not in no_k.layout.to_plotly_json() or not no_k.layout.shapes
    only_3d = viz.plot(ds.drop_vars(["K", "keypoints", "confidence"]))
    assert not traces_2d(only_3d) and len(traces_3d(only_3d)) == 5


def test_plot_joint_subset_by_name(ds: xr.Dataset) -> None:
    shuffled = ds.isel(joint=list(range(16, -1, -1)))
    assert viz.plot(shuffled).frames[3].data[0].x == viz.plot(ds).frames[3].data[0].x
    no_head = ds.drop_sel(joint="head")
    assert sum(v is None for v in viz.plot(no_head).data[0].x) == N_GAPS + 1


def test_json_is_valid(fig: go.Figure) -> None:
    assert len(json.loads(fig.to_json())["frames"]) == 12
