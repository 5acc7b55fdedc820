"""``zedo_xr.lift``: the xarray edge of the estimator.

Turns a dataset of the data model into batched tensors ``(frames x hypotheses, joint, 3)``, runs
the initial fit and the loop in chunks of ``batch_size`` frames on the chosen device, chooses a
hypothesis per frame, and returns the input dataset with ``pose3d``, ``reprojection_error`` and
``best_hypothesis`` added. Dask-backed inputs are lifted lazily, block by block, on whatever dask
scheduler is active.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr import schema
from zedo_xr.schema import (
    BEST_HYPOTHESIS,
    CONFIDENCE,
    COORD,
    COORDS_3D,
    FRAME,
    HYPOTHESIS,
    JOINT,
    KEYPOINTS,
    POSE3D,
    REPROJECTION_ERROR,
    UV,
    SchemaError,
)
from zedo_xr.skeleton import H36M_JOINTS


@dataclass(frozen=True)
class LiftSettings:
    """Everything that defines a lift besides the data and the prior.

    Attributes
    ----------
    initial : {"grid", "adam", "none"}
        Initial pose optimiser: coarse-to-fine yaw grid with closed-form depth, the official
        500-step Adam fit, or no rotation at all (the pose is only placed by the closed-form
        translation: the paper's ablation without rotation optimisation, "RO").
    initial_joints : {"hips", "torso", "all"}
        Joints that drive the initial fit.
    initial_method : {"kmeans", "random", "generated"}
        Where the initial poses come from (paper Table 7).
    pitches : tuple of float
        Camera pitch candidates (radians) of the grid fit.
    yaw_modes : int
        With S > 1, hypothesis ``s`` starts from the ``(s mod yaw_modes)``-th best local minimum
        of its yaw fit (1: every hypothesis takes its best yaw).
    select : str
        Rule choosing ``best_hypothesis`` (see :mod:`zedo_xr.estimator.select`).
    loop : LoopSettings
        The optimisation loop.
    """

    initial: str = "grid"
    initial_joints: str = "all"
    initial_method: str = "kmeans"
    pitches: tuple[float, ...] = (0.0,)
    yaw_modes: int = 1
    select: str = "consensus"
    loop: Any = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["loop"] = asdict(self.loop)
        return d


def _presets() -> dict[str, LiftSettings]:
    from zedo_xr.estimator.loop import LoopSettings

    return {
        "default": LiftSettings(
            initial="grid",
            initial_joints="all",
            # Measured on the tuning set (benchmarks/results/tune*): see the closing note of issue 4.
            loop=LoopSettings(iterations=100, warmup=0.0, step="tweedie", step_size=0.5,
                              translation_power=2.0, final_projection=False),
        ),
        "parity": LiftSettings(
            initial="adam",
            initial_joints="hips",
            loop=LoopSettings(iterations=1000, warmup=0.2, step="parity", step_size=1e-3,
                              translation_power=4.0, final_projection=False),
        ),
    }


def resolve_settings(settings: str | LiftSettings = "default", **overrides: Any) -> LiftSettings:
    """A preset (``"default"`` or ``"parity"``) or given settings, with overrides applied.

    Overrides may name fields of :class:`LiftSettings` or of its ``loop``
    (e.g. ``iterations=500, step="tweedie"``).
    """
    presets = _presets()
    if isinstance(settings, str):
        if settings not in presets:
            raise ValueError(f"settings: expected one of {sorted(presets)} or LiftSettings, got {settings!r}")
        settings = presets[settings]
    top = {k: v for k, v in overrides.items() if k in LiftSettings.__dataclass_fields__}
    inner = {k: v for k, v in overrides.items() if k not in top}
    unknown = [k for k in inner if k not in type(settings.loop).__dataclass_fields__]
    if unknown:
        raise TypeError(f"lift: unexpected settings {unknown}")
    return replace(settings, **top, loop=replace(settings.loop, **inner))


def resolve_device(device: str | Any = "auto") -> Any:
    """``"auto"`` is CUDA when available, else CPU."""
    import torch

    if device == "auto" or device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


@functools.lru_cache(maxsize=4)
def _cached_prior(name: str, device: str) -> Any:
    from zedo_xr.prior.checkpoint import load_prior

    return load_prior(name, device=device)


def _get_prior(prior: Any, device: Any, dtype: Any) -> Any:
    if isinstance(prior, str | Path):
        return _cached_prior(str(prior), str(device)).to(device=device, dtype=dtype)
    return prior.to(device=device, dtype=dtype)


@dataclass
class _Progress:
    """Frames-per-second progress over all chunks (``tqdm.auto``)."""

    total: int
    enabled: bool
    bar: Any = field(default=None, init=False)

    def __enter__(self) -> _Progress:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.total, unit="frame", desc="zedo lift", dynamic_ncols=True)
        return self

    def callback(self, frames: int, iterations: int) -> Callable[[dict[str, Any]], None] | None:
        if self.bar is None:
            return None
        every = max(1, iterations // 20)
        bar = self.bar

        def update(info: dict[str, Any]) -> None:
            i = info["i"] + 1
            if i % every == 0 or i == iterations:
                step = min(every, i - (i - 1) // every * every)
                bar.update(frames * step / iterations)

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.n = self.total if exc[0] is None else self.bar.n
            self.bar.close()


def lift_arrays(
    uv: np.ndarray,
    confidence: np.ndarray,
    K: np.ndarray,
    *,
    prior: Any = "default",
    hypotheses: int = 1,
    settings: LiftSettings | str = "default",
    device: Any = "auto",
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = False,
    dtype: str = "float32",
) -> dict[str, np.ndarray]:
    """Lift plain arrays: ``uv (N, 17, 2)``, ``confidence (N, 17)``, ``K (N, 3, 3)``.

    Returns numpy arrays ``pose3d (N, S, 17, 3)``, ``reprojection_error (N, S)``,
    ``residual (N, S)``, ``initial_error (N, S)`` and ``best_hypothesis (N,)``.
    """
    import torch

    from zedo_xr.estimator.initial import fit_initial_pose, fit_initial_pose_adam
    from zedo_xr.estimator.loop import optimize
    from zedo_xr.estimator.select import select_hypothesis

    settings = resolve_settings(settings) if isinstance(settings, str) else settings
    dev = resolve_device(device)
    tdtype = getattr(torch, dtype)
    model = _get_prior(prior, dev, tdtype)
    S = int(hypotheses)
    if S < 1:
        raise ValueError(f"hypotheses: expected >= 1, got {hypotheses}")
    N = uv.shape[0]
    if batch_size is None:
        # Bounded memory: ~16k poses per chunk on a GPU, ~2k on a CPU (cache-friendly).
        batch_size = max(1, (16384 if dev.type == "cuda" else 2048) // S)
    canonical = model.initial_poses(S, method=settings.initial_method, seed=seed)
    canonical = torch.as_tensor(canonical, device=dev, dtype=tdtype)

    out: dict[str, list[np.ndarray]] = {k: [] for k in
                                        ("pose3d", "reprojection_error", "residual", "initial_error")}
    best: list[np.ndarray] = []
    with torch.no_grad(), _Progress(N, progress) as bar:
        for start in range(0, N, batch_size):
            stop = min(N, start + batch_size)
            n = stop - start
            u = torch.as_tensor(uv[start:stop], device=dev, dtype=tdtype)
            c = torch.as_tensor(confidence[start:stop], device=dev, dtype=tdtype)
            k = torch.as_tensor(K[start:stop], device=dev, dtype=tdtype)
            # Frames and hypotheses in one batch: frame-major, hypothesis-minor.
            u = u.repeat_interleave(S, 0)
            c = c.repeat_interleave(S, 0)
            k = k.repeat_interleave(S, 0)
            init = canonical.repeat(n, 1, 1)
            if settings.initial == "adam":
                pose0, T0, err0 = fit_initial_pose_adam(init, u, c, k, joints=settings.initial_joints)
            elif settings.initial == "none":
                pose0, T0, err0 = fit_initial_pose(init, u, c, k, joints=settings.initial_joints,
                                                   yaw_steps=1, refine_steps=0)
            elif settings.initial == "grid":
                rank = torch.arange(S, device=dev).repeat(n) % max(1, settings.yaw_modes)
                pose0, T0, err0 = fit_initial_pose(init, u, c, k, joints=settings.initial_joints,
                                                   pitches=settings.pitches, mode_rank=rank)
            else:
                raise ValueError(f"initial: expected 'grid', 'adam' or 'none', got {settings.initial!r}")
            res = optimize(model, pose0, T0, u, c, k, settings.loop,
                           callback=bar.callback(n, settings.loop.iterations))
            reproj = res["reprojection_error"].reshape(n, S)
            residual = res["residual"].reshape(n, S)
            relative = res["relative"].reshape(n, S, -1, 3)
            choice = select_hypothesis(settings.select, reprojection_error=reproj,
                                       residual=residual, relative=relative)
            out["pose3d"].append(res["pose"].reshape(n, S, -1, 3).cpu().numpy())
            out["reprojection_error"].append(reproj.cpu().numpy())
            out["residual"].append(residual.cpu().numpy())
            out["initial_error"].append(err0.reshape(n, S).cpu().numpy())
            best.append(choice.cpu().numpy())
    result = {k: np.concatenate(v) for k, v in out.items()}
    result["best_hypothesis"] = np.concatenate(best).astype(np.int64)
    return result


def _prepare(ds: xr.Dataset, K: Any) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Validated keypoints, confidence and K, on the 17 H36M joints, broadcast together."""
    K_da = schema.validate_lift_input(ds, K)
    kp = ds[KEYPOINTS]
    names = [str(j) for j in kp[JOINT].values]
    if len(set(names)) != len(names):
        raise SchemaError(f"{KEYPOINTS}: duplicate joint names in {names}")
    conf = ds[CONFIDENCE] if CONFIDENCE in ds else xr.ones_like(kp.isel({UV: 0}, drop=True), dtype=float)
    # NaN keypoints count as missing, whatever their confidence says.
    conf = conf.where(kp.notnull().all(UV), 0.0).fillna(0.0)
    if names != list(H36M_JOINTS):
        # Joints the dataset lacks become missing; order follows H36M.
        target = schema.joint_coord(H36M_JOINTS)
        kp = kp.assign_coords({JOINT: schema.joint_coord(names)}).reindex({JOINT: target})
        conf = conf.assign_coords({JOINT: schema.joint_coord(names)}).reindex({JOINT: target}, fill_value=0.0)
    return kp, conf, K_da


def _batch_dims(kp: xr.DataArray) -> list[str]:
    """Dims of the keypoints other than joint and uv, frame first."""
    extra = [str(d) for d in kp.dims if d not in (FRAME, JOINT, UV)]
    return [FRAME, *extra]


def _flatten(kp: xr.DataArray, conf: xr.DataArray, K_da: xr.DataArray) -> tuple[np.ndarray, ...]:
    dims = _batch_dims(kp)
    kp = kp.transpose(*dims, JOINT, UV)
    conf = conf.broadcast_like(kp.isel({UV: 0}, drop=True)).transpose(*dims, JOINT)
    K_b = K_da.broadcast_like(kp.isel({JOINT: 0, UV: 0}, drop=True)).transpose(*dims, "row", "col")
    n = int(np.prod([kp.sizes[d] for d in dims]))
    # Copies: broadcast views are read-only, and torch wants writable memory.
    uv = np.array(kp.values, dtype=float).reshape(n, len(H36M_JOINTS), 2)
    c = np.array(conf.values, dtype=float).reshape(n, len(H36M_JOINTS))
    Kn = np.array(K_b.values, dtype=float).reshape(n, 3, 3)
    return uv, c, Kn


def _provenance(model: Any, settings: LiftSettings, *, hypotheses: int, seed: int, device: Any,
                preset: str, seconds: float | None) -> dict[str, Any]:
    from zedo_xr._version import __version__

    attrs: dict[str, Any] = {
        "zedo_version": __version__,
        "zedo_prior": str(getattr(model, "name", "custom")),
        "zedo_prior_hash": str(getattr(model, "content_hash", "unknown")),
        "zedo_preset": preset,
        "zedo_hypotheses": int(hypotheses),
        "zedo_iterations": int(settings.loop.iterations),
        "zedo_seed": int(seed),
        "zedo_device": str(device),
        "zedo_settings": json.dumps(settings.to_dict()),
    }
    if seconds is not None:
        attrs["zedo_seconds"] = round(float(seconds), 3)
    return attrs


def lift(
    ds: xr.Dataset,
    K: Any = None,
    *,
    hypotheses: int = 1,
    iterations: int | None = None,
    prior: Any = "default",
    device: Any = "auto",
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool = True,
    settings: str | LiftSettings = "default",
    dtype: str = "float32",
    store: Any = None,
    **overrides: Any,
) -> xr.Dataset:
    """Lift 2D keypoints to 3D poses with ZeDO.

    Parameters
    ----------
    ds : xarray.Dataset
        ``keypoints (frame, joint, uv)`` in pixels with H36M joint names (a subset is fine:
        absent joints are treated as missing), optional ``confidence (frame, joint)`` (0 or NaN
        keypoints mean missing) and optional ``K``. Extra dims (``individual``, ``camera``...)
        are lifted independently.
    K : array-like or DataArray, optional
        3x3 intrinsics in pixels, ``(frame, 3, 3)``, or a DataArray ``(..., row, col)``;
        defaults to ``ds["K"]``.
    hypotheses : int
        Number S of initial poses (k-means centres of the prior) run together per frame.
    iterations : int, optional
        Loop iterations (one network call each); defaults to the preset's (100 for
        ``"default"``, 1000 for ``"parity"``).
    prior : str, path or Prior
        ``"default"`` (bundled), a checkpoint directory, or a loaded prior.
    device : str
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    seed : int
        Seeds the random initial-pose methods; the loop itself is deterministic.
    batch_size : int, optional
        Frames per chunk (each chunk holds ``batch_size x hypotheses`` poses).
    progress : bool
        Show a progress bar with frames per second.
    settings : {"default", "parity"} or LiftSettings
        Preset; ``"parity"`` reproduces the official update (Adam initial fit, 1000 iterations,
        full-``g^2`` step of 1/1000). Further keyword arguments override single settings.
    dtype : str
        Tensor dtype, ``"float32"`` or ``"float64"``.
    store : path or zarr store, optional
        Write the result to this zarr v3 store chunk by chunk (``batch_size`` frames each) and
        return it opened lazily. Every chunk is marked done only after it is written, so calling
        again with the same arguments after an interruption lifts only the missing chunks.

    Returns
    -------
    xarray.Dataset
        The input with ``pose3d (frame, [extra,] hypothesis, joint, coord)`` (absolute camera
        frame, metres), ``reprojection_error (frame, [extra,] hypothesis)`` (pixels) and
        ``best_hypothesis (frame, [extra])``, and provenance attrs (prior and its hash, version,
        every setting).

    Examples
    --------
    >>> import numpy as np, zedo_xr
    >>> from zedo_xr.datasets import make_views
    >>> from zedo_xr.io import load_cmu  # doctest: +SKIP
    >>> out = ds.zedo.lift(hypotheses=5, progress=False)  # doctest: +SKIP
    """
    if iterations is not None:
        overrides["iterations"] = iterations
    preset = settings if isinstance(settings, str) else "custom"
    resolved = resolve_settings(settings, **overrides)
    kp, conf, K_da = _prepare(ds, K)
    kwargs = dict(prior=prior, hypotheses=hypotheses, settings=resolved, device=device, seed=seed,
                  batch_size=batch_size, dtype=dtype)
    if store is not None:
        return _lift_to_store(ds, store, K=K, preset=preset, progress=progress, **kwargs)
    if kp.chunks is not None:
        return _lift_dask(ds, kp, conf, K_da, preset=preset, **kwargs)

    uv, c, Kn = _flatten(kp, conf, K_da)
    start = time.perf_counter()
    result = lift_arrays(uv, c, Kn, progress=progress, **kwargs)
    seconds = time.perf_counter() - start
    out = _attach(ds, kp, result, hypotheses)
    out.attrs.update(_provenance_of(kwargs, preset=preset, seconds=seconds))
    return out


def _provenance_of(kwargs: dict[str, Any], *, preset: str, seconds: float | None) -> dict[str, Any]:
    import torch

    device = resolve_device(kwargs["device"])
    model = _get_prior(kwargs["prior"], device, getattr(torch, kwargs["dtype"]))
    return _provenance(model, kwargs["settings"], hypotheses=int(kwargs["hypotheses"]),
                       seed=kwargs["seed"], device=device, preset=preset, seconds=seconds)


def _lift_to_store(ds: xr.Dataset, store: Any, *, K: Any, preset: str, progress: bool,
                   **kwargs: Any) -> xr.Dataset:
    """Lift chunk by chunk into a resumable zarr store (see ``store`` in :func:`lift`)."""
    from zedo_xr.io.store import ChunkedZarrWriter, open_zarr

    ds = ds.load()
    if K is not None:
        ds = ds.assign({"K": schema.as_intrinsics(K)})
    S = int(kwargs["hypotheses"])
    frame_chunk = int(kwargs["batch_size"] or max(1, 2048 // S))
    kp, _, _ = _prepare(ds, None)
    n = int(np.prod([kp.sizes[d] for d in _batch_dims(kp)]))
    zeros: dict[str, np.ndarray] = {"pose3d": np.zeros((n, S, len(H36M_JOINTS), 3), np.float32),
             "reprojection_error": np.zeros((n, S)), "best_hypothesis": np.zeros(n, np.int64)}
    template = _attach(ds, kp, zeros, S)
    template.attrs.update(_provenance_of(kwargs, preset=preset, seconds=None))
    writer = ChunkedZarrWriter(store, template, frame_chunk=frame_chunk)
    pending = writer.pending()
    with _Progress(sum(writer.frames(i).stop - writer.frames(i).start for i in pending),
                   progress) as bar:
        for index in pending:
            part = ds.isel({FRAME: writer.frames(index)})
            writer.write(index, _lift_eager(part, **kwargs))
            if bar.bar is not None:
                bar.bar.update(part.sizes[FRAME])
    writer.finalize()
    return open_zarr(store)


def _lift_eager(part: xr.Dataset, **kwargs: Any) -> xr.Dataset:
    kp, conf, K_da = _prepare(part, None)
    uv, c, Kn = _flatten(kp, conf, K_da)
    result = lift_arrays(uv, c, Kn, progress=False, **kwargs)
    return _attach(part, kp, result, int(kwargs["hypotheses"]))


def _result_dataset(kp: xr.DataArray, result: dict[str, np.ndarray], hypotheses: int) -> xr.Dataset:
    dims = _batch_dims(kp)
    shape = [kp.sizes[d] for d in dims]
    S = hypotheses
    coords = {HYPOTHESIS: np.arange(S), COORD: schema.labels(COORDS_3D)}
    pose = result["pose3d"].reshape(*shape, S, len(H36M_JOINTS), 3)
    res = xr.Dataset(
        {
            POSE3D: ((*dims, HYPOTHESIS, JOINT, COORD), pose.astype(np.float32), {"units": "m"}),
            REPROJECTION_ERROR: ((*dims, HYPOTHESIS), result["reprojection_error"].reshape(*shape, S),
                                 {"units": "pixels"}),
            BEST_HYPOTHESIS: (tuple(dims), result["best_hypothesis"].reshape(shape)),
        },
        coords=coords,
    )
    # kp comes from _prepare, so its joint axis is already the 17 H36M joints in order.
    return res.assign_coords({d: kp[d] for d in dims if d in kp.coords}).assign_coords({JOINT: kp[JOINT]})


def _on_h36m_joints(ds: xr.Dataset) -> xr.Dataset:
    """The input on the 17 H36M joints in order; joints it lacks are missing (confidence 0)."""
    if list(map(str, ds[JOINT].values)) == list(H36M_JOINTS):
        return ds.copy()
    out = ds.reindex({JOINT: schema.joint_coord(H36M_JOINTS)})
    if CONFIDENCE in out:
        out[CONFIDENCE] = out[CONFIDENCE].fillna(0.0)
    return out


def _attach(ds: xr.Dataset, kp: xr.DataArray, result: dict[str, np.ndarray], hypotheses: int) -> xr.Dataset:
    res = _result_dataset(kp, result, hypotheses)
    return _on_h36m_joints(ds).assign(res.data_vars).assign_coords(res.coords)


def _lift_block(block: xr.Dataset, *, hypotheses: int, **kwargs: Any) -> xr.Dataset:
    kp, conf, K_da = block[KEYPOINTS], block[CONFIDENCE], block["K"]
    uv, c, Kn = _flatten(kp, conf, K_da)
    result = lift_arrays(uv, c, Kn, hypotheses=hypotheses, progress=False, **kwargs)
    return _result_dataset(kp, result, hypotheses)


def _lift_dask(ds: xr.Dataset, kp: xr.DataArray, conf: xr.DataArray, K_da: xr.DataArray, *,
               preset: str, **kwargs: Any) -> xr.Dataset:
    import dask.array as da

    dims = _batch_dims(kp)
    kp = kp.chunk({JOINT: -1, UV: -1})
    frame_chunks = kp.chunksizes[FRAME]
    conf = conf.broadcast_like(kp.isel({UV: 0}, drop=True)).chunk(
        {FRAME: frame_chunks, JOINT: -1, **{d: kp.chunksizes[d] for d in dims[1:]}})
    K_b = K_da.broadcast_like(kp.isel({JOINT: 0, UV: 0}, drop=True)).chunk(
        {FRAME: frame_chunks, **{d: kp.chunksizes[d] for d in dims[1:]}, "row": -1, "col": -1})
    block_input = xr.Dataset({KEYPOINTS: kp, CONFIDENCE: conf, "K": K_b})
    S = int(kwargs["hypotheses"])
    shape = {d: kp.sizes[d] for d in dims}
    chunks = {d: kp.chunksizes[d] for d in dims}
    template = xr.Dataset(
        {
            POSE3D: ((*dims, HYPOTHESIS, JOINT, COORD),
                     da.zeros((*shape.values(), S, len(H36M_JOINTS), 3), dtype=np.float32,
                              chunks=(*chunks.values(), S, len(H36M_JOINTS), 3)), {"units": "m"}),
            REPROJECTION_ERROR: ((*dims, HYPOTHESIS),
                                 da.zeros((*shape.values(), S), chunks=(*chunks.values(), S)),
                                 {"units": "pixels"}),
            BEST_HYPOTHESIS: (tuple(dims), da.zeros(tuple(shape.values()), dtype=np.int64,
                                                   chunks=tuple(chunks.values()))),
        },
        coords={HYPOTHESIS: np.arange(S), COORD: schema.labels(COORDS_3D),
                JOINT: kp[JOINT].values, **{d: kp[d] for d in dims if d in kp.coords}},
    )
    res = xr.map_blocks(_lift_block, block_input, kwargs=kwargs, template=template)
    out = _on_h36m_joints(ds).assign(res.data_vars).assign_coords(res.coords)
    out.attrs.update(_provenance_of(kwargs, preset=preset, seconds=None))
    return out
