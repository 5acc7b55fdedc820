"""Evaluation views: world poses seen by a virtual Human3.6M-like camera (the GT-2D protocol).

The GT-2D protocol of the paper places each test pose in front of a pinhole camera with real
H36M intrinsics, from a random azimuth, and projects it without noise. :func:`make_views` does
exactly that and returns a dataset of the data model (``keypoints``, ``confidence``, ``K``,
``pose3d_gt``) ready for :func:`zedo_xr.lift` and :func:`zedo_xr.metrics.evaluate`; options add
detector-like pixel noise and dropped joints.

Randomness comes from three independent streams spawned from ``seed`` (cameras, pixel noise,
dropped joints), so the same seed gives the same cameras whatever the noise and drop settings:
the noisy and clean variants of a benchmark see identical views.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.camera import on_numpy, project, world_to_camera
from zedo_xr.schema import (
    COL,
    CONFIDENCE,
    COORD,
    COORDS_2D,
    COORDS_3D,
    FRAME,
    JOINT,
    K_VAR,
    KEYPOINTS,
    POSE3D_GT,
    ROW,
    UV,
    SchemaError,
    labels,
    require_dims,
    require_size,
    validate_pose3d,
)

PROTOCOL = "zedo-xr virtual H36M camera, GT 2D (zedo_xr.datasets.make_views)"

_MIN_DEPTH = 0.1  # metres; a joint closer than this to the camera plane counts as not visible


def _range(value: float | tuple[float, float], name: str) -> tuple[float, float]:
    pair = np.asarray(value, dtype=float).ravel()
    if pair.size not in (1, 2):
        raise ValueError(f"{name}: expected a number or a (low, high) range, got {value!r}")
    lo, hi = float(pair[0]), float(pair[-1])
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo > hi:
        raise ValueError(f"{name}: expected a number or a (low, high) range, got {value!r}")
    return lo, hi


def _place(
    pelvis: np.ndarray,
    azimuth: np.ndarray,
    distance: np.ndarray,
    height: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Cameras at ``azimuth`` around the pelvis looking at it; returns R (n, 3, 3), t (n, 3).

    The camera centre is ``distance`` metres from the pelvis horizontally, ``height`` metres
    above the floor; its optical axis passes through the pelvis (so it looks slightly down for a
    standing subject). ``p_cam = R @ p_world + t``.
    """
    centre = np.stack(
        [
            pelvis[:, 0] + distance * np.cos(azimuth),
            pelvis[:, 1] + distance * np.sin(azimuth),
            height,
        ],
        -1,
    )
    heading = azimuth + np.pi  # the camera faces back towards the subject
    pitch = np.arctan2(height - pelvis[:, 2], distance)
    R = on_numpy(world_to_camera, heading, pitch)
    t = -np.einsum("nij,nj->ni", R, centre)
    return R, t


