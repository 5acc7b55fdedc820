"""2D detections: COCO-format keypoint JSON (COCO, Halpe, COCO-WholeBody) and OpenPose BODY-25
JSON, converted to H36M by name through :func:`zedo_xr.keypoints_dataset`.

Both readers return datasets of the data model: ``keypoints (frame, joint, uv)`` in pixels and
``confidence (frame, joint)``, H36M joints (joints the source lacks, e.g. the head top, get NaN
and confidence 0). Several people per frame add an ``individual`` dim (padded with NaN /
confidence 0); a single person is kept as a scalar ``individual`` coord.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.io.keypoints import detector_scores, keypoints_dataset
from zedo_xr.schema import FRAME, INDIVIDUAL, SchemaError, labels


def _to_dataset(
    points: np.ndarray,
    conf: np.ndarray,
    skeleton: str,
    frame_coords: dict[str, Any],
    attrs: dict[str, Any],
    extra: dict[str, tuple[tuple[str, ...], np.ndarray]] | None = None,
    individuals: Sequence[Any] | None = None,
) -> xr.Dataset:
    """``(frame, individual, joint, 2)`` source points -> H36M dataset (squeezing 1 person)."""
    ds = keypoints_dataset(points, skeleton, confidence=conf, individuals=individuals, attrs=attrs)
    for name, (vdims, values) in (extra or {}).items():
        ds[name] = (vdims, values)
    ds = ds.assign_coords({k: (FRAME, v) for k, v in frame_coords.items()})
    if ds.sizes[INDIVIDUAL] == 1:
        ds = ds.isel({INDIVIDUAL: 0})
    return ds


# ------------------------------------------------------------------------------------ COCO
COCO_FORMATS: dict[int, str] = {
    17: "coco17", 26: "halpe26", 133: "coco_wholebody133", 136: "halpe136",
}  # fmt: skip
"""Keypoints per annotation -> skeleton: COCO, Halpe-26 (AlphaPose's default), COCO-WholeBody,
Halpe-136."""

_NUMBER = re.compile(r"(\d+)")


def _natural_key(value: Any) -> tuple[Any, ...]:
    """Sort key that puts ``"frame_2.jpg"`` before ``"frame_10.jpg"`` (AlphaPose's image ids)."""
    if isinstance(value, int | float | np.integer):
        return (0, value)
    parts = _NUMBER.split(str(value))
    return (1, *((0, int(p)) if p.isdigit() else (1, p) for p in parts))


def _read_coco_json(path: Path) -> tuple[list[dict], dict[Any, str]]:
    """Annotations with keypoints and ``{image id: file name}`` of a COCO file or results list."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise SchemaError(f"{path}: expected COCO keypoint JSON, got invalid JSON ({err})") from None
    if isinstance(data, dict):
        annotations = data.get("annotations")
        if not isinstance(annotations, list):
            raise SchemaError(f"{path}: expected an 'annotations' list, got keys {sorted(data)}")
        files = {img["id"]: img.get("file_name", "") for img in data.get("images", [])}
    elif isinstance(data, list):
        annotations, files = data, {}
    else:
        raise SchemaError(
            f"{path}: expected a COCO annotation dict or a results list, got {type(data).__name__}"
        )
    if not all(isinstance(a, dict) for a in annotations):
        raise SchemaError(f"{path}: expected annotations as JSON objects, got another JSON type")
    return [a for a in annotations if "keypoints" in a], files


def _skeleton_of_count(path: Path, annotations: list[dict]) -> str:
    counts = sorted({len(a["keypoints"]) for a in annotations})
    if len(counts) != 1 or counts[0] % 3 or counts[0] // 3 not in COCO_FORMATS:
        expected = ", ".join(f"{3 * k} ({v})" for k, v in COCO_FORMATS.items())
        raise SchemaError(
            f"{path}: keypoints: expected {expected} numbers per annotation ([x, y, score] per "
            f"keypoint, the same in every annotation), got {counts}"
        )
    return COCO_FORMATS[counts[0] // 3]


def _track_id(ann: dict) -> Any:
    """AlphaPose's ``idx`` (an int, a float or a one-element list) as an int, else None."""
    idx = ann.get("idx")
    if isinstance(idx, list):
        idx = idx[0] if len(idx) == 1 else None
    return int(idx) if isinstance(idx, int | float) and float(idx).is_integer() else None


def _slots(per_image: dict[Any, list[dict]]) -> tuple[list[Any], list[dict[int, int]]]:
    """Individuals and, per image, annotation index -> individual slot.

    With AlphaPose track ids (``idx`` on every annotation, unique within each image) the
    individuals are the ids and a person keeps its slot across frames; otherwise (no ids, or
    ids repeated within an image, which are not tracks) the order within each image.
    """
    ids = [[_track_id(a) for a in anns] for anns in per_image.values()]
    tracked = any(ids) and all(None not in image and len(set(image)) == len(image) for image in ids)
    if tracked:
        tracks = sorted({t for image in ids for t in image})
        col = {t: c for c, t in enumerate(tracks)}
        return tracks, [{n: col[t] for n, t in enumerate(image)} for image in ids]
    n_people = max([1, *(len(v) for v in per_image.values())])
    return list(range(n_people)), [{n: n for n in range(len(v))} for v in per_image.values()]


def load_coco_keypoints(path: str | Path, image_id: Any = None, *, skeleton: str | None = None) -> xr.Dataset:
    """Read COCO-format person keypoints (ground truth or detector results) as H36M 2D keypoints.

    Parameters
    ----------
    path
        A COCO annotation file (``{"images", "annotations", "categories"}``) or a results list
        (``[{"image_id", "keypoints", "score"}, ...]``, as written by MMPose, Detectron2,
        ViTPose or AlphaPose). ``keypoints`` holds ``[x, y, v]`` per keypoint: 17 (COCO),
        26 (Halpe-26, AlphaPose's default), 133 (COCO-WholeBody) or 136 (Halpe-136).
    image_id
        One image id or several; default every image with annotations. Frames follow the
        order of ``image_id`` if given, else the ids sorted, numbers within names in numeric
        order (``"2.jpg"`` before ``"10.jpg"``).
    skeleton
        The joint set, if not the one told by the number of keypoints.

    Returns
    -------
    Dataset
        ``keypoints (frame, [individual,] joint, uv)``, ``confidence``; coords ``image_id`` and
        (from annotation files) ``file_name`` along ``frame``. With AlphaPose's track ids
        (``idx`` on every result, unique within each image), ``individual`` holds the ids and
        each person keeps its slot across frames; otherwise people are indexed in file order. Ground-truth
        visibility ``v``: 0 (not labelled) -> NaN and confidence 0, 1 or 2 -> confidence 1.
        Detector results: the per-keypoint score; scores up to 1.5 are clipped to 1 with one
        warning (heatmap detectors overshoot 1 slightly), larger ones are refused. ``score``
        (frame, [individual]) if present.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> person = [v for j in range(26) for v in (300.0 + j, 400.0 + 5 * j, 0.9)]
    >>> results = [{"image_id": f"{i}.jpg", "category_id": 1, "keypoints": person, "score": 2.8,
    ...             "idx": 1} for i in range(3)]
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "alphapose-results.json"
    >>> _ = path.write_text(json.dumps(results))
    >>> ds = load_coco_keypoints(path)         # Halpe-26, one tracked person
    >>> dict(ds.keypoints.sizes), ds.attrs["skeleton_source"], int(ds.individual)
    ({'frame': 3, 'joint': 17, 'uv': 2}, 'halpe26', 1)
    """
    path = Path(path)
    annotations, files = _read_coco_json(path)
    if not annotations:
        raise SchemaError(f"{path}: expected keypoint annotations, got none")
    skel = skeleton or _skeleton_of_count(path, annotations)
    n_joints = len(annotations[0]["keypoints"]) // 3
    if image_id is None:
        ids = sorted({a["image_id"] for a in annotations}, key=_natural_key)
    else:
        ids = [image_id] if isinstance(image_id, int | str | np.integer) else list(image_id)
    per_image: dict[Any, list[dict]] = {i: [] for i in ids}
    for ann in annotations:
        if ann["image_id"] in per_image:
            per_image[ann["image_id"]].append(ann)
    individuals, slots = _slots(per_image)
    raw = np.zeros((len(ids), len(individuals), n_joints, 3))
    score = np.full((len(ids), len(individuals)), np.nan)
    for f, (anns, slot) in enumerate(zip(per_image.values(), slots, strict=True)):
        for n, p in slot.items():
            raw[f, p] = np.asarray(anns[n]["keypoints"], float).reshape(n_joints, 3)
            score[f, p] = anns[n].get("score", np.nan)
    # Ground truth has integer visibility flags; detector results have float scores.
    flags = raw[..., 2]
    ground_truth = np.isin(flags, (0, 1, 2)).all() and not any("score" in a for a in annotations)
    if ground_truth:
        conf = (flags > 0).astype(float)
    else:
        conf = detector_scores(flags, f"{path.name}: keypoint scores")
    points = raw[..., :2].copy()
    points[conf <= 0] = np.nan
    frame_coords: dict[str, Any] = {
        "image_id": labels(ids) if any(isinstance(i, str) for i in ids) else np.asarray(ids)
    }
    if files:
        frame_coords["file_name"] = labels(str(files.get(i, "")) for i in ids)
    extra: dict[str, tuple[tuple[str, ...], np.ndarray]] | None = (
        {"score": ((FRAME, INDIVIDUAL), score)} if np.isfinite(score).any() else None
    )
    attrs = {"source": f"COCO-format keypoints {path.name}"}
    return _to_dataset(points, conf, skel, frame_coords, attrs, extra, individuals)


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


def _openpose_people(file: Path) -> list[dict]:
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as err:
        raise SchemaError(f"{file.name}: expected OpenPose JSON, got invalid JSON ({err})") from None
    if isinstance(data, list):
        raise SchemaError(
            f"{file.name}: expected an OpenPose object with a 'people' list, got a list (COCO-format "
            "results? read them with load_coco_keypoints, or zedo lift --format coco)"
        )
    if not isinstance(data, dict) or not isinstance(data.get("people", []), list):
        raise SchemaError(f"{file.name}: expected an OpenPose object with a 'people' list")
    return data.get("people", [])


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
        people = _openpose_people(file)
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
    conf = detector_scores(raw[..., 2], f"{Path(path_or_dir).name}: keypoint scores")
    points = raw[..., :2].copy()
    points[conf <= 0] = np.nan
    frame_coords: dict[str, Any] = {"file_name": labels(f.name for f in files)}
    numbers = [_FRAME_NUMBER.search(f.name) for f in files]
    if all(numbers):
        frame_coords["frame_number"] = np.array([int(m.group(1)) for m in numbers if m])
    attrs: dict[str, Any] = {"source": f"OpenPose BODY-25 JSON {Path(path_or_dir).name}"}
    if fps is not None:
        attrs["fps"] = float(fps)
    return _to_dataset(points, conf, "openpose25", frame_coords, attrs)
