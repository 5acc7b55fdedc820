"""Interoperability with movement (neuroinformatics-unit) pose datasets.

movement >= 0.17 names its dims ``(time, space, keypoint, individual)``; earlier versions used
``keypoints`` and ``individuals``. Both are read; :func:`to_movement` writes the singular names
unless asked otherwise (or an installed movement is older). ``time`` is in seconds when
``attrs["time_unit"] == "seconds"`` (with ``fps``), else in frames. movement itself is only
imported to check its version, lazily.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
import xarray as xr

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
    joint_coord,
    labels,
)
from zedo_xr.skeleton import H36M_JOINTS

_RENAMES = {"time": FRAME, "keypoint": JOINT, "keypoints": JOINT, "individuals": INDIVIDUAL}


def _seconds(ds: xr.Dataset) -> bool:
    unit = ds.attrs.get("time_unit")
    if unit is not None:
        return unit == "seconds"
    return "time" in ds.coords and ds["time"].dtype.kind == "f"


def from_movement(
    ds: xr.Dataset, *, skeleton: str | None = None, individual: Any = None
) -> xr.Dataset:
    """Convert a movement poses dataset to the zedo-xr data model.

    Parameters
    ----------
    ds
        movement dataset: ``position (time, space, keypoint[s], individual[s])`` and optional
        ``confidence (time, keypoint[s], individual[s])``, old or new dim names.
    skeleton
        Source skeleton of the keypoint names (e.g. ``"coco17"``), converted to H36M by name
        with :func:`zedo_xr.skeleton.to_h36m`. Default: the keypoints must already carry H36M
        names (any subset; missing joints get NaN and confidence 0).
    individual
        Select one individual by name. Otherwise a single individual is squeezed (kept as a
        scalar coord) and several stay as an ``individual`` dim.

    Returns
    -------
    Dataset
        2D: ``keypoints (frame, ..., joint, uv)`` and ``confidence``; 3D: ``pose3d`` (metres,
        ``(frame, ..., joint, coord)``) and ``confidence``. ``time`` in seconds is kept as a
        coord when the input used seconds; ``frame`` holds integer frame numbers.
    """
    if "position" not in ds:
        raise SchemaError(
            f"dataset: expected a movement 'position' variable, got {list(ds.data_vars)}"
        )
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
    conf = out.get(CONFIDENCE, None)
    if conf is not None:
        conf = conf.fillna(0.0)
    names = [str(n) for n in out[JOINT].values] if JOINT in out.coords else None
    if skeleton is not None:
        from zedo_xr.skeleton import to_h36m

        points, conf = to_h36m(points, skeleton, conf)
    else:
        unknown = [n for n in (names or []) if n not in H36M_JOINTS]
        if names is None or unknown:
            raise SchemaError(
                f"keypoint: names {unknown or names} are not H36M joint names; pass "
                "skeleton=... (e.g. 'coco17') to convert them"
            )
        points = points.assign_coords({JOINT: joint_coord(names)}).reindex({JOINT: joint_coord()})
        if conf is None:
            conf = xr.where(points.notnull().all(spatial), 1.0, 0.0)
        else:
            conf = conf.assign_coords({JOINT: joint_coord(names)})
            conf = conf.reindex({JOINT: joint_coord()}, fill_value=0.0)
    points = points.transpose(FRAME, ..., JOINT, spatial)
    conf = conf.transpose(FRAME, ..., JOINT)
    var = KEYPOINTS if n_space == 2 else POSE3D
    attrs = {k: v for k, v in ds.attrs.items() if k not in ("time_unit",)}
    result = xr.Dataset(
        {
            var: points.assign_attrs(units="pixels" if n_space == 2 else "m"),
            CONFIDENCE: conf.assign_attrs({}),
        },
        attrs=attrs,
    )
    return result


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
        raise SchemaError(f"dataset: expected a '{POSE3D}' variable, got {list(lifted.data_vars)}")
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
        pose = pose.drop_vars(INDIVIDUAL, errors="ignore").expand_dims(
            {INDIVIDUAL: labels([str(name)])}, axis=-1
        )
        conf = conf.drop_vars(INDIVIDUAL, errors="ignore").expand_dims(
            {INDIVIDUAL: pose[INDIVIDUAL].values}, axis=-1
        )
    style = _movement_dim_style() if dim_style == "auto" else dim_style
    if style not in ("singular", "plural"):
        raise ValueError(f"dim_style: expected 'auto', 'singular' or 'plural', got {dim_style!r}")
    kp_dim, ind_dim = (
        ("keypoint", "individual") if style == "singular" else ("keypoints", "individuals")
    )
    fps = lifted.attrs.get("fps")
    frames = lifted[FRAME].values if FRAME in lifted.coords else np.arange(lifted.sizes[FRAME])
    time = frames / float(fps) if fps else frames
    extra = [d for d in pose.dims if d not in (FRAME, COORD, JOINT, INDIVIDUAL)]
    position = pose.rename(
        {FRAME: "time", COORD: "space", JOINT: kp_dim, INDIVIDUAL: ind_dim}
    ).transpose("time", "space", kp_dim, ind_dim, *extra)
    confidence = conf.rename({FRAME: "time", JOINT: kp_dim, INDIVIDUAL: ind_dim}).transpose(
        "time", kp_dim, ind_dim, ...
    )
    # Replace the frame numbers carried over by the rename with the movement time axis.
    position = position.assign_coords(time=time)
    confidence = confidence.assign_coords(time=time)
    keep_coords = {"time", "space", kp_dim, ind_dim, *extra}
    position = position.drop_vars([c for c in position.coords if c not in keep_coords])
    confidence = confidence.drop_vars([c for c in confidence.coords if c not in keep_coords])
    log = (
        json.loads(lifted.attrs.get("log", "[]"))
        if isinstance(lifted.attrs.get("log"), str)
        else []
    )
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
        coords={
            "time": time,
            "space": labels(COORDS_3D),
            kp_dim: labels(str(j) for j in pose[JOINT].values),
        },
        attrs=attrs,
    )
