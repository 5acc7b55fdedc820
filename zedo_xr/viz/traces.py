"""Plotly traces of a :class:`~zedo_xr.viz.prepare.View`, shared by the figure and the widget.

The 3D scene shows camera-frame poses (OpenCV: x right, y down, z forward). plotly's turntable
rotation keeps the scene's third axis up, so the scene's axes are (x, z, y) with the y axis
reversed: a standing person looks upright, seen from the camera's side, while ticks and hover
text keep the camera-frame values. (Setting ``scene.camera.up`` to -y does not survive: plotly
resets it to +z in turntable mode.)

Colours say the side: the person's left limbs in blues, the right limbs in reds; hypotheses
differ by the trunk's colour and the line's dash; the ground truth is dashed black.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from zedo_xr.skeleton import H36M_BONES, H36M_JOINTS, H36M_LEFT, H36M_RIGHT
from zedo_xr.viz.prepare import View

_DECIMALS_M = 4  # 0.1 mm: far below any pose error, keeps the JSON short
_DECIMALS_PX = 1

# The person's left side in blues, the right side in reds: one shade per hypothesis, so that
# sides read at a glance and hypotheses still differ.
_LEFT = ("#1f5fbf", "#4d94e0", "#0b3c8c", "#7db4ef", "#2a76d2")
_RIGHT = ("#d62728", "#f2711c", "#9e1b1c", "#f59b7a", "#e0462a")
_TRUNK = ("#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
_DASH = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_BEST = "#111111"
_GT = "#000000"
_INPUT = "#444444"
_CAMERA = "#555555"
_NO_POSE = "no pose (not enough visible joints)"


def _chains() -> list[list[int]]:
    """H36M bones joined into polylines of one side each (trunk first), to draw fewer points."""
    chains: list[list[int]] = []
    for parent, child in sorted(H36M_BONES, key=lambda b: _SIDE.get(b[1], 0)):
        last = chains[-1] if chains else None
        if last and last[-1] == parent and _SIDE.get(last[1], 0) == _SIDE.get(child, 0):
            last.append(child)
        else:
            chains.append([parent, child])
    return chains


# Trunk/left/right = 0/1/2; the trunk comes first so a trace starts with its hypothesis colour.
_SIDE = {**{j: 1 for j in H36M_LEFT}, **{j: 2 for j in H36M_RIGHT}}
_CHAINS = _chains()
# Joint index of every polyline point, -1 for the gap (None) between two chains.
POINT_INDEX = np.array([j for c in _CHAINS for j in [-1, *c]][1:])
_POINT_SIDE = [_SIDE.get(c[1], 0) for c in _CHAINS for _ in [-1, *c]][1:]
_POINT_JOINT = [H36M_JOINTS[j] if j >= 0 else "" for j in POINT_INDEX]


def import_plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "zedo_xr.viz needs plotly; install the viz extra: pip install 'zedo-xr[viz]'"
        ) from err
    return go


# --------------------------------------------------------------------------------------------
# Traces: the same base traces and per-frame updates feed the static figure and the widget


def _values(v: np.ndarray, decimals: int) -> list[float | None]:
    """Rounded floats with None for gaps (NaN breaks a plotly line into segments)."""
    return [None if x != x else x for x in np.round(v, decimals).tolist()]


def _segments(points: np.ndarray, decimals: int) -> list[list[float | None]]:
    """``(J, C)`` joints -> C coordinate lists of the skeleton's polylines, gaps as None."""
    padded = np.concatenate([points, np.full_like(points[:1], np.nan)])
    seg = padded[POINT_INDEX]  # index -1 is the NaN row
    return [_values(seg[:, c], decimals) for c in range(points.shape[-1])]


def _is_best(view: View, s: int) -> bool:
    return s >= view.n_hyp


def _style(view: View, s: int) -> tuple[str, str, str, str]:
    """Trunk colour, left colour, right colour and dash of slot ``s``."""
    if _is_best(view, s):
        return _BEST, _LEFT[0], _RIGHT[0], "solid"
    return (_TRUNK[s % len(_TRUNK)], _LEFT[s % len(_LEFT)], _RIGHT[s % len(_RIGHT)], _DASH[s % len(_DASH)])


def _slot_name(view: View, s: int, i: int) -> str:
    name = view.slot_labels[s]
    if _is_best(view, s) and view.best is not None and view.best[i]:
        name = f"best (hypothesis {view.best[i]})"
    if view.error is not None and np.isfinite(view.error[i, s]):
        name += f" · {view.error[i, s]:.1f} px"
    if view.mpjpe is not None and np.isfinite(view.mpjpe[i, s]):
        name += f" · MPJPE {view.mpjpe[i, s]:.0f} mm"
    return name


def title(view: View, i: int) -> str:
    text = f"{view.title or 'zedo-xr'} · frame {view.frame_labels[i]}"
    if view.no_pose[i]:
        return f"{text} · {_NO_POSE}"
    if view.best is not None and view.best[i]:
        text += f" · best hypothesis {view.best[i]}"
    if view.interpolated[i]:
        text += " · interpolated (no detections)"
    return text


def _trace_3d(view: View, s: int, hover: str) -> dict[str, Any]:
    trunk, left, right, dash = _style(view, s)
    scale = [[0.0, trunk], [0.5, left], [1.0, right]]
    colours = {"color": _POINT_SIDE, "colorscale": scale, "cmin": 0, "cmax": 2}
    return {
        "type": "scatter3d",
        "mode": "lines+markers",
        "scene": "scene",
        # The legend shows the single-colour 2D reprojection of a hypothesis when there is one
        # (a 3D trace's legend line is drawn black for its per-point colours).
        "legendgroup": f"slot{s}",
        "showlegend": view.reproj is None,
        "text": _POINT_JOINT,
        "hovertemplate": hover,
        "opacity": 1.0 if _is_best(view, s) else 0.9,
        "line": {"width": 7 if _is_best(view, s) else 5, "dash": dash, **colours},
        "marker": {"size": 2.5, **colours},
    }


