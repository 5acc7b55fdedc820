"""The static plotly figure of :func:`plot`: layout, views and controls around the traces.

The figure opens on the person: a three-quarter front view of a box fitted to the skeletons,
with equal metres on every axis, and the image panel zoomed to the keypoints. Buttons switch
the scene to the camera layout (the camera's frustum and the person to scale) and the panel to
the whole image.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from zedo_xr.viz.prepare import PARAMS_DOC, View, prepare
from zedo_xr.viz.traces import first_frame_traces, frame_update, import_plotly, menu_keys, title, visibility

if TYPE_CHECKING:
    import plotly.graph_objects as go

_LEGEND_PER_ROW = 3  # entries like "hypothesis 12 · 5.7 px · MPJPE 29 mm" on a ~800 px page
_LEGEND_ROW_PX = 24
_TITLE_PX = 80  # the title and the view buttons' row
_PLOT_PX = 610  # height of the plotting area, below the legend and above the controls
_BOTTOM_PX = 10
_SPLIT = 0.55  # share of the width for the 3D scene
_KEY = (
    "<span style='color:#1f5fbf'>━ left side</span>   "
    "<span style='color:#d62728'>━ right side</span>   ╍ ground truth"
)

# Scene eyes (scene axes: right, forward = away from the camera, up), in units of the box.
_EYE_PERSON = (1.0, -1.4, 0.3)  # three-quarter front, from the camera's right, a bit above
_EYE_CAMERA = (1.0, -0.25, 0.6)  # from the side and above: camera and person in one view


def _aspect(box: np.ndarray) -> dict[str, float]:
    """Scene aspect ratio of fixed axis ranges (scene axes x, z, y), longest side 1.

    Equal metres on every axis, as ``aspectmode="data"`` would give; but "data" measures the
    data of the frame on show, not the axis ranges, so with fixed ranges it distorts the scene
    and rescales it on every animation frame.
    """
    widths = (box[:, 1] - box[:, 0])[[0, 2, 1]]
    ratio = widths / widths.max()
    return {"x": float(ratio[0]), "y": float(ratio[1]), "z": float(ratio[2])}


def _scene_view(box: np.ndarray, eye: tuple[float, float, float]) -> dict[str, Any]:
    """``relayout`` arguments that show ``box`` (camera frame, (3, 2)) from ``eye``."""
    return {
        # Scene axes (x, z, y), y reversed so that up is -y: see zedo_xr.viz.traces.
        "scene.xaxis.range": box[0].tolist(),
        "scene.yaxis.range": box[2].tolist(),
        "scene.zaxis.range": box[1, ::-1].tolist(),
        "scene.aspectratio": _aspect(box),
        "scene.camera.eye": dict(zip("xyz", eye, strict=True)),
        "scene.camera.center": {"x": 0, "y": 0, "z": 0},
    }


def _panel_view(box: np.ndarray) -> dict[str, Any]:
    """``relayout`` arguments that show the ``(2, 2)`` pixel box; v grows downwards."""
    (u0, u1), (v0, v1) = box.tolist()
    return {"xaxis.range": [u0, u1], "yaxis.range": [v1, v0]}


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"scene.xaxis.range": r}`` -> ``{"scene": {"xaxis": {"range": r}}}``."""
    out: dict[str, Any] = {}
    for key, value in flat.items():
        node = out
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _top_margin(view: View) -> int:
    """Pixels above the plots: the title's rows and the legend's rows.

    The legend sits above the plots and wraps upwards with many hypotheses: its rows are reserved
    in the top margin so it never runs into the title, which is pinned to the top of the page.
    """
    entries = len(view.slot_labels) + int(view.gt is not None) + int(view.keypoints is not None)
    rows = max(1, -(-entries // _LEGEND_PER_ROW))
    return _TITLE_PX + _LEGEND_ROW_PX * rows


def title_text(view: View, i: int) -> str:
    """The title of frame ``i`` and the colour key (the legend cannot say "left limbs blue")."""
    key = _KEY if view.gt is not None else _KEY.rsplit("   ", 1)[0]
    return f"{title(view, i)}&nbsp;&nbsp;&nbsp;&nbsp;<span style='font-size:13px'>{key}</span>"


def _scene(view: View) -> dict[str, Any]:
    scene: dict[str, Any] = {
        "domain": {"x": [0.0, _SPLIT if view.show_2d else 1.0], "y": [0.0, 1.0]},
        "aspectmode": "manual",
        # A box fitted to a person is a metre or two: 4 ticks per axis keep the labels apart.
        "xaxis": {"title": {"text": "x (m, right)"}, "nticks": 4},
        "yaxis": {"title": {"text": "z (m, forward)"}, "nticks": 4},
        "zaxis": {"title": {"text": "y (m, down)"}, "nticks": 4},
        "camera": {"up": {"x": 0, "y": 0, "z": 1}},
        "dragmode": "turntable",
    }
    nested = _nested(_scene_view(view.range3d, _EYE_PERSON))["scene"]
    for key, value in nested.items():
        scene[key] = {**scene.get(key, {}), **value} if isinstance(value, dict) else value
    return scene


def _panel(view: View) -> dict[str, Any]:
    """The image panel's axes (zoomed to the person) and the image's frame as a rectangle."""
    assert view.range2d is not None
    zoom = _nested(_panel_view(view.range2d))
    layout: dict[str, Any] = {
        "xaxis": {
            "domain": [_SPLIT + 0.05, 1.0],
            "title": {"text": "u (px)"},
            "constrain": "domain",
            "zeroline": False,
            **zoom["xaxis"],
        },
        "yaxis": {
            "domain": [0.0, 1.0],
            "title": {"text": "v (px)"},
            "scaleanchor": "x",
            "scaleratio": 1,
            "constrain": "domain",
            "zeroline": False,
            **zoom["yaxis"],
        },
    }
    if view.image_size is not None:
        w, h = view.image_size
        layout["shapes"] = [
            {
                "type": "rect",
                "xref": "x",
                "yref": "y",
                "x0": 0,
                "y0": 0,
                "x1": w,
                "y1": h,
                "layer": "below",
                "line": {"color": "#888888", "width": 1, "dash": "dot"},
            }
        ]
    return layout


def layout(view: View) -> dict[str, Any]:
    """Figure layout without the animation controls (the widget has its own)."""
    top = _top_margin(view)
    out: dict[str, Any] = {
        "title": {
            "text": title_text(view, 0),
            "x": 0.01,
            "xanchor": "left",
            "y": 0.995,
            "yref": "container",
            "yanchor": "top",
        },
        "height": _PLOT_PX + _BOTTOM_PX + top,
        "margin": {"l": 10, "r": 10, "t": top, "b": _BOTTOM_PX},
        "legend": {"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.06, "yanchor": "bottom"},
        "uirevision": "zedo",  # keep the user's 3D camera and zoom across frame updates
        "scene": _scene(view),
        "updatemenus": view_menus(view),
    }
    if view.range2d is not None:
        out.update(_panel(view))
    return out


def _buttons(labels_args: list[tuple[str, dict[str, Any]]], x: float) -> dict[str, Any]:
    return {
        "type": "buttons",
        "direction": "right",
        "showactive": True,
        "active": 0,
        "x": x,
        "xanchor": "left",
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"b": 4},
        "font": {"size": 11},
        "buttons": [{"label": label, "method": "relayout", "args": [args]} for label, args in labels_args],
    }


def view_menus(view: View) -> list[dict[str, Any]]:
    """Buttons above each panel: the person or the camera layout; the person or the image."""
    menus = [
        _buttons(
            [
                ("3D: person", _scene_view(view.range3d, _EYE_PERSON)),
                ("camera layout", _scene_view(view.scene3d, _EYE_CAMERA)),
            ],
            0.0,
        )
    ]
    if view.range2d is not None and view.image2d is not None:
        menus.append(
            _buttons(
                [("2D: person", _panel_view(view.range2d)), ("whole image", _panel_view(view.image2d))],
                _SPLIT + 0.05,
            )
        )
    return menus


def _unique_names(labels: list[str]) -> list[str]:
    return labels if len(set(labels)) == len(labels) else [str(i) for i in range(len(labels))]


def _animation(view: View) -> list[dict[str, Any]]:
    """The frame slider and the play/pause buttons."""
    names = _unique_names(view.frame_labels)
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    slider = {
        "active": 0,
        "x": 0.13,
        "len": 0.87,
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 30},
        "currentvalue": {"prefix": "frame ", "visible": True},
        "steps": [
            {"method": "animate", "label": label, "args": [[name], still]}
            for name, label in zip(names, view.frame_labels, strict=True)
        ],
    }
    play = {
        "frame": {"duration": view.frame_ms, "redraw": True},
        "fromcurrent": True,
        "mode": "immediate",
        "transition": {"duration": 0},
    }
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate", "transition": {"duration": 0}}
    buttons = {
        "type": "buttons",
        "direction": "left",
        "showactive": False,
        "x": 0.0,
        "xanchor": "left",
        "y": 0.0,
        "yanchor": "top",
        "pad": {"t": 40},
        "buttons": [
            {"label": "▶", "method": "animate", "args": [None, play]},
            {"label": "❚❚", "method": "animate", "args": [[None], pause]},
        ],
    }
    return [slider, buttons]


def _controls(view: View) -> dict[str, Any]:
    slider, play = _animation(view)
    # The menu sits in the row of view buttons, at the right edge of the 3D scene: there it
    # covers neither the legend nor a plot until it is opened.
    n_static = 1 if view.camera is not None else 0
    menu = {
        "type": "dropdown",
        "direction": "down",
        "showactive": True,
        "active": 0,
        "x": _SPLIT if view.show_2d else 1.0,
        "xanchor": "right",
        "y": 1.0,
        "yanchor": "bottom",
        "pad": {"b": 4},
        "buttons": [
            {
                "label": label,
                "method": "restyle",
                "args": [{"visible": visibility(view, key) + [True] * n_static}],
            }
            for label, key in menu_keys(view)
        ],
    }
    return {"sliders": [slider], "updatemenus": [menu, play, *view_menus(view)]}


def plot(
    ds: xr.Dataset,
    *,
    frames: int | slice | Sequence[int] | None = None,
    max_frames: int | None = 200,
    hypotheses: int | Sequence[int] | None = None,
    show_gt: bool = True,
    show_2d: bool = True,
    root_relative: bool = False,
    title: str | None = None,
    select: Mapping[Hashable, Any] | None = None,
) -> go.Figure:
    """Static plotly figure of lifted poses: 3D scene, image panel, frame slider, hypothesis menu.

    It opens on the person: a three-quarter front view with equal metres on every axis in a box
    fitted to the skeletons, and the image panel zoomed to the keypoints; buttons above each
    panel show the camera layout (the camera's frustum and the person to scale) and the whole
    image. The person's left limbs are blue, the right limbs red; hypotheses differ by the
    trunk's colour and the line's dash; a "best" trace (thicker, hidden until chosen in the
    menu) when ``best_hypothesis`` exists; the ground truth dashed black. Legend names carry the
    frame's reprojection error (px) and MPJPE (mm); a frame without a pose says so in the title.
    One animation frame per shown frame, so the figure animates in plain HTML without a kernel.
    {params}
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> fig = zedo_xr.plot(out, max_frames=100)            # doctest: +SKIP
    >>> fig.show()                                          # doctest: +SKIP
    """
    go = import_plotly()
    view = prepare(
        ds,
        frames=frames,
        max_frames=max_frames,
        hypotheses=hypotheses,
        show_gt=show_gt,
        show_2d=show_2d,
        root_relative=root_relative,
        title=title,
        select=select,
    )
    traces = first_frame_traces(view)
    updates = [frame_update(view, i) for i in range(len(view.frame_labels))]
    indices = list(range(len(updates[0])))
    names = _unique_names(view.frame_labels)
    frame_list = [
        {"name": name, "data": update, "traces": indices, "layout": {"title": {"text": title_text(view, i)}}}
        for i, (name, update) in enumerate(zip(names, updates, strict=True))
    ]
    return go.Figure(data=traces, layout={**layout(view), **_controls(view)}, frames=frame_list)


plot.__doc__ = (plot.__doc__ or "").replace("{params}", PARAMS_DOC)
