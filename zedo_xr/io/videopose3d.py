"""VideoPose3D ``data_3d_*.npz`` / ``data_2d_*.npz`` files: read and write.

These files store nested dicts as pickled object arrays. They are read here with a restricted
unpickler that only rebuilds numpy arrays, dicts, lists and scalars, so a crafted file cannot
run code (``np.load(allow_pickle=True)`` would).
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.io._common import FRAME_IN_SEQUENCE, SEQUENCE, pose_array
from zedo_xr.io.keypoints import detector_scores
from zedo_xr.schema import (
    CONFIDENCE,
    COORDS_2D,
    FRAME,
    JOINT,
    KEYPOINTS,
    UV,
    SchemaError,
    joint_coord,
    labels,
)
from zedo_xr.skeleton import H36M_LEFT, H36M_RIGHT, get_skeleton, to_h36m

H36M32_TO_17 = (0, 1, 2, 3, 6, 7, 8, 12, 13, 14, 15, 17, 18, 19, 25, 26, 27)
"""VideoPose3D's indices of the 17 used joints in Human3.6M's raw 32-joint skeleton."""
CAMERA = "camera"
SUBJECT = "subject"
ACTION = "action"

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("collections", "OrderedDict"),
}


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from a .npz file")


def _read_npz(path: str | Path) -> dict[str, Any]:
    """Read every member of an ``.npz``; object members via the restricted unpickler."""
    out = {}
    with zipfile.ZipFile(path) as zf:
        for member in zf.namelist():
            key = member.removesuffix(".npy")
            with zf.open(member) as fp:
                buffer = io.BytesIO(fp.read())
            version = np.lib.format.read_magic(buffer)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(buffer)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(buffer)
            if dtype.hasobject:
                value = _ArrayUnpickler(buffer, encoding="latin1").load()
                out[key] = value.item() if isinstance(value, np.ndarray) and not shape else value
            else:
                buffer.seek(0)
                out[key] = np.lib.format.read_array(buffer, allow_pickle=False)
    return out


LAYOUTS: dict[str, str] = {
    "h36m": "h36m17", "humaneva15": "humaneva15", "humaneva20": "humaneva20", "coco": "coco17",
    "mpii": "mpii16",
}  # fmt: skip
"""VideoPose3D's ``metadata['layout_name']`` -> the skeleton its joints follow."""

_LAYOUT_OF_3D_JOINTS = {17: "h36m", 32: "h36m", 15: "humaneva15", 20: "humaneva20"}
_FPS = {"humaneva15": 60.0, "humaneva20": 60.0}  # HumanEva-I is filmed at 60 Hz, Human3.6M at 50


def _to_h36m17(arr: np.ndarray, name: str) -> np.ndarray:
    if arr.shape[1] == 32:
        return arr[:, H36M32_TO_17]
    if arr.shape[1] != 17:
        raise SchemaError(f"{name}: expected 17 or 32 Human3.6M joints, got {arr.shape[1]}")
    return arr


def _layout_joints(arr: np.ndarray, layout: str, name: str) -> np.ndarray:
    """Check the joint count of one array against its layout (32-joint H36M reduced to 17)."""
    if layout == "h36m":
        return _to_h36m17(arr, name)
    n = len(get_skeleton(LAYOUTS[layout]).joints)
    if arr.shape[1] != n:
        raise SchemaError(f"{name}: expected {n} joints (layout {layout!r}), got {arr.shape[1]}")
    return arr


def _layout_name(layout: str | None, path: Any) -> str:
    if layout not in LAYOUTS:
        raise SchemaError(f"{path}: metadata layout_name: expected one of {sorted(LAYOUTS)}, got {layout!r}")
    return layout


