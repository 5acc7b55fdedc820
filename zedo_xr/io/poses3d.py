"""Read a user's 3D poses for training a prior: arrays, zarr, movement datasets, BVH files.

Every reader returns the data model's ``(frame, joint, coord)`` DataArray in metres, world frame
with Z up, H36M joints (:func:`load_poses3d`). Other joint sets are converted by joint *names*
with :func:`zedo_xr.skeleton.to_h36m` (``skeleton=``); a prior needs all 17 H36M joints, so a
skeleton that cannot make one of them is refused with the joints it lacks.

Nothing here unpickles: ``.npz`` and ``.npy`` files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.io._common import pose_array, y_up_to_z_up
from zedo_xr.schema import COORD, FRAME, JOINT, SchemaError

FORMATS = ("npy", "npz", "zarr", "movement", "bvh")
ARRAY_KEYS = ("poses", "pose3d", "positions_3d", "position", "positions", "pose3d_gt")
"""Names tried, in order, for the pose array in an ``.npz`` or a zarr store / netCDF file."""

UNITS = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254}
TYPICAL_THIGH_M = 0.42
"""Median adult thigh (hip -> knee), metres; ``units="auto"`` picks the unit that comes closest."""

BVH_NAMES: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "hip", "pelvis", "root"),
    "right_hip": (
        "rightupleg",
        "rightthigh",
        "rthigh",
        "rightupperleg",
        "upperleg_r",
        "thigh_r",
        "rfemur",
        "r_hip",
        "righthip",
    ),
    "right_knee": (
        "rightleg",
        "rightshin",
        "rshin",
        "rightlowerleg",
        "lowerleg_r",
        "calf_r",
        "rtibia",
        "r_knee",
        "rightknee",
    ),
    "right_ankle": ("rightfoot", "rfoot", "foot_r", "r_ankle", "rightankle"),
    "left_hip": (
        "leftupleg",
        "leftthigh",
        "lthigh",
        "leftupperleg",
        "upperleg_l",
        "thigh_l",
        "lfemur",
        "l_hip",
        "lefthip",
    ),
    "left_knee": (
        "leftleg",
        "leftshin",
        "lshin",
        "leftlowerleg",
        "lowerleg_l",
        "calf_l",
        "ltibia",
        "l_knee",
        "leftknee",
    ),
    "left_ankle": ("leftfoot", "lfoot", "foot_l", "l_ankle", "leftankle"),
    "spine": ("spine1", "spine", "spine01", "chest", "lowerback"),
    "thorax": ("neck", "neck1", "neck01", "upperneck", "thorax"),
    "neck": ("head",),
    "left_shoulder": ("leftarm", "lefthumerus", "lhumerus", "leftupperarm", "upperarm_l", "l_shoulder"),
    "left_elbow": ("leftforearm", "leftlowerarm", "lradius", "lowerarm_l", "l_elbow"),
    "left_wrist": ("lefthand", "lhand", "lwrist", "hand_l", "l_wrist"),
    "right_shoulder": ("rightarm", "righthumerus", "rhumerus", "rightupperarm", "upperarm_r", "r_shoulder"),
    "right_elbow": ("rightforearm", "rightlowerarm", "rradius", "lowerarm_r", "r_elbow"),
    "right_wrist": ("righthand", "rhand", "rwrist", "hand_r", "r_wrist"),
}
"""BVH joint names (lower case, without a ``prefix:``) recognised for each H36M joint, first match
wins. H36M's ``head`` (the head top) is the end site of the BVH head joint when it has one."""