def make_views(
    poses: xr.DataArray,
    *,
    seed: int = 0,
    views_per_pose: int = 1,
    distance: float | tuple[float, float] = (4.0, 6.0),
    height: float | tuple[float, float] = (1.45, 1.65),
    image_size: tuple[int, int] = (1000, 1000),
    focal: float | tuple[float, float] = (1145.0, 1150.0),
    principal: tuple[float, float] | None = None,
    noise_px: float = 0.0,
    drop_joints: int | tuple[int, int] = 0,
    max_tries: int = 50,
    camera: str = "per_frame",
) -> xr.Dataset:
    """Project world poses through random virtual cameras (the GT-2D evaluation protocol).

    For every pose (and each of ``views_per_pose`` views) a pinhole camera is placed at a random
    azimuth around the subject, ``distance`` metres from the pelvis horizontally and ``height``
    metres above the floor, with its optical axis through the pelvis. The azimuth is re-drawn
    until every joint projects inside the image, at most ``max_tries`` times; views that never
    fit (and poses with non-finite joints) are dropped and listed in ``attrs["dropped_frames"]``.

    Parameters
    ----------
    poses : xarray.DataArray, dims (frame, joint, coord)
        World poses in metres, right-handed, Z up, floor near z = 0; the joint coordinate must
        contain ``pelvis``. Non-index coords along ``frame`` (e.g. ``sequence``) are carried.
    seed : int
        Seed of every random draw; the same seed gives the same dataset.
    views_per_pose : int
        Independent cameras per pose; the output has up to ``frame * views_per_pose`` frames.
    distance, height : float or (low, high)
        Horizontal camera-pelvis distance and camera height in metres, drawn uniformly.
    image_size : (width, height)
        Image size in pixels; keypoints must fall in ``[0, width) x [0, height)``.
    focal : float or (low, high)
        Focal lengths ``fx`` and ``fy`` in pixels, drawn independently and uniformly.
    principal : (cx, cy), optional
        Principal point in pixels; default the image centre.
    noise_px : float
        Standard deviation of Gaussian noise added to each pixel coordinate after projection.
    drop_joints : int or (low, high)
        Number of joints per frame, chosen at random, whose keypoints become NaN with
        confidence 0; a range draws the number per frame (inclusive).
    max_tries : int
        Azimuth draws per view before giving up on it.
    camera : {"per_frame", "fixed"}
        ``"per_frame"`` (the evaluation protocol) draws an independent camera for every pose;
        ``"fixed"`` films the whole clip with one camera aimed at the mean pelvis position, as
        a video would (for demos, viewers and velocities). A fixed camera that cannot keep every
        frame in the image after ``max_tries`` azimuths raises ``ValueError``.

    Returns
    -------
    xarray.Dataset
        ``keypoints (frame, joint, uv)`` pixels; ``confidence (frame, joint)`` 1, or 0 where
        dropped; ``K (frame, row, col)``; ``pose3d_gt (frame, joint, coord)`` absolute
        camera-frame metres (OpenCV axes); ``camera_R (frame, row, col)`` and ``camera_t
        (frame, coord)`` with ``p_cam = R p_world + t``. Coordinates ``source_frame`` and
        ``view`` tell which input pose and view each frame is. ``attrs`` hold every protocol
        setting, the seed and the dropped frames, and the poses' frame rate as ``fps`` with a
        fixed camera (a video, lifted as a sequence) or ``source_fps`` with per-frame cameras.

    Examples
    --------
    >>> import numpy as np
    >>> from zedo_xr.schema import pose_dataarray
    >>> rng = np.random.default_rng(0)
    >>> world = pose_dataarray(rng.normal([0, 0, 1.0], 0.3, (5, 17, 3)))
    >>> ds = make_views(world, seed=1, views_per_pose=2)
    >>> dict(ds.sizes)["frame"], ds.attrs["seed"]
    (10, 1)
    >>> depth = ds.pose3d_gt.sel(joint="pelvis", coord="z")
    >>> bool(((depth >= 4.0) & (depth <= 6.2)).all())
    True
    """
    name = "poses"
    if not isinstance(poses, xr.DataArray):
        raise SchemaError(f"{name}: expected an xarray.DataArray, got {type(poses).__name__}")
    require_dims(poses, (FRAME, JOINT, COORD), name)
    extra = [d for d in poses.dims if d not in (FRAME, JOINT, COORD)]
    if extra:
        raise SchemaError(
            f"{name}: expected dims (frame, joint, coord), got {tuple(poses.dims)}; select or "
            f"stack the extra dims {tuple(extra)} into 'frame' first"
        )
    require_size(poses, COORD, 3, name)
    validate_pose3d(poses, name)
    if JOINT not in poses.coords or "pelvis" not in [str(j) for j in poses[JOINT].values]:
        raise SchemaError(f"{name}: expected a '{JOINT}' coordinate containing 'pelvis'")
    if views_per_pose < 1 or max_tries < 1:
        raise ValueError(f"views_per_pose and max_tries must be >= 1, got {views_per_pose} and {max_tries}")
    if noise_px < 0:
        raise ValueError(f"noise_px: expected >= 0, got {noise_px}")
    if camera not in ("per_frame", "fixed"):
        raise ValueError(f"camera: expected 'per_frame' or 'fixed', got {camera!r}")
    dist_rng, height_rng, focal_rng = (
        _range(distance, "distance"),
        _range(height, "height"),
        _range(focal, "focal"),
    )
    width, img_height = (int(s) for s in image_size)
    cx, cy = (width / 2.0, img_height / 2.0) if principal is None else map(float, principal)
    n_joint = poses.sizes[JOINT]
    drops = np.asarray(drop_joints).ravel()
    if drops.size not in (1, 2) or not np.issubdtype(drops.dtype, np.integer):
        raise ValueError(f"drop_joints: expected an int or a (low, high) range, got {drop_joints!r}")
    drop_lo, drop_hi = int(drops[0]), int(drops[-1])
    if not 0 <= drop_lo <= drop_hi <= n_joint:
        raise ValueError(f"drop_joints: expected 0..{n_joint} joints, got {drop_joints!r}")

    world = np.asarray(poses.transpose(FRAME, JOINT, COORD).values, dtype=float)
    n_frame = world.shape[0]
    source = np.repeat(np.arange(n_frame), views_per_pose)
    view = np.tile(np.arange(views_per_pose), n_frame)
    pts = world[source]
    n = len(source)
    pelvis = pts[:, [str(j) for j in poses[JOINT].values].index("pelvis")]

    cam_seed, noise_seed, drop_seed = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(cam_seed)
    if camera == "fixed":
        return _fixed_camera_views(
            poses,
            pts,
            pelvis,
            source,
            view,
            rng,
            noise_seed,
            drop_seed,
            dist=rng.uniform(*dist_rng),
            cam_h=rng.uniform(*height_rng),
            fx=rng.uniform(*focal_rng),
            fy=rng.uniform(*focal_rng),
            cx=cx,
            cy=cy,
            width=width,
            img_height=img_height,
            max_tries=max_tries,
            settings=dict(
                seed=seed,
                views_per_pose=views_per_pose,
                dist_rng=dist_rng,
                height_rng=height_rng,
                focal_rng=focal_rng,
                noise_px=noise_px,
                drop=(drop_lo, drop_hi),
            ),
        )
    dist = rng.uniform(*dist_rng, n)
    cam_h = rng.uniform(*height_rng, n)
    fx, fy = rng.uniform(*focal_rng, n), rng.uniform(*focal_rng, n)
    K = np.zeros((n, 3, 3))
    K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = fx, fy, cx, cy, 1.0

    azimuth = np.zeros(n)
    R = np.zeros((n, 3, 3))
    t = np.zeros((n, 3))
    placed = np.zeros(n, dtype=bool)
    pending = np.flatnonzero(np.isfinite(pts).all((1, 2)))
    tries = 0
    while pending.size and tries < max_tries:
        tries += 1
        azimuth[pending] = rng.uniform(0.0, 2.0 * np.pi, pending.size)
        R_p, t_p = _place(pelvis[pending], azimuth[pending], dist[pending], cam_h[pending])
        cam = np.einsum("nij,nkj->nki", R_p, pts[pending]) + t_p[:, None, :]
        uv = on_numpy(project, cam, K[pending])
        inside = (
            (cam[..., 2] > _MIN_DEPTH).all(-1)
            & (uv[..., 0] >= 0).all(-1)
            & (uv[..., 0] < width).all(-1)
            & (uv[..., 1] >= 0).all(-1)
            & (uv[..., 1] < img_height).all(-1)
        )
        done = pending[inside]
        R[done], t[done], placed[done] = R_p[inside], t_p[inside], True
        pending = pending[~inside]

    return _assemble(
        poses,
        pts,
        source,
        view,
        placed,
        R,
        t,
        K,
        noise_seed,
        drop_seed,
        attrs={
            "protocol": PROTOCOL,
            "seed": int(seed),
            "views_per_pose": int(views_per_pose),
            "camera": camera,
            "distance_m": list(dist_rng),
            "camera_height_m": list(height_rng),
            "image_size": [width, img_height],
            "focal_px": list(focal_rng),
            "principal_px": [cx, cy],
            "noise_px": float(noise_px),
            "drop_joints": [drop_lo, drop_hi],
            "max_tries": int(max_tries),
        },
    )


