"""Plotly figures and an ipywidgets viewer for lifted poses.

Two viewers share one data preparation step:

- :func:`plot` returns a static :class:`plotly.graph_objects.Figure` with one animation frame per
  (subsampled) frame, a frame slider, play/pause buttons and a hypothesis dropdown. It needs no
  kernel, so it works in HTML files (:func:`write_html`) and on the documentation site.
- :func:`widget` returns a :class:`ViewerWidget`: a ``FigureWidget`` driven by an ``IntSlider``
  and a ``Dropdown`` for live Jupyter sessions (``FigureWidget`` cannot hold animation frames).

The 3D scene shows camera-frame poses (OpenCV: x right, y down, z forward). plotly's turntable
rotation keeps the scene's third axis up, so the scene's axes are (x, z, y) with the y axis
reversed: a standing person looks upright, seen from the camera's side, while ticks and hover
text keep the camera-frame values. (Setting ``scene.camera.up`` to -y does not survive: plotly
resets it to +z in turntable mode.) The 2D panel shows the input keypoints and every
hypothesis reprojected with ``K``, with the v axis pointing down as in the image.

plotly, ipywidgets and anywidget are imported inside the functions (``pip install zedo-xr[viz]``).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import xarray as xr

from zedo_xr import schema
from zedo_xr.skeleton import H36M_BONES, H36M_JOINTS, H36M_LEFT, H36M_RIGHT

if TYPE_CHECKING:
    import ipywidgets
    import plotly.graph_objects as go

__all__ = ["ViewerWidget", "plot", "widget", "write_html"]

_KNOWN_DIMS = {
    schema.FRAME, schema.HYPOTHESIS, schema.JOINT, schema.COORD, schema.UV, schema.ROW, schema.COL,
}
_PELVIS = H36M_JOINTS.index("pelvis")
_DECIMALS_M = 4  # 0.1 mm: far below any pose error, keeps the JSON short
_DECIMALS_PX = 1

_LEFT_COLOUR = "#1f77b4"
_RIGHT_COLOUR = "#d62728"
_GT_COLOUR = "#7f7f7f"
_INPUT_COLOUR = "#222222"
_BEST_COLOUR = "#111111"
_PALETTE = ("#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#bcbd22")



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
_POINT_INDEX = np.array([j for c in _CHAINS for j in [-1, *c]][1:])
_POINT_SIDE = [
    _SIDE.get(c[1], 0) for c in _CHAINS for _ in [-1, *c]
][1:]
_POINT_JOINT = [H36M_JOINTS[j] if j >= 0 else "" for j in _POINT_INDEX]
_SIDE_COLOURS_2D = [(_INPUT_COLOUR, _LEFT_COLOUR, _RIGHT_COLOUR)[s] for s in _POINT_SIDE]


def _import_plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "zedo_xr.viz needs plotly; install the viz extra: pip install 'zedo-xr[viz]'"
        ) from err
    return go


def _import_widgets() -> tuple[Any, Any]:
    go = _import_plotly()
    try:
        import anywidget  # noqa: F401  (plotly's FigureWidget is an anywidget)
        import ipywidgets
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            "zedo_xr.viz.widget needs ipywidgets and anywidget; install the viz extra: "
            "pip install 'zedo-xr[viz]'"
        ) from err
    return go, ipywidgets


# --------------------------------------------------------------------------------------------
# Data preparation: xarray -> plain numpy, shared by both viewers


@dataclass
class _View:
    """Everything a viewer draws, as numpy arrays over the shown frames.

    ``S`` slots are the shown hypotheses, plus a last "best" slot when the dataset has
    ``best_hypothesis``.
    """

    frame_labels: list[str]
    slot_labels: list[str]          # (S,)
    has_best: bool
    pose: np.ndarray                # (F, S, J, 3) metres, as displayed
    reproj: np.ndarray | None       # (F, S, J, 2) pixels
    error: np.ndarray | None        # (F, S) pixels
    mpjpe: np.ndarray | None        # (F, S) millimetres, root-aligned
    best: np.ndarray | None         # (F,) hypothesis label of the best one
    gt: np.ndarray | None           # (F, J, 3)
    keypoints: np.ndarray | None    # (F, J, 2), NaN where missing or confidence 0
    range3d: np.ndarray             # (3, 2)
    range2d: np.ndarray | None      # (2, 2): u and v extent
    title: str | None
    frame_ms: float

    @property
    def n_hyp(self) -> int:
        return len(self.slot_labels) - int(self.has_best)

    @property
    def show_2d(self) -> bool:
        return self.range2d is not None


def _select_extra_dims(ds: xr.Dataset, select: Mapping[Hashable, Any] | None) -> xr.Dataset:
    select = dict(select or {})
    unknown = [d for d in select if d not in ds.dims]
    if unknown:
        raise schema.SchemaError(
            f"select: expected dims of the dataset {tuple(ds.dims)}, got {tuple(unknown)}"
        )
    ds = ds.sel(select)
    first = {d: 0 for d in ds.dims if d not in _KNOWN_DIMS}
    return ds.isel(first) if first else ds


def _positions(n: int, which: int | slice | Sequence[int] | None, name: str) -> np.ndarray:
    if which is None:
        return np.arange(n)
    if isinstance(which, slice):
        return np.arange(n)[which]
    if isinstance(which, int | np.integer):
        return np.arange(n)[int(which) : int(which) + 1]
    pos = np.asarray(which, dtype=int).ravel()
    if pos.size and (pos.min() < -n or pos.max() >= n):
        raise ValueError(f"{name}: expected positions in [0, {n}), got {pos.tolist()}")
    return np.arange(n)[pos]


def _hypothesis_positions(n: int, hypotheses: int | Sequence[int] | None) -> np.ndarray:
    if hypotheses is None:
        return np.arange(n)
    if isinstance(hypotheses, int | np.integer):
        # A count, as in lift(hypotheses=S): the first S hypotheses.
        if hypotheses < 1:
            raise ValueError(f"hypotheses: expected a count >= 1, got {hypotheses}")
        return np.arange(min(int(hypotheses), n))
    return _positions(n, hypotheses, "hypotheses")


def _masked_mean(values: np.ndarray, mask: np.ndarray, axis: int) -> np.ndarray:
    """Mean over ``axis`` where ``mask``; NaN (without a warning) where nothing is left."""
    mask = mask & np.isfinite(values)
    total = np.where(mask, values, 0.0).sum(axis=axis)
    count = mask.sum(axis=axis)
    out = np.full(np.shape(total), np.nan)
    np.divide(total, count, out=out, where=count > 0)
    return out


def _finite_range(*arrays: np.ndarray | None, axis_size: int) -> np.ndarray:
    """Per-coordinate (min, max) over the finite values of the given ``(..., axis_size)`` arrays."""
    lo, hi = np.full(axis_size, np.inf), np.full(axis_size, -np.inf)
    for arr in arrays:
        if arr is None:
            continue
        flat = arr.reshape(-1, axis_size)
        for c in range(axis_size):
            v = flat[:, c][np.isfinite(flat[:, c])]
            if v.size:
                lo[c], hi[c] = min(lo[c], v.min()), max(hi[c], v.max())
    empty = ~np.isfinite(lo)
    lo[empty], hi[empty] = -1.0, 1.0
    return np.stack([lo, hi], axis=-1)


def _project(points: np.ndarray, K: np.ndarray) -> np.ndarray:
    """Pinhole projection: ``(F, ..., J, 3)`` metres, ``(F, 3, 3)`` K -> ``(F, ..., J, 2)`` px."""
    Kb = K.reshape(K.shape[:1] + (1,) * (points.ndim - 3) + (3, 3))
    cam = np.einsum("...rc,...jc->...jr", Kb, points)
    z = cam[..., 2:3]
    with np.errstate(divide="ignore", invalid="ignore"):
        uv = cam[..., :2] / z
    return np.where(z > 1e-6, uv, np.nan)


def _array(da: xr.DataArray, dims: tuple[str, ...]) -> np.ndarray:
    return np.asarray(da.transpose(*dims).values, dtype=float)


def _prepare(
    ds: xr.Dataset,
    *,
    frames: int | slice | Sequence[int] | None,
    max_frames: int | None,
    hypotheses: int | Sequence[int] | None,
    show_gt: bool,
    show_2d: bool,
    root_relative: bool,
    title: str | None,
    select: Mapping[Hashable, Any] | None,
) -> _View:
    if not isinstance(ds, xr.Dataset):
        raise schema.SchemaError(f"dataset: expected an xarray.Dataset, got {type(ds).__name__}")
    if schema.POSE3D not in ds:
        raise schema.SchemaError(
            f"dataset: expected a '{schema.POSE3D}' variable with dims "
            f"{schema.VARIABLE_DIMS[schema.POSE3D]} (run lift first), got variables "
            f"{list(ds.data_vars)}"
        )
    ds = _select_extra_dims(ds, select)
    if schema.HYPOTHESIS not in ds[schema.POSE3D].dims:
        ds[schema.POSE3D] = ds[schema.POSE3D].expand_dims(schema.HYPOTHESIS, axis=1)
    schema.validate_pose3d(ds[schema.POSE3D], hypotheses=True)
    schema.require_joint_names(ds[schema.POSE3D], schema.POSE3D)

    # Frames: the user's choice (positions), then an even stride down to max_frames.
    pos = _positions(ds.sizes[schema.FRAME], frames, "frames")
    if max_frames is not None and pos.size > max_frames:
        if max_frames < 1:
            raise ValueError(f"max_frames: expected a count >= 1, got {max_frames}")
        pos = pos[:: -(-pos.size // max_frames)]
    if pos.size == 0:
        raise ValueError("frames: the selection is empty")
    ds = ds.isel({schema.FRAME: pos})
    # Bones are defined on the H36M order: reorder by name, missing joints become NaN.
    ds = ds.reindex({schema.JOINT: schema.joint_coord()})

    if schema.FRAME in ds.coords:
        frame_labels = [str(v) for v in ds[schema.FRAME].values]
    else:
        frame_labels = [str(p) for p in pos]

    pose_dims = (schema.FRAME, schema.HYPOTHESIS, schema.JOINT, schema.COORD)
    pose_all = _array(ds[schema.POSE3D], pose_dims)
    n_frame, n_all = pose_all.shape[:2]
    if schema.HYPOTHESIS in ds.coords:
        hyp_names = [str(v) for v in ds[schema.HYPOTHESIS].values]
    else:
        hyp_names = [str(i) for i in range(n_all)]
    hpos = _hypothesis_positions(n_all, hypotheses)
    slots = [pose_all[:, h] for h in hpos]
    slot_labels = [f"hypothesis {hyp_names[h]}" for h in hpos]

    has_best = schema.BEST_HYPOTHESIS in ds
    best_raw = np.zeros(n_frame)
    if has_best:
        best_raw = np.asarray(ds[schema.BEST_HYPOTHESIS].values, dtype=float).reshape(n_frame)
    best_ok = np.isfinite(best_raw)
    best_idx = np.where(best_ok, best_raw, 0).astype(int).clip(0, n_all - 1)
    if has_best:
        best_pose = pose_all[np.arange(n_frame), best_idx]
        best_pose[~best_ok] = np.nan
        slots.append(best_pose)
        slot_labels.append("best")
    pose = np.stack(slots, axis=1)  # (F, S, J, 3)

    gt = None
    if show_gt and schema.POSE3D_GT in ds:
        gt = _array(ds[schema.POSE3D_GT], (schema.FRAME, schema.JOINT, schema.COORD))

    keypoints = None
    if schema.KEYPOINTS in ds:
        keypoints = _array(ds[schema.KEYPOINTS], (schema.FRAME, schema.JOINT, schema.UV))
        if schema.CONFIDENCE in ds:
            conf = _array(ds[schema.CONFIDENCE], (schema.FRAME, schema.JOINT))
            keypoints[~(conf > 0)] = np.nan

    reproj = None
    K = None
    if schema.K_VAR in ds:
        K_da = schema.as_intrinsics(ds[schema.K_VAR])
        K = np.asarray(K_da.values, dtype=float)
        K = np.broadcast_to(K, (n_frame, 3, 3)) if K.ndim == 2 else K
        reproj = _project(pose, K)

    error = None
    if schema.REPROJECTION_ERROR in ds:
        err_all = _array(ds[schema.REPROJECTION_ERROR], (schema.FRAME, schema.HYPOTHESIS))
        cols = [err_all[:, h] for h in hpos]
        if has_best:
            best_err = err_all[np.arange(n_frame), best_idx]
            cols.append(np.where(best_ok, best_err, np.nan))
        error = np.stack(cols, axis=1)
    elif reproj is not None and keypoints is not None:
        dist = np.linalg.norm(reproj - keypoints[:, None], axis=-1)
        error = _masked_mean(dist, np.isfinite(keypoints[:, None, :, 0]), axis=-1)

    mpjpe = None
    if gt is not None:
        # Root-aligned, as the evaluation protocol reports it.
        rel = pose - pose[:, :, _PELVIS : _PELVIS + 1]
        rel_gt = gt - gt[:, _PELVIS : _PELVIS + 1]
        dist = np.linalg.norm(rel - rel_gt[:, None], axis=-1) * 1000.0
        mpjpe = _masked_mean(dist, np.ones(dist.shape, dtype=bool), axis=-1)

    if root_relative:
        pose = pose - pose[:, :, _PELVIS : _PELVIS + 1]
        if gt is not None:
            gt = gt - gt[:, _PELVIS : _PELVIS + 1]

    range3d = _finite_range(pose, gt, axis_size=3)
    pad = 0.05 * max(float(np.max(range3d[:, 1] - range3d[:, 0])), 0.5)
    # At least 1 m along each axis, so that a person seen from the front keeps some depth.
    half = np.maximum((range3d[:, 1] - range3d[:, 0]) / 2 + pad, 0.5)
    range3d = range3d.mean(axis=1, keepdims=True) + half[:, None] * np.array([-1.0, 1.0])

    range2d = None
    if show_2d and (keypoints is not None or reproj is not None):
        range2d = _finite_range(keypoints, reproj, axis_size=2)
        if K is not None:
            # The image is about (2 cx) x (2 cy): show all of it when the skeleton is inside.
            image = np.array([[0.0, 2 * K[:, 0, 2].max()], [0.0, 2 * K[:, 1, 2].max()]])
            range2d = np.stack(
                [np.minimum(range2d[:, 0], image[:, 0]), np.maximum(range2d[:, 1], image[:, 1])],
                axis=-1,
            )
        pad2 = 0.03 * float(np.max(range2d[:, 1] - range2d[:, 0]))
        range2d = range2d + np.array([-pad2, pad2])

    fps = float(ds.attrs.get("fps", 0) or 0)
    stride = int(pos[1] - pos[0]) if pos.size > 1 else 1
    frame_ms = 1000.0 * max(stride, 1) / fps if fps > 0 else 100.0

    return _View(
        frame_labels=frame_labels,
        slot_labels=slot_labels,
        has_best=has_best,
        pose=pose,
        reproj=reproj if show_2d else None,
        error=error,
        mpjpe=mpjpe,
        best=np.array([hyp_names[b] if ok else "" for b, ok in zip(best_idx, best_ok, strict=True)])
        if has_best
        else None,
        gt=gt,
        keypoints=keypoints if show_2d else None,
        range3d=range3d,
        range2d=range2d,
        title=title,
        frame_ms=max(frame_ms, 20.0),
    )


# --------------------------------------------------------------------------------------------
# Traces: the same base traces and per-frame updates feed the static figure and the widget


def _values(v: np.ndarray, decimals: int) -> list[float | None]:
    """Rounded floats with None for gaps (NaN breaks a plotly line into segments)."""
    return [None if x != x else x for x in np.round(v, decimals).tolist()]


def _segments(points: np.ndarray, decimals: int) -> list[list[float | None]]:
    """``(J, C)`` joints -> C coordinate lists of the skeleton's polylines, gaps as None."""
    padded = np.concatenate([points, np.full_like(points[:1], np.nan)])
    seg = padded[_POINT_INDEX]  # index -1 is the NaN row
    return [_values(seg[:, c], decimals) for c in range(points.shape[-1])]