def load_poses3d(
    path: str | Path, *, skeleton: str | None = None, units: str = "auto", fmt: str = "auto"
) -> xr.DataArray:
    """Read 3D poses from a file or folder as H36M ``(frame, joint, coord)`` metres, Z up.

    Parameters
    ----------
    path : path
        ``.npy`` ``(frame, joint, 3)``; ``.npz`` with one such array (named ``poses``, ``position``,
        ... see :data:`ARRAY_KEYS`, or the only array; an ``fps`` scalar is used when present);
        a zarr store of the data model (a ``(frame, joint, coord)`` variable); a movement dataset
        saved as netCDF (``.nc``, ``position`` with ``space`` = x, y, z); a ``.bvh`` file or a
        folder of them.
    skeleton : str, optional
        The joint set of arrays that are not the 17 H36M joints in order, e.g. ``"smpl24"``
        or ``"coco17"`` (see :data:`zedo_xr.skeleton.SKELETONS`); movement datasets and zarr
        stores with joint names need it only when the names are not H36M's.
    units : {"auto", "m", "cm", "mm", "inch"}
        Length unit of the file; ``"auto"`` picks the one that makes the median thigh closest
        to 0.42 m (recorded in ``attrs["units_read"]``).
    fmt : {"auto", "npy", "npz", "zarr", "movement", "bvh"}

    Returns
    -------
    DataArray (frame, joint, coord)

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "poses.npy"
    >>> np.save(path, np.random.default_rng(0).normal(size=(5, 17, 3)) * 0.4)
    >>> load_poses3d(path, units="m").sizes["frame"]
    5
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"path: expected an existing file or folder, got {str(p)!r}")
    kind = _format(p) if fmt == "auto" else fmt
    if kind not in FORMATS:
        raise ValueError(f"fmt: expected 'auto' or one of {FORMATS}, got {fmt!r}")
    if units != "auto" and units not in UNITS:
        raise ValueError(f"units: expected 'auto' or one of {tuple(UNITS)}, got {units!r}")
    if kind == "bvh":
        return _from_bvh(p, units)
    array, names, fps = {"npy": _npy, "npz": _npz, "zarr": _zarr, "movement": _movement}[kind](p)
    return _to_h36m(array, names, skeleton, units, fps=fps, source=f"{kind} file {p.name}")


def load_training_poses(
    paths: list[str | Path], *, skeleton: str | None = None, units: str = "auto"
) -> tuple[xr.DataArray, list[dict[str, Any]]]:
    """Concatenated :func:`load_poses3d` of several inputs and their provenance for a card.

    Returns the ``(frame, joint, coord)`` poses, with a ``source`` coordinate (each frame's input
    path, for ``TrainConfig.source_balance``), and one dict per input (``name``, ``frames``,
    ``source``, ``units_read``), as ``zedo train`` records them.
    """
    parts, provenance = [], []
    for path in paths:
        da = load_poses3d(path, skeleton=skeleton, units=units)
        provenance.append(
            {
                "name": Path(path).name,
                "frames": int(da.sizes[FRAME]),
                "source": str(da.attrs.get("source", "")),
                "units_read": da.attrs.get("units_read"),
            }
        )
        # each frame keeps where it came from (TrainConfig.source_balance draws by it)
        part = da.reset_coords(drop=True).drop_vars(FRAME, errors="ignore")
        parts.append(part.assign_coords(source=(FRAME, [str(path)] * int(da.sizes[FRAME]))))
    return xr.concat(parts, dim=FRAME, coords="minimal", compat="override"), provenance


def _format(p: Path) -> str:
    if p.suffix == ".zarr" or (p / "zarr.json").exists():
        return "zarr"
    if p.suffix in (".npy", ".npz", ".bvh"):
        return p.suffix[1:]
    if p.suffix in (".nc", ".h5", ".netcdf"):
        return "movement"
    if p.is_dir() and any(p.rglob("*.bvh")):
        return "bvh"
    raise ValueError(
        f"path: cannot tell the format of {str(p)!r}: expected .npy, .npz, .zarr, "
        f".nc (movement) or .bvh (or a folder of .bvh files)"
    )


# ----------------------------------------------------------------------------- array formats


def _npy(p: Path) -> tuple[np.ndarray, list[str] | None, float | None]:
    return np.load(p, allow_pickle=False), None, None


def _npz(p: Path) -> tuple[np.ndarray, list[str] | None, float | None]:
    with np.load(p, allow_pickle=False) as data:
        keys = list(data.files)
        key = next((k for k in ARRAY_KEYS if k in keys), None)
        if key is None:
            arrays = [k for k in keys if data[k].ndim == 3]
            if len(arrays) != 1:
                raise SchemaError(
                    f"{p.name}: expected an array named one of {ARRAY_KEYS} or a "
                    f"single (frame, joint, 3) array, got {keys}"
                )
            key = arrays[0]
        fps = float(data["fps"]) if "fps" in keys and data["fps"].ndim == 0 else None
        names = [str(n) for n in data["joint_names"]] if "joint_names" in keys else None
        return data[key], names, fps


def _variable(ds: xr.Dataset, where: str) -> xr.DataArray:
    for key in ARRAY_KEYS:
        if key in ds.data_vars:
            return ds[key]
    candidates = [k for k, v in ds.data_vars.items() if {FRAME, JOINT, COORD} <= set(v.dims)]
    if len(candidates) != 1:
        raise SchemaError(f"{where}: expected one (frame, joint, coord) variable, got {list(ds.data_vars)}")
    return ds[candidates[0]]


def _zarr(p: Path) -> tuple[np.ndarray, list[str] | None, float | None]:
    from zedo_xr.io.store import open_zarr

    da = _variable(open_zarr(p), p.name)
    extra = [d for d in da.dims if d not in (FRAME, JOINT, COORD)]
    if extra:
        raise SchemaError(f"{p.name}: expected dims (frame, joint, coord), got {da.dims}")
    da = da.transpose(FRAME, JOINT, COORD)
    names = [str(n) for n in da[JOINT].values] if JOINT in da.coords else None
    return da.values, names, da.attrs.get("fps")


def _netcdf_engine(p: Path) -> str:
    """scipy for netCDF3 files, h5netcdf for netCDF4 (HDF5) ones, by the file's magic bytes."""
    with open(p, "rb") as f:
        magic = f.read(8)
    if magic.startswith(b"CDF"):
        return "scipy"
    if magic.startswith(b"\x89HDF"):
        return "h5netcdf"
    raise SchemaError(f"{p.name}: expected a netCDF file (movement's to_netcdf), got other bytes")


