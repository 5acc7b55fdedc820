"""Interoperability with movement (neuroinformatics-unit) pose datasets.

movement >= 0.17 names its dims ``(time, space, keypoint, individual)``; earlier versions used
``keypoints`` and ``individuals``. Both are read (keypoint names of any known skeleton are
converted to H36M by name, so ``lift`` takes a movement dataset directly); :func:`to_movement`
writes a 3D movement dataset with the dim names of the installed movement (singular without one).
``time`` is in seconds when ``attrs["time_unit"] == "seconds"`` (with ``fps``), else in frames.
movement itself is only imported to check its version, lazily.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import xarray as xr

from zedo_xr.io.keypoints import detector_scores
from zedo_xr.schema import (
    BEST_HYPOTHESIS,
    CONFIDENCE,
    COORD,
    COORDS_2D,
    COORDS_3D,
    FRAME,
    HYPOTHESIS,
    INDIVIDUAL,
    JOINT,
    KEYPOINTS,
    POSE3D,
    UV,
    SchemaError,
    labels,
)
from zedo_xr.skeleton import skeleton_of, to_h36m

_RENAMES = {"time": FRAME, "keypoint": JOINT, "keypoints": JOINT, "individuals": INDIVIDUAL}


def _seconds(ds: xr.Dataset) -> bool:
    unit = ds.attrs.get("time_unit")
    if unit is not None:
        return unit == "seconds"
    return "time" in ds.coords and ds["time"].dtype.kind == "f"


def from_movement(ds: xr.Dataset, *, skeleton: str | None = None, individual: Any = None) -> xr.Dataset:
    """Convert a movement poses dataset to the zedo-xr data model.

    Parameters
    ----------
    ds
        movement dataset: ``position (time, space, keypoint[s], individual[s])`` and optional
        ``confidence (time, keypoint[s], individual[s])``, old or new dim names.
    skeleton
        Source skeleton of the keypoint names (e.g. ``"coco17"``), converted to H36M by name
        with :func:`zedo_xr.skeleton.to_h36m`. Default: the smallest known skeleton that has
        every keypoint name (:func:`zedo_xr.skeleton.skeleton_of`); H36M names (any subset)
        are taken as they are. Missing joints get NaN and confidence 0.
    individual
        Select one individual by name. Otherwise a single individual is squeezed (kept as a
        scalar coord) and several stay as an ``individual`` dim.

    Returns
    -------
    Dataset
        2D: ``keypoints (frame, ..., joint, uv)`` and ``confidence``; 3D: ``pose3d`` (metres,
        ``(frame, ..., joint, coord)``) and ``confidence``. ``time`` in seconds is kept as a
        coord when the input used seconds; ``frame`` holds integer frame numbers.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from zedo_xr.skeleton import COCO17_JOINTS
    >>> mv = xr.Dataset(
    ...     {"position": (("time", "space", "keypoint", "individual"), np.full((3, 2, 17, 1), 400.0))},
    ...     coords={"time": [0, 1, 2], "space": ["x", "y"], "keypoint": list(COCO17_JOINTS),
    ...             "individual": ["id_0"]})
    >>> ds = from_movement(mv)           # COCO-17 names, recognised
    >>> dict(ds.keypoints.sizes), ds.attrs["skeleton_source"]
    ({'frame': 3, 'joint': 17, 'uv': 2}, 'coco17')
    """
    if "position" not in ds:
        raise SchemaError(f"dataset: expected a movement 'position' variable, got {list(ds.data_vars)}")
    if "space" not in ds["position"].dims:
        raise SchemaError(f"position: expected a 'space' dim, got {ds['position'].dims}")
    fps = ds.attrs.get("fps")
    seconds = _seconds(ds)
    out = ds.rename({k: v for k, v in _RENAMES.items() if k in ds.dims})
    n_space = out.sizes["space"]
    if n_space not in (2, 3):
        raise SchemaError(f"position: expected 2 or 3 entries along 'space', got {n_space}")
    spatial = UV if n_space == 2 else COORD
    out = out.rename({"space": spatial}).assign_coords(
        {spatial: labels(COORDS_2D if n_space == 2 else COORDS_3D)}
    )
    # time -> integer frames; seconds kept as a non-index 'time' coord.
    times = out[FRAME].values if FRAME in out.coords else np.arange(out.sizes[FRAME])
    if seconds:
        if not fps:
            raise SchemaError("time: given in seconds but attrs has no 'fps' to convert to frames")
        frames = np.rint(np.asarray(times, dtype=float) * float(fps)).astype(np.int64)
        out = out.assign_coords({FRAME: frames, "time": (FRAME, np.asarray(times, float))})
    else:
        out = out.assign_coords({FRAME: np.asarray(times).astype(np.int64)})
    if individual is not None:
        out = out.sel({INDIVIDUAL: individual})
    elif INDIVIDUAL in out.dims and out.sizes[INDIVIDUAL] == 1:
        out = out.isel({INDIVIDUAL: 0})
    points = out["position"]
    conf = _confidence(out.get(CONFIDENCE, None), points, spatial)
    if JOINT not in points.coords:
        raise SchemaError(f"position: expected a '{JOINT}' coordinate with keypoint names, got none")
    skel = skeleton if skeleton is not None else skeleton_of(points[JOINT].values)
    points, conf = to_h36m(points, skel, conf)
    points = points.transpose(FRAME, ..., JOINT, spatial)
    conf = conf.transpose(FRAME, ..., JOINT)
    var = KEYPOINTS if n_space == 2 else POSE3D
    attrs = {k: v for k, v in ds.attrs.items() if k not in ("time_unit",)}
    attrs["skeleton_source"] = points.attrs.pop("source_skeleton")
    result = xr.Dataset(
        {
            var: points.assign_attrs(units="pixels" if n_space == 2 else "m"),
            CONFIDENCE: conf.assign_attrs({}),
        },
        attrs=attrs,
    )
    return result


def is_movement_dataset(ds: object) -> bool:
    """True for a movement poses dataset (a ``position`` variable with a ``space`` dim)."""
    return isinstance(ds, xr.Dataset) and "position" in ds and "space" in ds["position"].dims


def _confidence(conf: xr.DataArray | None, points: xr.DataArray, spatial: str) -> xr.DataArray | None:
    """movement's confidence (per keypoint, or per individual in movement >= 0.17) in [0, 1]."""
    if conf is None:
        return None
    conf = conf.copy(data=detector_scores(conf.values))
    if JOINT not in conf.dims:  # one score per individual: every keypoint gets it
        conf = conf.broadcast_like(points.isel({spatial: 0}, drop=True))
    return conf


