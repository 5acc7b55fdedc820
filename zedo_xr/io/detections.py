"""2D detections: COCO keypoint JSON and OpenPose BODY-25 JSON, converted to H36M by name.

Both readers return datasets of the data model: ``keypoints (frame, joint, uv)`` in pixels and
``confidence (frame, joint)``, H36M joints (joints the source lacks, e.g. the head top, get NaN
and confidence 0). Several people per frame add an ``individual`` dim (padded with NaN /
confidence 0); a single person is kept as a scalar ``individual`` coord.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.schema import (
    CONFIDENCE,
    COORDS_2D,
    FRAME,
    INDIVIDUAL,
    JOINT,
    KEYPOINTS,
    UV,
    SchemaError,
    labels,
)


def _to_dataset(
    points: np.ndarray,
    conf: np.ndarray,
    skeleton: str,
    frame_coords: dict[str, Any],
    attrs: dict[str, Any],
    extra: dict[str, tuple[tuple[str, ...], np.ndarray]] | None = None,
) -> xr.Dataset:
    """``(frame, individual, joint, 2)`` source points -> H36M dataset (squeezing 1 person)."""
    from zedo_xr.skeleton import get_skeleton, to_h36m

    names = get_skeleton(skeleton).joints
    dims = (FRAME, INDIVIDUAL, JOINT)
    pts = xr.DataArray(
        points, dims=(*dims, UV), coords={JOINT: labels(names), UV: labels(COORDS_2D)}
    )
    cf = xr.DataArray(conf, dims=dims, coords={JOINT: labels(names)})
    h36m, h36m_conf = to_h36m(pts, skeleton, cf)
    ds = xr.Dataset(
        {
            KEYPOINTS: h36m.transpose(FRAME, INDIVIDUAL, JOINT, UV).assign_attrs(units="pixels"),
            CONFIDENCE: h36m_conf.transpose(FRAME, INDIVIDUAL, JOINT),
        },
        coords={FRAME: np.arange(points.shape[0]), INDIVIDUAL: np.arange(points.shape[1])},
        attrs=attrs,
    )
    for name, (vdims, values) in (extra or {}).items():
        ds[name] = (vdims, values)
    ds = ds.assign_coords({k: (FRAME, v) for k, v in frame_coords.items()})
    if ds.sizes[INDIVIDUAL] == 1:
        ds = ds.isel({INDIVIDUAL: 0})
    return ds


# ------------------------------------------------------------------------------------ COCO
def load_coco_keypoints(
    path: str | Path, image_id: int | Iterable[int] | None = None
) -> xr.Dataset:
    """Read COCO person keypoints (ground-truth file or detector results) as H36M 2D keypoints.

    Parameters
    ----------
    path
        A COCO annotation file (``{"images", "annotations", "categories"}``) or a results list
        (``[{"image_id", "keypoints", "score"}, ...]``). ``keypoints`` has 51 numbers
        ``[x, y, v] * 17``.
    image_id
        One image id or several; default every image with annotations. Frames follow the
        order of ``image_id`` if given, else sorted ids.

    Returns
    -------
    Dataset
        ``keypoints (frame, [individual,] joint, uv)``, ``confidence``; coords ``image_id`` and
        (from annotation files) ``file_name`` along ``frame``. Ground-truth visibility ``v``:
        0 (not labelled) -> NaN and confidence 0, 1 or 2 -> confidence 1. Detector results:
        the per-joint score, clipped to [0, 1]. ``score`` (frame, individual) if present.
    """
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        annotations = data.get("annotations")
        if annotations is None:
            raise SchemaError(f"{path}: expected an 'annotations' list, got keys {sorted(data)}")
        files = {img["id"]: img.get("file_name", "") for img in data.get("images", [])}
        for cat in data.get("categories", []):
            if cat.get("keypoints") and len(cat["keypoints"]) != 17:
                raise SchemaError(
                    f"{path}: category {cat.get('name')!r} has {len(cat['keypoints'])} "
                    "keypoints; expected the 17 COCO keypoints"
                )
    else:
        annotations, files = data, {}
    annotations = [a for a in annotations if "keypoints" in a]
    if image_id is None:
        ids = sorted({a["image_id"] for a in annotations})
    else:
        ids = [image_id] if isinstance(image_id, int | np.integer) else list(image_id)
    per_image: dict[Any, list[dict]] = {i: [] for i in ids}
    for ann in annotations:
        if ann["image_id"] in per_image:
            per_image[ann["image_id"]].append(ann)
    if not ids:
        raise SchemaError(f"{path}: no keypoint annotations found")
    n_people = max(1, *(len(v) for v in per_image.values()))
    points = np.full((len(ids), n_people, 17, 2), np.nan)
    conf = np.zeros((len(ids), n_people, 17))
    score = np.full((len(ids), n_people), np.nan)
    values = [np.asarray(a["keypoints"], float) for a in annotations]
    if any(v.size != 51 for v in values):
        raise SchemaError(f"{path}: expected 51 keypoint numbers per annotation ([x, y, v] x 17)")
    # Ground truth has integer visibility flags; detector results have float scores.
    ground_truth = all(np.isin(v[2::3], (0, 1, 2)).all() for v in values) and not any(
        "score" in a for a in annotations
    )
    for f, i in enumerate(ids):
        for p, ann in enumerate(per_image[i]):
            kp = np.asarray(ann["keypoints"], float).reshape(17, 3)
            c = (kp[:, 2] > 0).astype(float) if ground_truth else np.clip(kp[:, 2], 0, 1)
            xy = kp[:, :2].copy()
            xy[c <= 0] = np.nan
            points[f, p], conf[f, p] = xy, c
            if "score" in ann:
                score[f, p] = ann["score"]
    frame_coords: dict[str, Any] = {"image_id": np.asarray(ids)}
    if files:
        frame_coords["file_name"] = labels(str(files.get(i, "")) for i in ids)
    extra: dict[str, tuple[tuple[str, ...], np.ndarray]] | None = (
        {"score": ((FRAME, INDIVIDUAL), score)} if np.isfinite(score).any() else None
    )
    return _to_dataset(
        points,
        conf,
        "coco17",
        frame_coords,
        {"source": f"COCO keypoints {Path(path).name}", "skeleton_source": "coco17"},
        extra,
    )


# ------------------------------------------------------------------------------------ OpenPose
_FRAME_NUMBER = re.compile(r"(\d+)(?=_keypoints\.json$|\.json$)")


def _openpose_files(path_or_dir: str | Path) -> Sequence[Path]:
    path = Path(path_or_dir)
    if path.is_dir():
        files = sorted(path.glob("*.json"))
        if not files:
            raise FileNotFoundError(f"{path}: no OpenPose *.json files")
        return files
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    return [path]


def load_openpose(path_or_dir: str | Path, *, fps: float | None = None) -> xr.Dataset:
    """Read OpenPose BODY-25 JSON (one file per frame) as H36M 2D keypoints.

    Parameters
    ----------
    path_or_dir
        One ``*_keypoints.json`` file or a directory of them (sorted by name = frame order).
    fps
        Frame rate to store in attrs, if known.

    Returns
    -------
    Dataset
        ``keypoints (frame, [individual,] joint, uv)`` pixels and ``confidence``; OpenPose's
        ``(0, 0, 0)`` for undetected joints becomes NaN with confidence 0. Coords
        ``file_name`` and (when the names end in a number) ``frame_number`` along ``frame``.
        People are indexed in file order (OpenPose does not track identities).
    """
    files = _openpose_files(path_or_dir)
    frames = []
    for file in files:
        people = json.loads(file.read_text()).get("people", [])
        arrays = []
        for person in people:
            kp = np.asarray(person.get("pose_keypoints_2d", []), float)
            if kp.size != 75:
                raise SchemaError(
                    f"{file.name}: pose_keypoints_2d has {kp.size} numbers; expected 75 "
                    "(BODY-25: [x, y, c] x 25)"
                )
            arrays.append(kp.reshape(25, 3))
        frames.append(arrays)
    n_people = max(1, *(len(f) for f in frames))
    raw = np.zeros((len(files), n_people, 25, 3))
    for f, arrays in enumerate(frames):
        for p, kp in enumerate(arrays):
            raw[f, p] = kp
    conf = np.clip(raw[..., 2], 0, 1)
    points = raw[..., :2].copy()
    points[conf <= 0] = np.nan
    frame_coords: dict[str, Any] = {"file_name": labels(f.name for f in files)}
    numbers = [_FRAME_NUMBER.search(f.name) for f in files]
    if all(numbers):
        frame_coords["frame_number"] = np.array([int(m.group(1)) for m in numbers if m])
    attrs: dict[str, Any] = {
        "source": f"OpenPose BODY-25 JSON {Path(path_or_dir).name}",
        "skeleton_source": "openpose25",
    }
    if fps is not None:
        attrs["fps"] = float(fps)
    return _to_dataset(points, conf, "openpose25", frame_coords, attrs)
