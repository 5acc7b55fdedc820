"""Tests of zedo_xr.viz: the static figure, the live widget and the HTML export (no browser)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import xarray as xr

import zedo_xr
from zedo_xr import schema
from zedo_xr.skeleton import H36M_BONES, H36M_JOINTS

pytest.importorskip("plotly")
pytest.importorskip("ipywidgets")
pytest.importorskip("anywidget")

import plotly.graph_objects as go

from zedo_xr import viz

# A standing person in canonical camera axes (y down, facing the camera, right hip at -x), metres.
STANDING = {
    "pelvis": (0.0, 0.0, 0.0),
    "right_hip": (-0.13, 0.0, 0.0),
    "right_knee": (-0.13, 0.45, 0.0),
    "right_ankle": (-0.13, 0.88, 0.02),
    "left_hip": (0.13, 0.0, 0.0),
    "left_knee": (0.13, 0.45, 0.0),
    "left_ankle": (0.13, 0.88, 0.02),
    "spine": (0.0, -0.23, 0.0),
    "thorax": (0.0, -0.48, 0.0),
    "neck": (0.0, -0.58, -0.04),
    "head": (0.0, -0.75, 0.0),
    "left_shoulder": (0.18, -0.45, 0.0),
    "left_elbow": (0.22, -0.2, 0.0),
    "left_wrist": (0.24, 0.03, -0.02),
    "right_shoulder": (-0.18, -0.45, 0.0),
    "right_elbow": (-0.22, -0.2, 0.0),
    "right_wrist": (-0.24, 0.03, -0.02),
}
K = np.array([[1145.0, 0.0, 500.0], [0.0, 1145.0, 500.0], [0.0, 0.0, 1.0]])
N_POINTS = 25  # the bones as 5 polylines (trunk, 2 legs, 2 arms) with 4 gaps between them
N_GAPS = 4


def test_polylines_cover_every_bone_once() -> None:
    idx = viz._POINT_INDEX
    pairs = {tuple(sorted(p)) for p in itertools.pairwise(idx) if min(p) >= 0}
    assert pairs == {tuple(sorted(b)) for b in H36M_BONES}
    assert len(idx) == N_POINTS and (idx < 0).sum() == N_GAPS


def lifted(
    n_frame: int = 12, n_hyp: int = 3, *, gt: bool = True, seed: int = 0
) -> xr.Dataset:
    """A lifted dataset: a standing person waving an arm, 5 m in front of the camera."""
    rng = np.random.default_rng(seed)
    base = np.array([STANDING[j] for j in H36M_JOINTS])
    t = np.arange(n_frame)
    truth = np.repeat(base[None], n_frame, axis=0) + np.array([0.0, 0.1, 5.0])
    wrist = H36M_JOINTS.index("left_wrist")
    truth[:, wrist, 0] += 0.3 * np.sin(t / 3.0)
    truth[:, wrist, 1] -= 0.4 * (1 - np.cos(t / 3.0))
    pose = truth[:, None] + rng.normal(0.0, 0.02, (n_frame, n_hyp, 17, 3))
    uv_h = truth @ K.T
    kp = uv_h[..., :2] / uv_h[..., 2:]
    ds = zedo_xr.keypoints_dataset(kp, K=K, pose3d_gt=truth if gt else None, fps=25.0)
    ds[schema.POSE3D] = xr.DataArray(
        pose, dims=(schema.FRAME, schema.HYPOTHESIS, schema.JOINT, schema.COORD)
    )
    ds = ds.assign_coords(
        {schema.HYPOTHESIS: np.arange(n_hyp), schema.COORD: schema.labels(schema.COORDS_3D)}
    )
    proj = pose @ K.T
    err = np.linalg.norm(proj[..., :2] / proj[..., 2:] - kp[:, None], axis=-1).mean(-1)
    ds[schema.REPROJECTION_ERROR] = ((schema.FRAME, schema.HYPOTHESIS), err)
    ds[schema.BEST_HYPOTHESIS] = ((schema.FRAME,), err.argmin(axis=1))
    return ds


def traces_3d(fig: go.Figure) -> list:
    return [t for t in fig.data if t.type == "scatter3d"]


def traces_2d(fig: go.Figure) -> list:
    return [t for t in fig.data if t.type == "scatter"]


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    return lifted()


@pytest.fixture(scope="module")
def fig(ds: xr.Dataset) -> go.Figure:
    return viz.plot(ds)


def test_plot_traces(fig: go.Figure) -> None:
    # 3 hypotheses + best + GT in 3D; input + 3 hypotheses + best reprojected in 2D.
    names = [t.name for t in traces_3d(fig)]
    assert len(names) == 5
    assert [n.split(" ·")[0] for n in names[:3]] == [f"hypothesis {h}" for h in range(3)]
    assert names[3].startswith("best (hypothesis ")
    assert names[4] == "ground truth"
    assert all(" px · MPJPE " in n and n.endswith(" mm") for n in names[:4])
    assert len(traces_2d(fig)) == 5
    assert all(len(t.x) == N_POINTS and len(t.z) == N_POINTS for t in traces_3d(fig))
    assert traces_3d(fig)[4].line.dash == "dash"
    # Legend entries come from the single-colour 2D reprojections, grouped with the 3D traces.
    assert [t.showlegend for t in traces_3d(fig)[:4]] == [False] * 4
    assert [t.legendgroup for t in traces_2d(fig)[1:]] == [f"slot{s}" for s in range(4)]
    assert traces_2d(fig)[1].name == names[0]
    # Default "all": every hypothesis, not the duplicate best trace.
    assert [t.visible for t in fig.data] == [True] * 3 + [False, True] + [True] * 4 + [False]


def test_plot_frames_and_slider(fig: go.Figure, ds: xr.Dataset) -> None:
    assert len(fig.frames) == ds.sizes["frame"] == 12
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == [str(i) for i in range(12)]
    assert all(s.method == "animate" for s in steps)
    assert [list(s.args[0]) for s in steps] == [[f.name] for f in fig.frames]
    assert all(len(f.data) == len(fig.data) for f in fig.frames)
    assert list(fig.frames[3].traces) == list(range(len(fig.data)))
    # The waving wrist moves, so frames differ.
    assert fig.frames[0].data[0].x != fig.frames[5].data[0].x
    # Play / pause buttons animate.
    buttons = fig.layout.updatemenus[1].buttons
    assert [b.method for b in buttons] == ["animate", "animate"]
    assert buttons[0].args[1]["frame"]["duration"] == pytest.approx(40.0)  # 25 fps


def test_plot_hypothesis_dropdown(fig: go.Figure) -> None:
    menu = fig.layout.updatemenus[0]
    assert menu.type == "dropdown"
    labels = [b.label for b in menu.buttons]
    assert labels == ["all", "best", "hypothesis 0", "hypothesis 1", "hypothesis 2"]
    assert all(b.method == "restyle" for b in menu.buttons)
    visible = {b.label: b.args[0]["visible"] for b in menu.buttons}
    assert all(len(v) == len(fig.data) for v in visible.values())
    assert visible["best"] == [False] * 3 + [True, True, True] + [False] * 3 + [True]
    one = [False, True, False, False, True, True, False, True, False, False]
    assert visible["hypothesis 1"] == one
    # The menu hangs from the title's row, above every legend row, so it never covers an entry.
    plot_px = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
    menu_px_above_plot = (menu.y - 1.0) * plot_px
    legend_px = 24 * 2 + 0.02 * plot_px   # the legend's rows start just above the plot
    assert menu.yanchor == "top" and menu.xanchor == "right"
    assert menu_px_above_plot - 32 > legend_px   # 32 px: the menu's own height
    assert menu_px_above_plot < fig.layout.margin.t  # still on the page


def test_plot_scene_layout(fig: go.Figure) -> None:
    scene = fig.layout.scene
    # Equal metres on every axis, fixed over the clip ("data" would follow the frame on show).
    assert scene.aspectmode == "manual"
    widths = [abs(a.range[1] - a.range[0]) for a in (scene.xaxis, scene.yaxis, scene.zaxis)]
    ratios = [scene.aspectratio.x, scene.aspectratio.y, scene.aspectratio.z]
    assert np.allclose(np.array(ratios) * max(widths), widths)
    assert min(widths) >= 1.0  # some depth even for a person seen from the front
    # Scene axes are (x, z, y) with y reversed: -y is up under plotly's z-up turntable.
    assert [a.title.text for a in (scene.xaxis, scene.yaxis, scene.zaxis)] == [
        "x (m, right)", "z (m, forward)", "y (m, down)"
    ]
    assert scene.zaxis.range[0] > scene.zaxis.range[1]
    assert scene.yaxis.range[0] < 5.0 < scene.yaxis.range[1]
    # The eye is on the camera's side (towards smaller z), a little above.
    assert scene.camera.eye.y < 0 < scene.camera.eye.z
    pelvis, head = 0, 4  # the trunk polyline: pelvis, spine, thorax, neck, head
    trunk = fig.data[0]
    assert trunk.text[pelvis] == "pelvis" and trunk.text[head] == "head"
    assert trunk.z[head] < trunk.z[pelvis]  # camera y of the head is smaller (higher)
    assert 4.8 < trunk.y[pelvis] < 5.2  # depth on the scene's second axis
    # Image panel: v axis reversed, square pixels, whole 1000x1000 image in view.
    v0, v1 = fig.layout.yaxis.range
    assert v0 > v1 and v0 >= 1000 and v1 <= 0
    assert fig.layout.yaxis.scaleanchor == "x"


def test_reprojection_matches_keypoints(ds: xr.Dataset) -> None:
    # With the ground truth as the only hypothesis, its reprojection is the input.
    exact = ds.drop_vars(["pose3d", "reprojection_error", "best_hypothesis", "hypothesis"])
    exact["pose3d"] = ds.pose3d_gt.expand_dims(hypothesis=1, axis=1)
    fig = viz.plot(exact)
    input_2d, reproj = traces_2d(fig)
    assert np.allclose(
        np.array(input_2d.x, dtype=float), np.array(reproj.x, dtype=float), atol=0.06,
        equal_nan=True,
    )
    # Computed from K and keypoints when the dataset has no reprojection_error.
    assert " 0.0 px · MPJPE 0 mm" in traces_3d(fig)[0].name
    assert [b.label for b in fig.layout.updatemenus[0].buttons] == ["all", "hypothesis 0"]


def test_plot_nan_joints(ds: xr.Dataset) -> None:
    holes = ds.copy(deep=True)
    holes["pose3d"][2, 0, H36M_JOINTS.index("left_elbow")] = np.nan
    holes["keypoints"][2, H36M_JOINTS.index("right_knee")] = np.nan
    holes["confidence"][2, H36M_JOINTS.index("head")] = 0.0
    fig = viz.plot(holes)
    frame = fig.frames[2]
    x = frame.data[0].x
    # The elbow becomes a gap, so both its bones vanish; the other hypotheses are whole.
    assert sum(v is None for v in x) == N_GAPS + 1
    assert sum(v is None for v in frame.data[1].x) == N_GAPS
    kp_u = frame.data[5].x
    assert sum(v is None for v in kp_u) == N_GAPS + 2  # NaN knee, head with confidence 0
    assert "nan" not in fig.to_json().lower()


def test_plot_extra_dim_and_select(ds: xr.Dataset) -> None:
    other = lifted(seed=1)
    both = xr.concat([ds, other], dim="individual").assign_coords(individual=["a", "b"])
    first = viz.plot(both)
    assert first.frames[4].data[0].x == viz.plot(ds).frames[4].data[0].x
    second = viz.plot(both, select={"individual": "b"})
    assert second.frames[4].data[0].x == viz.plot(other).frames[4].data[0].x
    with pytest.raises(schema.SchemaError, match="select"):
        viz.plot(both, select={"person": "b"})


def test_plot_subsampling_and_size() -> None:
    long = lifted(n_frame=450, n_hyp=2)
    fig = viz.plot(long, max_frames=100)
    assert len(fig.frames) == 90  # every 5th frame
    assert fig.layout.sliders[0].steps[1].label == "5"
    text = fig.to_json()
    assert len(text) < 1_500_000
    # Coordinates are rounded to 0.1 mm.
    xs = [v for v in fig.frames[1].data[0].x if v is not None]
    assert all(round(v, 4) == v for v in xs)


def test_plot_options(ds: xr.Dataset) -> None:
    fig = viz.plot(ds, frames=slice(2, 8), hypotheses=2, show_gt=False, show_2d=False,
                   root_relative=True, title="demo")
    assert len(fig.frames) == 6
    assert len(fig.data) == 3 and all(t.type == "scatter3d" for t in fig.data)
    assert all(t.showlegend is not False for t in fig.data)
    pelvis = fig.data[0].x[0]  # the first bone starts at the pelvis
    assert pelvis == 0.0
    assert fig.layout.title.text.startswith("demo · frame 2")
    assert "xaxis" not in fig.layout.to_plotly_json()
    no_best = ds.drop_vars("best_hypothesis")
    labels = [b.label for b in viz.plot(no_best).layout.updatemenus[0].buttons]
    assert labels == ["all", "hypothesis 0", "hypothesis 1", "hypothesis 2"]


def test_plot_intrinsics_per_frame_or_absent(ds: xr.Dataset) -> None:
    per_frame = ds.assign(K=(("frame", "row", "col"), np.broadcast_to(K, (12, 3, 3))))
    assert viz.plot(per_frame).frames[7].data[6].x == viz.plot(ds).frames[7].data[6].x
    no_k = viz.plot(ds.drop_vars("K"))
    assert [t.name for t in traces_2d(no_k)] == ["2D input"]
    assert all(t.showlegend is not False for t in traces_3d(no_k))
    only_3d = viz.plot(ds.drop_vars(["K", "keypoints", "confidence"]))
    assert not traces_2d(only_3d) and len(traces_3d(only_3d)) == 5


def test_plot_joint_subset_by_name(ds: xr.Dataset) -> None:
    shuffled = ds.isel(joint=list(range(16, -1, -1)))
    assert viz.plot(shuffled).frames[3].data[0].x == viz.plot(ds).frames[3].data[0].x
    no_head = ds.drop_sel(joint="head")
    assert sum(v is None for v in viz.plot(no_head).data[0].x) == N_GAPS + 1


def test_plot_rejects_bad_input(ds: xr.Dataset) -> None:
    with pytest.raises(schema.SchemaError, match="pose3d"):
        viz.plot(ds.drop_vars("pose3d"))
    with pytest.raises(schema.SchemaError, match="millimetres"):
        viz.plot(ds.assign(pose3d=ds.pose3d * 1000))


def test_accessor_forwards(ds: xr.Dataset) -> None:
    import zedo_xr  # noqa: F401

    assert len(ds.zedo.plot(max_frames=4).frames) == 4


def test_widget_observers(ds: xr.Dataset) -> None:
    viewer = viz.widget(ds)
    fw = viewer.figure
    assert isinstance(fw, go.FigureWidget)
    assert viewer.frame_slider.max == 11
    assert len(fw.data) == 10
    before = fw.data[0].x
    viewer.frame_slider.value = 5
    assert fw.data[0].x != before
    assert fw.data[0].x == tuple(viz.plot(ds).frames[5].data[0].x)
    assert fw.layout.title.text.startswith("zedo-xr · frame 5")
    viewer.hypothesis_dropdown.value = 1
    assert [t.visible for t in fw.data] == [
        False, True, False, False, True, True, False, True, False, False
    ]
    viewer.hypothesis_dropdown.value = "best"
    assert [t.visible for t in fw.data[:4]] == [False, False, False, True]
    assert [label for label, _ in viewer.hypothesis_dropdown.options][:2] == ["all", "best"]
    bundle = viewer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_write_html(tmp_path, ds: xr.Dataset, fig: go.Figure) -> None:
    path = viz.write_html(ds, tmp_path / "viewer.html", max_frames=5)
    text = path.read_text()
    assert "<script" in text and "Plotly.newPlot" in text
    assert "<script src=" not in text  # plotly.js inlined: works offline
    assert viz.write_html(fig, tmp_path / "fig.html").stat().st_size > 1_000_000
    with pytest.raises(TypeError, match="max_frames"):
        viz.write_html(fig, tmp_path / "x.html", max_frames=3)


def test_json_is_valid(fig: go.Figure) -> None:
    parsed = json.loads(fig.to_json())
    assert len(parsed["frames"]) == 12