def _slot_colour(view: _View, s: int) -> str:
    return _BEST_COLOUR if s >= view.n_hyp else _PALETTE[s % len(_PALETTE)]


def _slot_name(view: _View, s: int, i: int) -> str:
    name = view.slot_labels[s]
    if s >= view.n_hyp and view.best is not None and view.best[i]:
        name = f"best (hypothesis {view.best[i]})"
    if view.error is not None and np.isfinite(view.error[i, s]):
        name += f" · {view.error[i, s]:.1f} px"
    if view.mpjpe is not None and np.isfinite(view.mpjpe[i, s]):
        name += f" · MPJPE {view.mpjpe[i, s]:.0f} mm"
    return name


def _title(view: _View, i: int) -> str:
    text = f"{view.title or 'zedo-xr'} · frame {view.frame_labels[i]}"
    if view.best is not None and view.best[i]:
        text += f" · best hypothesis {view.best[i]}"
    return text


def _base_traces(view: _View) -> list[dict[str, Any]]:
    """Trace styles, in the order of :func:`_frame_update` (3D slots, GT, 2D input, 2D slots)."""
    traces: list[dict[str, Any]] = []
    # Scene axes are (x, z, y): see the module docstring.
    hover3d = "%{text}<br>x %{x:.3f}, y %{z:.3f}, z %{y:.3f} m<extra>%{fullData.name}</extra>"
    # The legend shows the single-colour 2D reprojection of a hypothesis when there is one
    # (a 3D trace's legend line is drawn black for its per-point colours).
    legend_3d = view.reproj is None
    for s in range(len(view.slot_labels)):
        scale = [[0.0, _slot_colour(view, s)], [0.5, _LEFT_COLOUR], [1.0, _RIGHT_COLOUR]]
        colours = {"color": _POINT_SIDE, "colorscale": scale, "cmin": 0, "cmax": 2}
        traces.append({
            "type": "scatter3d", "mode": "lines+markers", "scene": "scene",
            "legendgroup": f"slot{s}", "showlegend": legend_3d, "text": _POINT_JOINT,
            "hovertemplate": hover3d,
            "line": {"width": 6 if s >= view.n_hyp else 4, **colours},
            "marker": {"size": 3, **colours},
        })
    if view.gt is not None:
        traces.append({
            "type": "scatter3d", "mode": "lines+markers", "scene": "scene",
            "legendgroup": "gt", "text": _POINT_JOINT, "hovertemplate": hover3d,
            "line": {"width": 3, "color": _GT_COLOUR, "dash": "dash"},
            "marker": {"size": 2, "color": _GT_COLOUR},
        })
    if view.show_2d:
        hover2d = "%{text}<br>u %{x:.1f}, v %{y:.1f} px<extra>%{fullData.name}</extra>"
        if view.keypoints is not None:
            traces.append({
                "type": "scatter", "mode": "lines+markers", "xaxis": "x", "yaxis": "y",
                "legendgroup": "input", "text": _POINT_JOINT, "hovertemplate": hover2d,
                "line": {"width": 1.5, "color": _INPUT_COLOUR},
                "marker": {"size": 6, "color": _SIDE_COLOURS_2D},
            })
        if view.reproj is not None:
            for s in range(len(view.slot_labels)):
                traces.append({
                    "type": "scatter", "mode": "lines", "xaxis": "x", "yaxis": "y",
                    "legendgroup": f"slot{s}", "text": _POINT_JOINT,
                    "hovertemplate": hover2d, "opacity": 0.8,
                    "line": {"width": 2.5 if s >= view.n_hyp else 1.5,
                             "color": _slot_colour(view, s)},
                })
    for trace, visible in zip(traces, _visibility(view, "all"), strict=True):
        trace["visible"] = visible
    return traces