def _movement(p: Path) -> tuple[np.ndarray, list[str] | None, float | None]:
    """A movement poses dataset (either dim style) with 3D ``position``, one individual."""
    ds = xr.load_dataset(p, engine=_netcdf_engine(p))
    if "position" not in ds:
        raise SchemaError(
            f"{p.name}: expected a movement dataset with a 'position' variable, got {list(ds.data_vars)}"
        )
    da = ds["position"]
    plural = "keypoints" in da.dims
    kp, ind = ("keypoints", "individuals") if plural else ("keypoint", "individual")
    if da.sizes.get("space") != 3:
        raise SchemaError(
            f"{p.name}: position: expected space = (x, y, z), got {da.sizes.get('space')} coordinates"
        )
    if ind in da.dims:
        if da.sizes[ind] != 1:
            raise SchemaError(
                f"{p.name}: expected one individual, got {da.sizes[ind]}; "
                f"select one with ds.sel({ind}=...) and save it"
            )
        da = da.isel({ind: 0})
    da = da.transpose("time", kp, "space")
    fps = ds.attrs.get("fps")
    return da.values, [str(n) for n in da[kp].values], float(fps) if fps else None


# ----------------------------------------------------------------------------- conversion


def _to_h36m(
    array: Any, names: list[str] | None, skeleton: str | None, units: str, *, fps: float | None, source: str
) -> xr.DataArray:
    from zedo_xr.skeleton import H36M_JOINTS, get_skeleton, to_h36m

    arr = np.asarray(array, dtype=np.float64)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise SchemaError(f"poses: expected shape (frame, joint, 3), got {arr.shape}")
    if skeleton is None and (names is None or list(names) == list(H36M_JOINTS)):
        if arr.shape[1] != len(H36M_JOINTS):
            raise SchemaError(
                f"poses: expected the 17 H36M joints, got {arr.shape[1]} joints; "
                f"pass skeleton= (--skeleton) to name the joint set"
            )
        h36m = arr
    else:
        skel = get_skeleton(skeleton or "h36m17")
        names = names if names is not None else list(skel.joints)
        if len(names) != arr.shape[1]:
            raise SchemaError(f"poses: expected {len(names)} joints of {skel.name}, got {arr.shape[1]}")
        da = xr.DataArray(arr, dims=(FRAME, JOINT, COORD), coords={JOINT: names})
        points, _ = to_h36m(da, skel)
        lacking = [j for j in H36M_JOINTS if not np.isfinite(points.sel({JOINT: j})).any()]
        if lacking:
            raise SchemaError(
                f"skeleton: {skel.name} cannot make the H36M joints {lacking}; a prior needs all 17"
            )
        h36m = points.values
    scale, unit = _scale(h36m, units)
    return pose_array(h36m * scale, fps=fps, source=source, licence="", attrs={"units_read": unit})


