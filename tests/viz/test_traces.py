"""zedo_xr.viz.traces: polylines, side colours, hypothesis styles, per-frame updates."""

from __future__ import annotations

import itertools

import numpy as np
import xarray as xr

from tests.viz.conftest import N_GAPS, N_POINTS, without_pose
from zedo_xr.skeleton import H36M_BONES, H36M_JOINTS, H36M_LEFT, H36M_RIGHT
from zedo_xr.viz import traces
from zedo_xr.viz.prepare import prepare


def test_polylines_cover_every_bone_once() -> None:
    idx = traces.POINT_INDEX
    pairs = {tuple(sorted(p)) for p in itertools.pairwise(idx) if min(p) >= 0}
    assert pairs == {tuple(sorted(b)) for b in H36M_BONES}
    assert len(idx) == N_POINTS and (idx < 0).sum() == N_GAPS


def _hue(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return "blue" if b > r else "red"


def test_left_blue_right_red_hypotheses_distinct(ds: xr.Dataset) -> None:
    view = prepare(ds)
    base = traces.base_traces(view)
    styles = []
    for s in range(view.n_hyp):
        trace = base[s]
        scale = dict(trace["line"]["colorscale"])
        sides = trace["line"]["color"]
        left_points = [p for p, j in zip(sides, traces.POINT_INDEX, strict=True) if j in H36M_LEFT]
        right_points = [p for p, j in zip(sides, traces.POINT_INDEX, strict=True) if j in H36M_RIGHT]
        assert set(left_points) == {1} and set(right_points) == {2}
        assert _hue(scale[0.5]) == "blue" and _hue(scale[1.0]) == "red"
        styles.append((scale[0.0], trace["line"]["dash"]))
    # Each hypothesis has its own trunk colour and dash; the 2D reprojection repeats them.
    assert len(set(styles)) == view.n_hyp
    reproj = [t for t in base if t["type"] == "scatter" and t["mode"] == "lines"]
    assert [(t["line"]["color"], t["line"]["dash"]) for t in reproj[: view.n_hyp]] == styles
    gt = base[len(view.slot_labels)]
    assert gt["line"]["dash"] == "dash" and gt["line"]["color"] == "#000000"
    best = base[view.n_hyp]
    assert best["line"]["width"] > base[0]["line"]["width"]
    # The camera frustum is the last, static trace.
    assert base[-1]["name"] == "camera" and len(base) == len(traces.frame_update(view, 0)) + 1


def test_nan_joints_are_gaps(ds: xr.Dataset) -> None:
    holes = ds.copy(deep=True)
    holes["pose3d"][2, 0, H36M_JOINTS.index("left_elbow")] = np.nan
    holes["keypoints"][2, H36M_JOINTS.index("right_knee")] = np.nan
    holes["confidence"][2, H36M_JOINTS.index("head")] = 0.0
    update = traces.frame_update(prepare(holes), 2)
    assert sum(v is None for v in update[0]["x"]) == N_GAPS + 1
    assert sum(v is None for v in update[1]["x"]) == N_GAPS
    kp = next(u for u in update if u["name"] == "2D input")
    assert sum(v is None for v in kp["x"]) == N_GAPS + 2  # NaN knee, head with confidence 0


def test_title_says_when_there_is_no_pose(ds: xr.Dataset) -> None:
    view = prepare(without_pose(ds, slice(4, 5)))
    assert traces.title(view, 4) == "zedo-xr · frame 4 · no pose (not enough visible joints)"
    assert traces.title(view, 3).startswith("zedo-xr · frame 3 · best hypothesis ")
    update = traces.frame_update(view, 4)
    assert all(v is None for v in update[0]["x"])
    assert view.best is not None and view.best[4] == ""  # best_hypothesis -1: none
    bridged = prepare(ds.assign(interpolated=("frame", [i == 2 for i in range(12)])))
    assert traces.title(bridged, 2).endswith(" · interpolated (no detections)")
    assert "interpolated" not in traces.title(bridged, 3)


def test_first_frame_traces_are_the_base_traces_with_frame_0(ds: xr.Dataset) -> None:
    view = prepare(ds)
    first = traces.first_frame_traces(view)
    base, update = traces.base_traces(view), traces.frame_update(view, 0)
    assert len(first) == len(base) == len(update) + 1  # the camera is static
    for got, style, data in zip(first, base, update + [{}], strict=True):
        assert got == {**style, **data}
    assert first[0]["x"] != traces.frame_update(view, 5)[0]["x"]