def _on_h36m(
    points: xr.DataArray, conf: xr.DataArray | None, layout: str
) -> tuple[xr.DataArray, xr.DataArray]:
    """Points of a layout (joint axis in the layout's order) -> the 17 H36M joints, by name."""
    skel = get_skeleton(LAYOUTS[layout])
    points = points.assign_coords({JOINT: labels(skel.joints)})
    if conf is not None:
        conf = conf.assign_coords({JOINT: labels(skel.joints)})
    h36m, h36m_conf = to_h36m(points, skel, conf)
    h36m.attrs.pop("source_skeleton", None)
    return h36m, h36m_conf


def _flatten(nested: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str, Any]]:
    return [(str(s), str(a), nested[s][a]) for s in sorted(nested) for a in sorted(nested[s])]


def load_videopose3d_3d(
    path: str | Path, *, fps: float | None = None, layout: str | None = None
) -> xr.DataArray:
    """Read a VideoPose3D ``data_3d_*.npz`` (``positions_3d[subject][action] -> (T, J, 3)``).

    Parameters
    ----------
    path
        The ``.npz`` file. 32-joint Human3.6M arrays are reduced to the usual 17 joints;
        HumanEva-I's 15 or 20 joints (``data_3d_humaneva15.npz``) are converted to the H36M
        joints by name (joints HumanEva lacks, such as the nose, are NaN).
    fps
        Frame rate; default the file's ``fps`` entry if any (written by
        :func:`save_videopose3d`), else 60 for HumanEva, 50 for Human3.6M.
    layout
        One of :data:`LAYOUTS`; default from the joint count (17 or 32: ``"h36m"``, 15:
        ``"humaneva15"``, 20: ``"humaneva20"``).

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        All sequences concatenated, with coords ``subject``, ``action``, ``sequence``
        (``"subject/action"``) and ``frame_in_sequence``. Metres, world frame as stored (Z-up
        for Human3.6M).
    """
    data = _read_npz(path)
    if "positions_3d" not in data:
        raise SchemaError(f"{path}: expected a 'positions_3d' entry, got {sorted(data)}")
    items = _flatten(data["positions_3d"])
    if not items:
        raise SchemaError(f"{path}: positions_3d: expected at least one sequence, got none")
    if layout is None:
        layout = _LAYOUT_OF_3D_JOINTS.get(np.asarray(items[0][2]).shape[1], "h36m")
    layout = _layout_name(layout, path)
    arrays = [_layout_joints(np.asarray(x), layout, f"positions_3d[{s}][{a}]") for s, a, x in items]
    lengths = [len(x) for x in arrays]
    if fps is None:
        fps = float(data["fps"]) if "fps" in data else _FPS.get(layout, 50.0)
    positions = np.concatenate(arrays)
    if layout != "h36m":
        da3 = xr.DataArray(positions, dims=(FRAME, JOINT, "coord"))
        positions = _on_h36m(da3, None, layout)[0].transpose(FRAME, JOINT, "coord").values
    meta = data.get("metadata", {})
    da = pose_array(
        positions,
        fps=fps,
        source=f"VideoPose3D 3D file {Path(path).name} (layout {layout})",
        licence=str(meta.get("licence", "unknown (see the data's source)"))
        if isinstance(meta, dict)
        else "unknown (see the data's source)",
        sequence=np.repeat([f"{s}/{a}" for s, a, _ in items], lengths),
        frame_in_sequence=np.concatenate([np.arange(n) for n in lengths]),
    )
    return da.assign_coords(
        {
            SUBJECT: (FRAME, labels(np.repeat([s for s, _, _ in items], lengths))),
            ACTION: (FRAME, labels(np.repeat([a for _, a, _ in items], lengths))),
        }
    )