def _traces_2d(view: View) -> list[dict[str, Any]]:
    hover = "%{text}<br>u %{x:.1f}, v %{y:.1f} px<extra>%{fullData.name}</extra>"
    traces: list[dict[str, Any]] = []
    if view.keypoints is not None:
        marker_colours = [(_INPUT, _LEFT[0], _RIGHT[0])[side] for side in _POINT_SIDE]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "xaxis": "x",
                "yaxis": "y",
                "legendgroup": "input",
                "text": _POINT_JOINT,
                "hovertemplate": hover,
                "line": {"width": 1, "color": "#999999"},
                "marker": {"size": 7, "color": marker_colours, "line": {"width": 1, "color": "white"}},
            }
        )
    for s in range(len(view.slot_labels) if view.reproj is not None else 0):
        trunk, _, _, dash = _style(view, s)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "xaxis": "x",
                "yaxis": "y",
                "legendgroup": f"slot{s}",
                "text": _POINT_JOINT,
                "hovertemplate": hover,
                "opacity": 0.9,
                "line": {"width": 3 if _is_best(view, s) else 2, "color": trunk, "dash": dash},
            }
        )
    return traces


def _camera_trace(view: View) -> dict[str, Any] | None:
    """The camera as a frustum: centre to the image corners, drawn once (not per frame)."""
    if view.camera is None:
        return None
    c = view.camera
    order = [0, 1, 2, 0, 3, 4, 0, 4, 1, 2, 3]  # centre, the 4 edges and the image rectangle
    pts = c[order]
    return {
        "type": "scatter3d",
        "mode": "lines",
        "scene": "scene",
        "name": "camera",
        "legendgroup": "camera",
        "showlegend": False,
        "hoverinfo": "name",
        "visible": True,
        "x": pts[:, 0].tolist(),
        "y": pts[:, 2].tolist(),
        "z": pts[:, 1].tolist(),
        "line": {"width": 3, "color": _CAMERA},
    }


def base_traces(view: View) -> list[dict[str, Any]]:
    """Trace styles, in the order of :func:`frame_update`: 3D slots, GT, 2D input, 2D slots,
    then the camera (static)."""
    # Scene axes are (x, z, y): see the module docstring.
    hover3d = "%{text}<br>x %{x:.3f}, y %{z:.3f}, z %{y:.3f} m<extra>%{fullData.name}</extra>"
    traces = [_trace_3d(view, s, hover3d) for s in range(len(view.slot_labels))]
    if view.gt is not None:
        traces.append(
            {
                "type": "scatter3d",
                "mode": "lines+markers",
                "scene": "scene",
                "legendgroup": "gt",
                "text": _POINT_JOINT,
                "hovertemplate": hover3d,
                "line": {"width": 3, "color": _GT, "dash": "dash"},
                "marker": {"size": 2, "color": _GT},
            }
        )
    traces += _traces_2d(view)
    for trace, visible in zip(traces, visibility(view, "all"), strict=True):
        trace["visible"] = visible
    camera = _camera_trace(view)
    return traces + ([camera] if camera else [])


def frame_update(view: View, i: int) -> list[dict[str, Any]]:
    """Per-trace data of frame ``i`` (position among the shown frames); not the camera."""
    out: list[dict[str, Any]] = []
    for s in range(len(view.slot_labels)):
        x, y, z = _segments(view.pose[i, s], _DECIMALS_M)
        out.append({"type": "scatter3d", "x": x, "y": z, "z": y, "name": _slot_name(view, s, i)})
    if view.gt is not None:
        x, y, z = _segments(view.gt[i], _DECIMALS_M)
        out.append({"type": "scatter3d", "x": x, "y": z, "z": y, "name": "ground truth"})
    if view.keypoints is not None:
        u, v = _segments(view.keypoints[i], _DECIMALS_PX)
        out.append({"type": "scatter", "x": u, "y": v, "name": "2D input"})
    if view.reproj is not None:
        for s in range(len(view.slot_labels)):
            u, v = _segments(view.reproj[i, s], _DECIMALS_PX)
            out.append({"type": "scatter", "x": u, "y": v, "name": _slot_name(view, s, i)})
    return out


def first_frame_traces(view: View) -> list[dict[str, Any]]:
    """:func:`base_traces` holding the data of the first shown frame: what every viewer opens on."""
    traces = base_traces(view)
    for trace, update in zip(traces, frame_update(view, 0), strict=False):  # the camera has no update
        trace.update(update)
    return traces


def menu_keys(view: View) -> list[tuple[str, str | int]]:
    """Dropdown entries ``(label, key)``: "all", "best" when known, then each hypothesis."""
    keys: list[tuple[str, str | int]] = [("all", "all")]
    if view.has_best:
        keys.append(("best", "best"))
    keys += [(view.slot_labels[s], s) for s in range(view.n_hyp)]
    return keys


def visibility(view: View, key: str | int) -> list[bool]:
    """Visibility of every per-frame trace when the hypothesis menu shows ``key``."""
    n_slot = len(view.slot_labels)
    if key == "all":
        slots = [s < view.n_hyp for s in range(n_slot)]
    elif key == "best":
        slots = [s >= view.n_hyp for s in range(n_slot)]
    else:
        slots = [s == key for s in range(n_slot)]
    visible = list(slots)
    if view.gt is not None:
        visible.append(True)
    if view.keypoints is not None:
        visible.append(True)
    if view.reproj is not None:
        visible += slots
    return visible