def _movement_dim_style() -> str:
    try:
        from importlib.metadata import version

        major, minor = (int(x) for x in version("movement").split(".")[:2])
    except Exception:  # not installed or odd version: use the current names
        return "singular"
    return "singular" if (major, minor) >= (0, 17) else "plural"


def to_movement(
    lifted: xr.Dataset,
    hypothesis: Literal["best"] | int | None = "best",
    *,
    dim_style: Literal["auto", "singular", "plural"] = "auto",
) -> xr.Dataset:
    """Convert a lifted dataset (``pose3d``) to a movement 3D poses dataset.

    Parameters
    ----------
    lifted
        Dataset with ``pose3d (frame, hypothesis, joint, coord)`` and optionally
        ``best_hypothesis (frame,)``, ``confidence (frame, joint)``, an ``individual`` dim.
    hypothesis
        ``"best"``: per frame the ``best_hypothesis`` (or hypothesis 0 if absent); an int: that
        hypothesis; None: keep ``hypothesis`` as an extra dim.
    dim_style
        ``"singular"`` (movement >= 0.17: ``keypoint``, ``individual``), ``"plural"``
        (``keypoints``, ``individuals``) or ``"auto"`` (from the installed movement version,
        singular when it is absent).

    Returns
    -------
    Dataset
        ``position (time, space, keypoint, individual[, hypothesis])`` in metres (camera frame)
        and ``confidence (time, keypoint, individual)``; ``time`` in seconds if
        ``attrs["fps"]`` is known, else frames; attrs ``ds_type="poses"``,
        ``source_software="zedo_xr"``, ``fps``, ``time_unit`` and a JSON ``log``.
    """
    if POSE3D not in lifted:
        raise SchemaError(
            f"dataset: expected a '{POSE3D}' variable (lift the dataset first), got {list(lifted.data_vars)}"
        )
    pose = lifted[POSE3D]
    if HYPOTHESIS in pose.dims and hypothesis is not None:
        if hypothesis == "best":
            if BEST_HYPOTHESIS in lifted:
                pose = pose.isel({HYPOTHESIS: lifted[BEST_HYPOTHESIS].astype(int)})
            else:
                pose = pose.isel({HYPOTHESIS: 0})
        elif isinstance(hypothesis, int | np.integer):
            pose = pose.isel({HYPOTHESIS: int(hypothesis)})
        else:
            raise ValueError(f"hypothesis: expected 'best', an int or None, got {hypothesis!r}")
        pose = pose.drop_vars(HYPOTHESIS, errors="ignore")
    if CONFIDENCE in lifted:
        conf = lifted[CONFIDENCE]
    else:
        conf = xr.where(pose.notnull().all(COORD), 1.0, 0.0)
        if HYPOTHESIS in conf.dims:
            conf = conf.all(HYPOTHESIS).astype(float)
    if INDIVIDUAL not in pose.dims:
        name = lifted.coords[INDIVIDUAL].item() if INDIVIDUAL in lifted.coords else "id_0"
        pose = pose.drop_vars(INDIVIDUAL, errors="ignore").expand_dims({INDIVIDUAL: [name]}, axis=-1)
        conf = conf.drop_vars(INDIVIDUAL, errors="ignore").expand_dims({INDIVIDUAL: [name]}, axis=-1)
    style = _movement_dim_style() if dim_style == "auto" else dim_style
    if style not in ("singular", "plural"):
        raise ValueError(f"dim_style: expected 'auto', 'singular' or 'plural', got {dim_style!r}")
    kp_dim, ind_dim = ("keypoint", "individual") if style == "singular" else ("keypoints", "individuals")
    fps = lifted.attrs.get("fps")
    frames = lifted[FRAME].values if FRAME in lifted.coords else np.arange(lifted.sizes[FRAME])
    time = frames / float(fps) if fps else frames
    extra = [d for d in pose.dims if d not in (FRAME, COORD, JOINT, INDIVIDUAL)]
    renames = {FRAME: "time", COORD: "space", JOINT: kp_dim, INDIVIDUAL: ind_dim}
    coords = {
        "time": time,
        "space": labels(COORDS_3D),
        kp_dim: labels(str(j) for j in pose[JOINT].values),
        ind_dim: _individual_labels(pose[INDIVIDUAL].values),
        **{d: pose[d].values for d in extra if d in pose.coords},
    }
    position = _renamed(pose, renames, ("time", "space", kp_dim, ind_dim, *extra))
    confidence = _renamed(conf, renames, ("time", kp_dim, ind_dim, ...))
    log = json.loads(lifted.attrs.get("log", "[]")) if isinstance(lifted.attrs.get("log"), str) else []
    log.append(
        {
            "operation": "zedo_xr.io.to_movement",
            "datetime": datetime.now(UTC).isoformat(),
            "hypothesis": repr(hypothesis),
        }
    )
    attrs: dict[str, Any] = {
        "ds_type": "poses",
        "source_software": "zedo_xr",
        "time_unit": "seconds" if fps else "frames",
        "log": json.dumps(log),
    }
    if fps:
        attrs["fps"] = float(fps)
    return xr.Dataset(
        {"position": position.assign_attrs({}), CONFIDENCE: confidence.assign_attrs({})},
        coords=coords,
        attrs=attrs,
    )


def _individual_labels(values: np.ndarray) -> np.ndarray:
    """movement names individuals with strings (``id_0``...); integer track ids become strings."""
    return labels(v if isinstance(v, str) else f"id_{v}" for v in values.tolist())


def _renamed(da: xr.DataArray, renames: dict[str, str], order: tuple[Any, ...]) -> xr.DataArray:
    """``da`` without coords, its dims renamed and ordered (the caller sets movement's coords).

    Coords are dropped first because a lifted dataset can carry a ``time`` coord along
    ``frame`` (from :func:`from_movement`), which a rename of ``frame`` to ``time`` would clash
    with.
    """
    bare = da.reset_coords(drop=True)
    bare = bare.drop_vars(list(bare.coords))
    return bare.rename({k: v for k, v in renames.items() if k in bare.dims}).transpose(*order)