def _frame_update(view: _View, i: int) -> list[dict[str, Any]]:
    """Per-trace data of frame ``i`` (position among the shown frames)."""
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


def _menu_keys(view: _View) -> list[tuple[str, str | int]]:
    """Dropdown entries ``(label, key)``: "all", "best" when known, then each hypothesis."""
    keys: list[tuple[str, str | int]] = [("all", "all")]
    if view.has_best:
        keys.append(("best", "best"))
    keys += [(view.slot_labels[s], s) for s in range(view.n_hyp)]
    return keys


def _visibility(view: _View, key: str | int) -> list[bool]:
    """Visibility of every trace when the hypothesis menu shows ``key``."""
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


def _aspect(range3d: np.ndarray) -> dict[str, float]:
    """Scene aspect ratio of the fixed axis ranges (scene axes x, z, y), longest side 1.

    Equal metres on every axis, as ``aspectmode="data"`` would give; but "data" measures the
    data of the frame on show, not the axis ranges, so with fixed ranges it distorts the scene
    and rescales it on every animation frame.
    """
    widths = (range3d[:, 1] - range3d[:, 0])[[0, 2, 1]]
    ratio = widths / widths.max()
    return {"x": float(ratio[0]), "y": float(ratio[1]), "z": float(ratio[2])}