def _fixed_camera_views(
    poses: xr.DataArray,
    pts: np.ndarray,
    pelvis: np.ndarray,
    source: np.ndarray,
    view: np.ndarray,
    rng: np.random.Generator,
    noise_seed: Any,
    drop_seed: Any,
    *,
    dist: float,
    cam_h: float,
    fx: float,
    fy: float,
    cx: float,
    cy: float,
    width: int,
    img_height: int,
    max_tries: int,
    settings: dict[str, Any],
) -> xr.Dataset:
    """One camera for every frame, aimed at the mean pelvis (see ``camera`` in make_views)."""
    n = len(source)
    finite = np.isfinite(pts).all((1, 2))
    if not finite.any():
        raise ValueError("poses: no frame has finite joints")
    target = pelvis[finite].mean(0, keepdims=True)
    K1 = np.array([[fx, 0.0, cx], [0.0, fy, cy], [0.0, 0.0, 1.0]])
    for _ in range(max_tries):
        azimuth = rng.uniform(0.0, 2.0 * np.pi, 1)
        R1, t1 = _place(target, azimuth, np.array([dist]), np.array([cam_h]))
        cam = np.einsum("ij,nkj->nki", R1[0], pts[finite]) + t1[0]
        uv = on_numpy(project, cam, K1)
        if (
            (cam[..., 2] > _MIN_DEPTH).all()
            and (uv[..., 0] >= 0).all()
            and (uv[..., 0] < width).all()
            and (uv[..., 1] >= 0).all()
            and (uv[..., 1] < img_height).all()
        ):
            break
    else:
        raise ValueError(
            f"camera='fixed': no azimuth in {max_tries} tries keeps every frame inside the "
            f"{width}x{img_height} image at {dist:.2f} m; use a larger distance or camera='per_frame'"
        )
    R = np.broadcast_to(R1, (n, 3, 3)).copy()
    t = np.broadcast_to(t1, (n, 3)).copy()
    K = np.broadcast_to(K1, (n, 3, 3)).copy()
    lo, hi = settings["drop"]
    return _assemble(
        poses,
        pts,
        source,
        view,
        finite,
        R,
        t,
        K,
        noise_seed,
        drop_seed,
        attrs={
            "protocol": PROTOCOL,
            "seed": int(settings["seed"]),
            "views_per_pose": int(settings["views_per_pose"]),
            "camera": "fixed",
            "distance_m": [float(dist)] * 2,
            "camera_height_m": [float(cam_h)] * 2,
            "image_size": [width, img_height],
            "focal_px": [float(fx), float(fy)],
            "principal_px": [cx, cy],
            "noise_px": float(settings["noise_px"]),
            "drop_joints": [lo, hi],
            "max_tries": int(max_tries),
        },
    )