def _scale(poses: np.ndarray, units: str) -> tuple[float, str]:
    if units != "auto":
        return UNITS[units], units
    thigh = np.linalg.norm(poses[:, [2, 5]] - poses[:, [1, 4]], axis=-1)
    median = float(np.nanmedian(thigh)) if np.isfinite(thigh).any() else float("nan")
    if not median > 0:
        raise SchemaError("poses: expected hips and knees apart to tell the unit; pass units=")
    unit = min(UNITS, key=lambda u: abs(np.log(median * UNITS[u] / TYPICAL_THIGH_M)))
    return UNITS[unit], unit


# ----------------------------------------------------------------------------- BVH


def _bvh_index(names: tuple[str, ...]) -> dict[str, int]:
    """H36M joint -> BVH joint index, by :data:`BVH_NAMES` (names lower-cased, prefix dropped)."""
    plain = [n.split(":")[-1].lower().replace(" ", "") for n in names]
    index = {}
    for target, candidates in BVH_NAMES.items():
        hit = next((plain.index(c) for c in candidates if c in plain), None)
        if hit is not None:
            index[target] = hit
    return index


def bvh_to_h36m(bvh) -> np.ndarray:
    """Forward kinematics of a BVH to ``(T, 17, 3)`` H36M joints in the file's units and axes.

    Joints are matched by name (:data:`BVH_NAMES`: CMU, Mixamo, Bandai-Namco and similar
    conventions). The head top is the head joint's end site (or, without one, the head joint
    moved up by the neck -> head vector).
    """
    from zedo_xr.skeleton import H36M_JOINTS

    index = _bvh_index(bvh.names)
    lacking = [j for j in BVH_NAMES if j not in index]
    if lacking:
        raise SchemaError(f"bvh: cannot find joints for {lacking} among {list(bvh.names)}")
    positions, rotations = bvh.forward_kinematics()
    out = np.empty((bvh.n_frames, len(H36M_JOINTS), 3))
    for j, name in enumerate(H36M_JOINTS):
        if name != "head":
            out[:, j] = positions[:, index[name]]
    head = index["neck"]
    top = bvh.end_site_positions(positions, rotations).get(bvh.names[head])
    out[:, 10] = top if top is not None else 2 * positions[:, head] - positions[:, index["thorax"]]
    return out


def _from_bvh(p: Path, units: str) -> xr.DataArray:
    from zedo_xr.io._common import concat_sequences
    from zedo_xr.io.bvh import read_bvh

    files = [p] if p.is_file() else sorted(p.rglob("*.bvh"))
    parts, index, rates = [], [], set()
    for f in files:
        bvh = read_bvh(f)
        poses = y_up_to_z_up(bvh_to_h36m(bvh))
        parts.append((f.stem, poses))
        index.append(np.arange(len(poses)))
        rates.add(round(float(bvh.fps), 6))
    pos, names, frame_index = concat_sequences(parts, index)
    scale, unit = _scale(pos, units)
    return pose_array(
        pos * scale,
        fps=rates.pop() if len(rates) == 1 else None,
        source=f"BVH {p.name} ({len(files)} files)",
        licence="",
        sequence=names,
        frame_in_sequence=frame_index,
        attrs={"units_read": unit},
    )