def _camera_block(cams: list[Any], layout: str, name: str) -> np.ndarray:
    """One action's cameras as ``(T, camera, J, 2|3)``, trimmed to the shortest (as
    VideoPose3D does); a camera without detections (``None``) is all NaN."""
    present = [np.asarray(c, dtype=np.float64) for c in cams if c is not None]
    if not present:
        raise SchemaError(f"{name}: expected keypoints for at least one camera, got none")
    n = min(len(c) for c in present)
    template = np.full_like(present[0][:n], np.nan)
    arrays = [template if c is None else np.asarray(c, dtype=np.float64)[:n] for c in cams]
    return np.stack([_layout_joints(c, layout, name) for c in arrays], 1)


def load_videopose3d_2d(path: str | Path, *, fps: float | None = None) -> xr.Dataset:
    """Read a VideoPose3D ``data_2d_*.npz`` (``positions_2d[subject][action][cam] -> (T, J, 2)``).

    Every layout VideoPose3D writes is read (``metadata['layout_name']``: ``h36m``,
    ``humaneva15``, ``humaneva20``, ``coco`` for its in-the-wild pipeline, ``mpii``), converted
    to the 17 H36M joints by name; joints a layout lacks get NaN and confidence 0. Cameras of
    one action are trimmed to their shortest length (as VideoPose3D does), and a camera without
    detections (``None``) is missing. A third column (if present) is the detector score,
    clipped to [0, 1] as :func:`zedo_xr.io.keypoints.detector_scores` does; otherwise the
    confidence is 1 where the keypoint is finite.

    Returns
    -------
    Dataset
        ``keypoints (frame, camera, joint, uv)`` in pixels and ``confidence (frame, camera,
        joint)``, coords ``subject``, ``action``, ``sequence``, ``frame_in_sequence``;
        ``attrs["metadata"]`` holds the file's metadata dict, ``attrs["skeleton_source"]`` the
        layout's skeleton.
    """
    data = _read_npz(path)
    if "positions_2d" not in data:
        raise SchemaError(f"{path}: expected a 'positions_2d' entry, got {sorted(data)}")
    meta = data.get("metadata", {})
    layout = _layout_name(meta.get("layout_name", "h36m") if isinstance(meta, dict) else "h36m", path)
    blocks, names = [], []
    n_cams = None
    for s, a, cams in _flatten(data["positions_2d"]):
        if n_cams is None:
            n_cams = len(cams)
        elif len(cams) != n_cams:
            raise SchemaError(f"positions_2d[{s}][{a}]: expected {n_cams} cameras, got {len(cams)}")
        blocks.append(_camera_block(list(cams), layout, f"positions_2d[{s}][{a}]"))
        names.append((s, a, len(blocks[-1])))
    if not blocks:
        raise SchemaError(f"{path}: positions_2d: expected at least one sequence, got none")
    arr = np.concatenate(blocks)
    kp = arr[..., :2]
    # A third column is a detector score; ground-truth files have none.
    finite = np.isfinite(kp).all(-1)
    conf = detector_scores(arr[..., 2], "positions_2d scores") if arr.shape[-1] >= 3 else finite * 1.0
    conf = np.where(finite, conf, 0.0)
    dims = (FRAME, CAMERA, JOINT)
    kp_da, conf_da = xr.DataArray(kp, dims=(*dims, UV)), xr.DataArray(conf, dims=dims)
    if layout != "h36m":
        kp_da, conf_da = _on_h36m(kp_da, conf_da, layout)
    lengths = [n for _, _, n in names]
    attrs: dict[str, Any] = {
        "source": f"VideoPose3D 2D file {Path(path).name}",
        "skeleton_source": LAYOUTS[layout],
    }
    if fps is None and "fps" in data:
        fps = float(data["fps"])
    if fps is not None:
        attrs["fps"] = float(fps)
    if isinstance(meta, dict):
        attrs["metadata"] = meta
    return xr.Dataset(
        {
            KEYPOINTS: ((*dims, UV), kp_da.transpose(*dims, UV).values, {"units": "pixels"}),
            CONFIDENCE: (dims, conf_da.transpose(*dims).values),
        },
        coords={
            FRAME: np.arange(len(kp)),
            CAMERA: np.arange(kp.shape[1]),
            JOINT: joint_coord(),
            UV: labels(COORDS_2D),
            SUBJECT: (FRAME, labels(np.repeat([s for s, _, _ in names], lengths))),
            ACTION: (FRAME, labels(np.repeat([a for _, a, _ in names], lengths))),
            SEQUENCE: (FRAME, labels(np.repeat([f"{s}/{a}" for s, a, _ in names], lengths))),
            FRAME_IN_SEQUENCE: (FRAME, np.concatenate([np.arange(n) for n in lengths])),
        },
        attrs=attrs,
    )