def _assemble(
    poses: xr.DataArray,
    pts: np.ndarray,
    source: np.ndarray,
    view: np.ndarray,
    placed: np.ndarray,
    R: np.ndarray,
    t: np.ndarray,
    K: np.ndarray,
    noise_seed: Any,
    drop_seed: Any,
    *,
    attrs: dict[str, Any],
) -> xr.Dataset:
    """Project the placed views and build the dataset (shared by both camera modes)."""
    n_joint = poses.sizes[JOINT]
    n_frame = poses.sizes[FRAME]
    drop_lo, drop_hi = attrs["drop_joints"]
    noise_px = attrs["noise_px"]
    keep = np.flatnonzero(placed)
    cam = np.einsum("nij,nkj->nki", R[keep], pts[keep]) + t[keep][:, None, :]
    K = K[keep]
    keypoints = on_numpy(project, cam, K)
    if noise_px > 0:
        keypoints = keypoints + np.random.default_rng(noise_seed).normal(0.0, noise_px, keypoints.shape)
    confidence = np.ones(keypoints.shape[:2])
    if drop_hi > 0:
        drop_rng = np.random.default_rng(drop_seed)
        counts = drop_rng.integers(drop_lo, drop_hi + 1, len(keep))
        order = np.argsort(drop_rng.random((len(keep), n_joint)), axis=1)
        dropped = np.arange(n_joint)[None, :] < counts[:, None]
        mask = np.zeros_like(dropped)
        np.put_along_axis(mask, order, dropped, axis=1)
        confidence[mask] = 0.0
        keypoints[mask] = np.nan

    frame_labels = poses[FRAME].values if FRAME in poses.coords else np.arange(n_frame)
    dropped_frames = [_plain(frame_labels[source[i]]) for i in np.flatnonzero(~placed)]
    coords: dict[Hashable, Any] = {
        FRAME: np.arange(len(keep)),
        JOINT: poses[JOINT].values,
        UV: labels(COORDS_2D),
        COORD: labels(COORDS_3D),
        ROW: np.arange(3),
        COL: np.arange(3),
        "source_frame": (FRAME, frame_labels[source[keep]]),
        "view": (FRAME, view[keep]),
    }
    for cname, c in poses.coords.items():
        if cname != FRAME and c.dims == (FRAME,):
            coords[cname] = (FRAME, c.values[source[keep]])
    attrs = {**attrs, "n_dropped": len(dropped_frames), "dropped_frames": dropped_frames}
    if "fps" in poses.attrs:
        # Only a fixed camera films a video; per-frame cameras make unrelated views, which
        # lift(temporal="auto") must not take for a sequence.
        attrs["fps" if attrs["camera"] == "fixed" else "source_fps"] = poses.attrs["fps"]
    return xr.Dataset(
        {
            KEYPOINTS: ((FRAME, JOINT, UV), keypoints, {"units": "pixels"}),
            CONFIDENCE: ((FRAME, JOINT), confidence),
            K_VAR: ((FRAME, ROW, COL), K, {"units": "pixels"}),
            POSE3D_GT: ((FRAME, JOINT, COORD), cam, {"units": "m", "frame": "camera (OpenCV)"}),
            "camera_R": ((FRAME, ROW, COL), R[keep], {"description": "p_cam = R p_world + t"}),
            "camera_t": ((FRAME, COORD), t[keep], {"units": "m"}),
        },
        coords=coords,
        attrs=attrs,
    )


def _plain(value: Any) -> Any:
    """A numpy scalar as a plain Python value (attrs must stay JSON-serialisable for zarr)."""
    return value.item() if isinstance(value, np.generic) else value


def subsample(poses: xr.DataArray, step: int, *, dim: str = FRAME) -> xr.DataArray:
    """Every ``step``-th entry along ``dim`` (e.g. 50 Hz mocap to the usual 10 Hz test rate).

    ``attrs["fps"]`` is divided by ``step`` when present.

    Examples
    --------
    >>> import numpy as np
    >>> from zedo_xr.schema import pose_dataarray
    >>> sub = subsample(pose_dataarray(np.zeros((10, 17, 3)), fps=50.0), 5)
    >>> sub.sizes["frame"], sub.attrs["fps"]
    (2, 10.0)
    """
    if int(step) < 1:
        raise ValueError(f"step: expected a positive integer, got {step!r}")
    out = poses.isel({dim: slice(None, None, int(step))})
    if "fps" in out.attrs:
        out = out.assign_attrs(fps=float(out.attrs["fps"]) / int(step))
    return out