def _eye() -> dict[str, float]:
    """Scene eye on the camera's side (towards -z), a little right of and above it."""
    direction = np.array([0.45, -1.0, 0.3])  # scene axes: right, towards the camera, up
    eye = direction / np.linalg.norm(direction) * 2.1  # far enough that no axis title is clipped
    return {"x": float(eye[0]), "y": float(eye[1]), "z": float(eye[2])}


_LEGEND_PER_ROW = 4   # entries like "hypothesis 12 · 5.7 px · MPJPE 29 mm" on a ~1300 px page
_LEGEND_ROW_PX = 24


_PLOT_PX = 610         # height of the plotting area, below the legend and above the controls
_BOTTOM_PX = 10


def _top_margin(view: _View) -> int:
    """Pixels above the plots: the title's row and the legend's rows.

    The legend sits above the plots and wraps upwards with many hypotheses: its rows are reserved
    in the top margin so it never runs into the title, which is pinned to the top of the page.
    """
    entries = len(view.slot_labels) + int(view.gt is not None) + int(view.keypoints is not None)
    rows = max(1, -(-entries // _LEGEND_PER_ROW))
    return 80 + _LEGEND_ROW_PX * rows


def _layout(view: _View) -> dict[str, Any]:
    r3, split = view.range3d, 0.55
    top = _top_margin(view)
    layout: dict[str, Any] = {
        "title": {"text": _title(view, 0), "x": 0.01, "xanchor": "left",
                  "y": 0.995, "yref": "container", "yanchor": "top"},
        "height": _PLOT_PX + _BOTTOM_PX + top,
        "margin": {"l": 10, "r": 10, "t": top, "b": _BOTTOM_PX},
        "legend": {"orientation": "h", "x": 0.0, "xanchor": "left", "y": 1.02, "yanchor": "bottom"},
        "uirevision": "zedo",  # keep the user's 3D camera and zoom across frame updates
        "scene": {
            "domain": {"x": [0.0, split if view.show_2d else 1.0], "y": [0.0, 1.0]},
            "aspectmode": "manual",
            "aspectratio": _aspect(r3),
            # Scene axes (x, z, y), y reversed so that up is -y: see the module docstring.
            "xaxis": {"title": {"text": "x (m, right)"}, "range": r3[0].tolist()},
            "yaxis": {"title": {"text": "z (m, forward)"}, "range": r3[2].tolist()},
            "zaxis": {"title": {"text": "y (m, down)"}, "range": r3[1, ::-1].tolist()},
            "camera": {"eye": _eye(), "center": {"x": 0, "y": 0, "z": 0},
                       "up": {"x": 0, "y": 0, "z": 1}},
            "dragmode": "turntable",
        },
    }
    if view.range2d is not None:
        (u0, u1), (v0, v1) = view.range2d.tolist()
        layout["xaxis"] = {
            "domain": [split + 0.05, 1.0], "range": [u0, u1], "title": {"text": "u (px)"},
            "constrain": "domain", "zeroline": False,
        }
        layout["yaxis"] = {
            # Reversed range: v grows downwards as in the image.
            "domain": [0.0, 1.0], "range": [v1, v0], "title": {"text": "v (px)"},
            "scaleanchor": "x", "scaleratio": 1, "constrain": "domain", "zeroline": False,
        }
    return layout


def _unique_names(labels: list[str]) -> list[str]:
    return labels if len(set(labels)) == len(labels) else [str(i) for i in range(len(labels))]


def _controls(view: _View) -> dict[str, Any]:
    names = _unique_names(view.frame_labels)
    still = {"mode": "immediate", "frame": {"duration": 0, "redraw": True},
             "transition": {"duration": 0}}
    slider = {
        "active": 0, "x": 0.08, "len": 0.92, "y": 0.0, "yanchor": "top", "pad": {"t": 30},
        "currentvalue": {"prefix": "frame ", "visible": True},
        "steps": [
            {"method": "animate", "label": label, "args": [[name], still]}
            for name, label in zip(names, view.frame_labels, strict=True)
        ],
    }
    play = {
        "frame": {"duration": view.frame_ms, "redraw": True}, "fromcurrent": True,
        "mode": "immediate", "transition": {"duration": 0},
    }
    pause = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate",
             "transition": {"duration": 0}}
    buttons = {
        "type": "buttons", "direction": "left", "showactive": False,
        "x": 0.0, "xanchor": "left", "y": 0.0, "yanchor": "top", "pad": {"t": 40},
        "buttons": [
            {"label": "▶", "method": "animate", "args": [None, play]},
            {"label": "❚❚", "method": "animate", "args": [[None], pause]},
        ],
    }
    # The menu sits in the title's row, at the right: there it never covers the legend, whose
    # rows fill the width of the page below the title.
    menu = {
        "type": "dropdown", "direction": "down", "showactive": True, "active": 0,
        "x": 1.0, "xanchor": "right", "y": 1.0 + (_top_margin(view) - 6) / _PLOT_PX,
        "yanchor": "top",
        "buttons": [
            {"label": label, "method": "restyle", "args": [{"visible": _visibility(view, key)}]}
            for label, key in _menu_keys(view)
        ],
    }
    return {"sliders": [slider], "updatemenus": [menu, buttons]}


_COMMON_DOC = """
    Parameters
    ----------
    ds
        Lifted dataset: ``pose3d (frame, hypothesis, joint, coord)`` in metres, camera frame;
        optionally ``pose3d_gt``, ``keypoints``, ``confidence``, ``K``, ``reprojection_error``
        and ``best_hypothesis`` (see :mod:`zedo_xr.schema`). Joints are matched by name.
    frames
        Positions along ``frame`` to show (int, slice or sequence); all by default.
    max_frames
        Keep at most this many frames, taking every n-th one (None keeps all).
    hypotheses
        How many hypotheses to show (int: the first n, as ``lift(hypotheses=n)``) or which
        (sequence of positions); all by default. "best" always picks among all of them.
    show_gt
        Draw ``pose3d_gt`` (grey, dashed) and report MPJPE (root-aligned, mm) when present.
    show_2d
        Add the image panel: input keypoints (confidence 0 hidden) and each hypothesis
        reprojected with ``K``.
    root_relative
        Put the pelvis at the origin in the 3D scene (the 2D panel still projects the
        absolute poses).
    title
        Title prefix; the frame label (and best hypothesis) follow it.
    select
        Labels for extra dims, e.g. ``{"individual": "alice"}``; any other extra dim is
        reduced to its first entry.
"""


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

    One trace per hypothesis (left limbs blue, right limbs red, the trunk in the hypothesis'
    colour), a "best" trace when ``best_hypothesis`` exists (hidden until chosen in the menu),
    ground truth when present, then the 2D traces. Legend names carry the frame's reprojection
    error (px) and MPJPE (mm). One animation frame per shown frame, so the figure animates in
    plain HTML without a kernel.
    {params}
    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> fig = zedo_xr.plot(out, max_frames=100)            # doctest: +SKIP
    >>> fig.show()                                          # doctest: +SKIP
    """
    go = _import_plotly()
    view = _prepare(
        ds, frames=frames, max_frames=max_frames, hypotheses=hypotheses, show_gt=show_gt,
        show_2d=show_2d, root_relative=root_relative, title=title, select=select,
    )
    traces = _base_traces(view)
    updates = [_frame_update(view, i) for i in range(len(view.frame_labels))]
    for trace, update in zip(traces, updates[0], strict=True):
        trace.update(update)
    indices = list(range(len(traces)))
    names = _unique_names(view.frame_labels)
    frame_list = [
        {"name": name, "data": update, "traces": indices,
         "layout": {"title": {"text": _title(view, i)}}}
        for i, (name, update) in enumerate(zip(names, updates, strict=True))
    ]
    return go.Figure(
        data=traces, layout={**_layout(view), **_controls(view)}, frames=frame_list
    )


plot.__doc__ = (plot.__doc__ or "").replace("{params}", _COMMON_DOC)


@dataclass(eq=False)
class ViewerWidget:
    """Live Jupyter viewer: a ``FigureWidget`` driven by a frame slider and a hypothesis menu.

    Display it as the last expression of a cell (it shows :attr:`box`). Setting
    ``frame_slider.value`` or ``hypothesis_dropdown.value`` from Python updates
    :attr:`figure` at once, which is also how the tests drive it.
    """

    figure: go.FigureWidget
    frame_slider: ipywidgets.IntSlider
    hypothesis_dropdown: ipywidgets.Dropdown
    play: ipywidgets.Play
    box: ipywidgets.VBox

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.box)


def widget(
    ds: xr.Dataset,
    *,
    frames: int | slice | Sequence[int] | None = None,
    max_frames: int | None = None,
    hypotheses: int | Sequence[int] | None = None,
    show_gt: bool = True,
    show_2d: bool = True,
    root_relative: bool = False,
    title: str | None = None,
    select: Mapping[Hashable, Any] | None = None,
) -> ViewerWidget:
    """Live viewer for Jupyter: the :func:`plot` figure as a ``FigureWidget`` with controls.

    The traces are those of :func:`plot`; a slider (with a play button) picks the frame and a
    dropdown the hypotheses ("all", "best", or one). Nothing is serialised per frame, so all
    frames are kept by default (``max_frames=None``). Needs a running kernel: on a static page
    use :func:`plot`.
    {params}
    Returns
    -------
    ViewerWidget

    Examples
    --------
    >>> viewer = zedo_xr.viz.widget(out)                    # doctest: +SKIP
    >>> viewer.frame_slider.value = 10                      # doctest: +SKIP
    >>> viewer                                              # doctest: +SKIP
    """
    go, W = _import_widgets()
    view = _prepare(
        ds, frames=frames, max_frames=max_frames, hypotheses=hypotheses, show_gt=show_gt,
        show_2d=show_2d, root_relative=root_relative, title=title, select=select,
    )
    traces = _base_traces(view)
    for trace, update in zip(traces, _frame_update(view, 0), strict=True):
        trace.update(update)
    figure = go.FigureWidget(data=traces, layout=_layout(view))

    n_frame = len(view.frame_labels)
    slider = W.IntSlider(value=0, min=0, max=n_frame - 1, step=1, description="frame",
                         continuous_update=True, readout=True)
    play = W.Play(value=0, min=0, max=n_frame - 1, step=1, interval=int(view.frame_ms),
                  description="play")
    W.jslink((play, "value"), (slider, "value"))
    dropdown = W.Dropdown(options=_menu_keys(view), value="all", description="hypothesis")

    def show_frame(change: Any) -> None:
        updates = _frame_update(view, int(slider.value))
        with figure.batch_update():
            for trace, update in zip(figure.data, updates, strict=True):
                trace.update({k: v for k, v in update.items() if k != "type"})
            figure.layout.title.text = _title(view, int(slider.value))

    def show_hypotheses(change: Any) -> None:
        with figure.batch_update():
            for trace, visible in zip(
                figure.data, _visibility(view, dropdown.value), strict=True
            ):
                trace.visible = visible

    slider.observe(show_frame, names="value")
    dropdown.observe(show_hypotheses, names="value")
    box = W.VBox([W.HBox([play, slider, dropdown]), figure])
    return ViewerWidget(figure, slider, dropdown, play, box)


widget.__doc__ = (widget.__doc__ or "").replace("{params}", _COMMON_DOC)


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
    go = _import_plotly()
    if isinstance(ds_or_fig, go.Figure):
        if plot_kwargs:
            raise TypeError(
                f"write_html: plot keyword arguments {sorted(plot_kwargs)} need a dataset, "
                "got a figure"
            )
        fig = ds_or_fig
    else:
        fig = plot(ds_or_fig, **plot_kwargs)
    path = Path(path)
    fig.write_html(path, include_plotlyjs=True, full_html=True, auto_play=False,
                   config={"responsive": True, "displaylogo": False})
    return path