def _groups(obj: xr.DataArray | xr.Dataset, subject: str) -> list[tuple[str, str, np.ndarray]]:
    """Frame indices per (subject, action): from coords ``subject``/``action`` or ``sequence``."""
    n = obj.sizes[FRAME]
    subj = obj[SUBJECT].values if SUBJECT in obj.coords else np.full(n, subject, dtype=object)
    if ACTION in obj.coords:
        act = obj[ACTION].values
    elif SEQUENCE in obj.coords:
        act = obj[SEQUENCE].values
    else:
        act = np.full(n, "sequence", dtype=object)
    keys = list(dict.fromkeys(zip(subj.tolist(), act.tolist(), strict=True)))
    return [(str(s), str(a), np.flatnonzero((subj == s) & (act == a))) for s, a in keys]


def save_videopose3d(
    path: str | Path,
    data: xr.DataArray | xr.Dataset,
    *,
    subject: str = "S1",
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write poses in VideoPose3D's npz format.

    Parameters
    ----------
    path
        Output ``.npz``.
    data
        A 3D DataArray ``(frame, joint, coord)`` -> ``data_3d`` format (``positions_3d``); or a
        Dataset with ``keypoints (frame, [camera,] joint, uv)`` -> ``data_2d`` format
        (``positions_2d``, ``metadata``). Frames are grouped into actions by the ``action`` or
        ``sequence`` coord, into subjects by the ``subject`` coord (else ``subject``).
    metadata
        Extra metadata entries (2D: merged into VideoPose3D's ``metadata``).
    """
    extra: dict[str, Any] = {}
    fps = data.attrs.get("fps")
    if fps is not None:
        extra["fps"] = np.float64(fps)
    if isinstance(data, xr.DataArray):
        values = data.transpose(FRAME, JOINT, "coord").values.astype(np.float32)
        positions: dict[str, dict[str, np.ndarray]] = {}
        for s, a, idx in _groups(data, subject):
            positions.setdefault(s, {})[a] = values[idx]
        meta = {"licence": data.attrs.get("licence", ""), "source": data.attrs.get("source", "")}
        meta.update(metadata or {})
        np.savez_compressed(path, positions_3d=_object(positions), metadata=_object(meta), **extra)
        return
    kp = data[KEYPOINTS]
    if CAMERA not in kp.dims:
        kp = kp.expand_dims(CAMERA, axis=1)
    values = kp.transpose(FRAME, CAMERA, JOINT, UV).values.astype(np.float32)
    positions_2d: dict[str, dict[str, list[np.ndarray]]] = {}
    for s, a, idx in _groups(data, subject):
        positions_2d.setdefault(s, {})[a] = [values[idx, c] for c in range(values.shape[1])]
    meta = {
        "layout_name": "h36m",
        "num_joints": values.shape[2],
        "keypoints_symmetry": [list(H36M_LEFT), list(H36M_RIGHT)],
    }
    meta.update(metadata or {})
    np.savez_compressed(path, positions_2d=_object(positions_2d), metadata=_object(meta), **extra)


def _object(value: Any) -> np.ndarray:
    """A dict as the 0-d object array that VideoPose3D files hold (numpy would make the same)."""
    out = np.empty((), dtype=object)
    out[()] = value
    return out
