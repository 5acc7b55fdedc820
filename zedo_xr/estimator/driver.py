"""``zedo_xr.lift``: the xarray edge of the estimator.

Validates the call, turns a dataset of the data model into flat arrays for
:func:`zedo_xr.estimator.pipeline.lift_arrays` (frame by frame) or time-major arrays for
:func:`zedo_xr.estimator.sequence.lift_sequence_arrays` (when the frame axis is time), and puts
the outputs back on the dataset's dims. Frames without enough 2D evidence come back NaN with
``valid = False`` (:mod:`zedo_xr.estimator.validity`); without K, an image size gives an
estimated one (:mod:`zedo_xr.estimator.intrinsics`).
One output template (:data:`OUTPUT_VARIABLES`) describes every variable a lift adds; the eager
path, the dask template and the store skeleton are all built from it. Dask-backed inputs are
lifted lazily, block by block; ``store=`` lifts chunk by chunk into a resumable zarr store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr import schema
from zedo_xr.estimator.settings import LiftSettings, resolve_settings
from zedo_xr.io.movement_interop import from_movement, is_movement_dataset
from zedo_xr.schema import (
    BEST_HYPOTHESIS,
    COL,
    CONFIDENCE,
    COORD,
    COORDS_2D,
    COORDS_3D,
    FRAME,
    HYPOTHESIS,
    INTERPOLATED,
    JOINT,
    K_VAR,
    KEYPOINTS,
    POSE3D,
    REPROJECTION_ERROR,
    ROW,
    UV,
    VALID,
    SchemaError,
)
from zedo_xr.skeleton import H36M_JOINTS

N_JOINTS = len(H36M_JOINTS)

# Magnitudes the float32 pipeline carries without overflow (squares stay far below 3e38) and
# that a real camera produces: pixel positions and focal lengths within a million pixels.
MAX_PIXELS = 1e6
MIN_FOCAL = 1.0


# ----------------------------------------------------------------------------- output template
@dataclass(frozen=True)
class OutputVariable:
    """One variable a lift adds: name, dims after the batch dims, dtype, fill and attrs.

    The batch dims are ``frame`` then the input's extra dims (``individual``...). ``fill`` is
    what a store holds where nothing was written yet.
    """

    name: str
    dims: tuple[str, ...]
    dtype: str
    fill: Any
    attrs: Mapping[str, Any] = field(default_factory=dict)


OUTPUT_VARIABLES: tuple[OutputVariable, ...] = (
    OutputVariable(POSE3D, (HYPOTHESIS, JOINT, COORD), "float32", np.nan, {"units": "m"}),
    OutputVariable(REPROJECTION_ERROR, (HYPOTHESIS,), "float32", np.nan, {"units": "pixels"}),
    OutputVariable(BEST_HYPOTHESIS, (), "int64", -1, {"description": "-1 where no pose was lifted"}),
    OutputVariable(
        VALID,
        (),
        "bool",
        False,
        {"description": "the frame's 2D constrains a pose (enough joints, a hip or shoulder)"},
    ),
    OutputVariable(
        INTERPOLATED,
        (),
        "bool",
        False,
        {"description": "a short gap bridged from neighbouring frames by sequence lifting"},
    ),
)
"""Every output variable of a lift (the one template of eager, dask and store results)."""


@dataclass(frozen=True)
class _Layout:
    """Batch dims (``frame`` first), their sizes and coords, and the number of hypotheses."""

    dims: tuple[str, ...]
    shape: tuple[int, ...]
    coords: Mapping[str, Any]
    hypotheses: int

    @classmethod
    def of(cls, kp: xr.DataArray, hypotheses: int) -> _Layout:
        dims = (FRAME, *[str(d) for d in kp.dims if d not in (FRAME, JOINT, UV)])
        return cls(
            dims, tuple(kp.sizes[d] for d in dims), {d: kp[d] for d in dims if d in kp.coords}, hypotheses
        )

    def sizes(self, var: OutputVariable) -> tuple[int, ...]:
        inner = {HYPOTHESIS: self.hypotheses, JOINT: N_JOINTS, COORD: 3}
        return (*self.shape, *(inner[d] for d in var.dims))

    def dataset(self, arrays: Mapping[str, Any]) -> xr.Dataset:
        """The output variables from arrays of their full shapes (numpy or dask)."""
        data = {v.name: ((*self.dims, *v.dims), arrays[v.name], dict(v.attrs)) for v in OUTPUT_VARIABLES}
        coords = {
            HYPOTHESIS: np.arange(self.hypotheses),
            COORD: schema.labels(COORDS_3D),
            JOINT: schema.joint_coord(H36M_JOINTS),
            **self.coords,
        }
        return xr.Dataset(data, coords=coords)

    def from_flat(self, result: Mapping[str, np.ndarray]) -> xr.Dataset:
        """The output variables from :func:`lift_arrays`' flat ``(N, ...)`` arrays."""
        return self.dataset(
            {
                v.name: np.asarray(result[v.name]).reshape(self.sizes(v)).astype(v.dtype)
                for v in OUTPUT_VARIABLES
            }
        )

    def template(self, chunks: Mapping[str, Any]) -> xr.Dataset:
        """Lazy output variables filled with their fill values, chunked along the batch dims
        (a size or a tuple of sizes per dim, as dask takes them; whole dims by default)."""
        import dask.array as da

        def chunked(v: OutputVariable) -> Any:
            shape = self.sizes(v)
            sizes = tuple(chunks.get(d, -1) for d in self.dims) + (-1,) * len(v.dims)
            return da.full(shape, v.fill, dtype=v.dtype, chunks=sizes)

        return self.dataset({v.name: chunked(v) for v in OUTPUT_VARIABLES})


# ----------------------------------------------------------------------------- validation
def _require_int(name: str, value: Any, minimum: int, *, none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        expected = f"an integer >= {minimum}" + (" or None" if none_ok else "")
        raise ValueError(f"{name}: expected {expected}, got {value!r}")


def _validate_objects(prior: Any, store: Any, overwrite: Any) -> None:
    """Clear errors for ``prior``, ``store`` and ``overwrite``."""
    import os

    if not isinstance(prior, str | os.PathLike) and not all(
        hasattr(prior, a) for a in ("eps", "to", "initial_poses")
    ):
        raise ValueError(
            f"prior: expected 'default', a prior directory or a loaded Prior, got {type(prior).__name__}"
        )
    if not isinstance(overwrite, bool | np.bool_):
        raise ValueError(f"overwrite: expected True or False, got {overwrite!r}")
    if store is None or isinstance(store, str | os.PathLike):
        return
    from zarr.abc.store import Store

    if not isinstance(store, Store):
        raise ValueError(f"store: expected a path or a zarr store, got {type(store).__name__}")


def _validate_parameters(
    *, hypotheses: Any, seed: Any, batch_size: Any, dtype: Any, progress: Any, iterations: Any
) -> None:
    """Clear errors for the plain parameters of :func:`lift`."""
    _require_int("hypotheses", hypotheses, 1)
    _require_int("iterations", iterations, 1, none_ok=True)
    _require_int("batch_size", batch_size, 1, none_ok=True)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise ValueError(f"seed: expected an integer in [0, 2**63), got {seed!r}")
    if dtype not in ("float32", "float64"):
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {dtype!r}")
    if not isinstance(progress, bool | np.bool_):
        raise ValueError(f"progress: expected True or False, got {progress!r}")


def _check_magnitudes(kp: xr.DataArray, K_da: xr.DataArray) -> None:
    """Refuse keypoints and intrinsics beyond what a camera produces (they overflow float32)."""
    values = np.asarray(kp.values, dtype=float)
    big = float(np.nanmax(np.abs(values), initial=0.0))
    if big > MAX_PIXELS:
        raise SchemaError(
            f"{KEYPOINTS}: expected pixel coordinates within +-{MAX_PIXELS:.0e}, got |value| up to {big:.3g}"
        )
    Kv = np.asarray(K_da.values, dtype=float)
    focal = Kv[..., [0, 1], [0, 1]]
    if focal.min() < MIN_FOCAL or focal.max() > MAX_PIXELS:
        raise SchemaError(
            f"{K_VAR}: expected focal lengths in [{MIN_FOCAL:g}, {MAX_PIXELS:.0e}] "
            f"pixels, got [{focal.min():.3g}, {focal.max():.3g}]"
        )
    rest = float(np.abs(Kv[..., :2, 1:]).max())
    if rest > MAX_PIXELS:
        raise SchemaError(
            f"{K_VAR}: expected skew and principal point within +-{MAX_PIXELS:.0e} "
            f"pixels, got |value| up to {rest:.3g}"
        )


def _keypoints_in_uv_order(kp: xr.DataArray) -> xr.DataArray:
    """Keypoints with the ``uv`` axis ordered (u, v) by its labels, when it has labels."""
    if UV not in kp.coords:
        return kp
    labels = [str(x) for x in kp[UV].values]
    if sorted(labels) != sorted(COORDS_2D):
        raise SchemaError(f"{UV}: expected the labels {list(COORDS_2D)} (or no labels), got {labels}")
    return kp.sel({UV: list(COORDS_2D)})


def _intrinsics(ds: xr.Dataset, K: Any) -> xr.DataArray:
    if isinstance(K, Mapping | str | bytes | xr.Dataset):
        raise SchemaError(
            f"{K_VAR}: expected a 3x3 array, an (frame, 3, 3) array or a DataArray "
            f"(..., row, col), got {type(K).__name__}"
        )
    K_da = schema.validate_lift_input(ds, K)
    kp_dims = set(ds[KEYPOINTS].dims)
    extra = [str(d) for d in K_da.dims if d not in (ROW, COL) and d not in kp_dims]
    if extra:
        raise SchemaError(
            f"{K_VAR}: expected dims among the keypoints' {tuple(ds[KEYPOINTS].dims)} "
            f"plus (row, col), got {tuple(K_da.dims)} (unknown {tuple(extra)})"
        )
    for d in K_da.dims:
        if d in kp_dims and K_da.sizes[d] != ds[KEYPOINTS].sizes[d]:
            raise SchemaError(
                f"{K_VAR}: expected {ds[KEYPOINTS].sizes[d]} entries along '{d}' "
                f"like the keypoints, got {K_da.sizes[d]}"
            )
    return K_da


def _prepare(ds: xr.Dataset, K: Any) -> tuple[xr.DataArray, xr.DataArray, xr.DataArray]:
    """Validated keypoints, confidence and K, on the 17 H36M joints, broadcast together."""
    K_da = _intrinsics(ds, K)
    kp = _keypoints_in_uv_order(ds[KEYPOINTS])
    names = [str(j) for j in kp[JOINT].values]
    if len(set(names)) != len(names):
        raise SchemaError(f"{KEYPOINTS}: expected unique joint names, got duplicates in {names}")
    _check_magnitudes(kp, K_da)
    conf = ds[CONFIDENCE] if CONFIDENCE in ds else xr.ones_like(kp.isel({UV: 0}, drop=True), dtype=float)
    # NaN keypoints count as missing, whatever their confidence says.
    conf = conf.where(kp.notnull().all(UV), 0.0).fillna(0.0)
    if names != list(H36M_JOINTS):
        # Joints the dataset lacks become missing; order follows H36M.
        target = schema.joint_coord(H36M_JOINTS)
        kp = kp.assign_coords({JOINT: schema.joint_coord(names)}).reindex({JOINT: target})
        conf = conf.assign_coords({JOINT: schema.joint_coord(names)}).reindex({JOINT: target}, fill_value=0.0)
    return kp, conf, K_da


def _flatten(kp: xr.DataArray, conf: xr.DataArray, K_da: xr.DataArray) -> tuple[np.ndarray, ...]:
    """``uv (N, 17, 2)``, ``confidence (N, 17)``, ``K (N, 3, 3)`` with N over the batch dims."""
    dims = list(_Layout.of(kp, 1).dims)
    kp = kp.transpose(*dims, JOINT, UV)
    conf = conf.broadcast_like(kp.isel({UV: 0}, drop=True)).transpose(*dims, JOINT)
    K_b = K_da.broadcast_like(kp.isel({JOINT: 0, UV: 0}, drop=True)).transpose(*dims, ROW, COL)
    n = math.prod(kp.sizes[d] for d in dims)
    # Copies: broadcast views are read-only, and torch wants writable memory.
    uv = np.array(kp.values, dtype=float).reshape(n, N_JOINTS, 2)
    c = np.array(conf.values, dtype=float).reshape(n, N_JOINTS)
    Kn = np.array(K_b.values, dtype=float).reshape(n, 3, 3)
    return uv, c, Kn


def _on_h36m_joints(ds: xr.Dataset) -> xr.Dataset:
    """The input on the 17 H36M joints in order; joints it lacks are missing (confidence 0)."""
    if list(map(str, ds[JOINT].values)) == list(H36M_JOINTS):
        return ds.copy()
    out = ds.reindex({JOINT: schema.joint_coord(H36M_JOINTS)})
    if CONFIDENCE in out:
        out[CONFIDENCE] = out[CONFIDENCE].fillna(0.0)
    return out


def _attach(ds: xr.Dataset, res: xr.Dataset) -> xr.Dataset:
    return _on_h36m_joints(ds).assign(res.data_vars).assign_coords(res.coords)


# ----------------------------------------------------------------------------- provenance
def _provenance(run: Mapping[str, Any], *, preset: str, seconds: float | None) -> dict[str, Any]:
    import json

    from zedo_xr._version import __version__
    from zedo_xr.estimator.pipeline import load_model, torch_dtype

    model = load_model(run["prior"], run["device"], torch_dtype(run["dtype"]))
    settings: LiftSettings = run["settings"]
    attrs: dict[str, Any] = {
        "zedo_version": __version__,
        "zedo_prior": str(getattr(model, "name", "custom")),
        "zedo_prior_hash": str(getattr(model, "content_hash", "unknown")),
        "zedo_preset": preset,
        "zedo_hypotheses": int(run["hypotheses"]),
        "zedo_iterations": int(settings.loop.iterations),
        "zedo_seed": int(run["seed"]),
        "zedo_device": str(run["device"]),
        "zedo_settings": json.dumps(settings.to_dict()),
    }
    attrs["zedo_temporal"] = int(bool(run.get("temporal")))
    if run.get("temporal"):
        from dataclasses import asdict

        attrs["zedo_fps"] = float(run["fps"])
        attrs["zedo_sequence"] = json.dumps(asdict(run["sequence"]))
    if seconds is not None:
        attrs["zedo_seconds"] = round(float(seconds), 3)
    return attrs


# ----------------------------------------------------------------------------- the three paths
def _lift_eager(
    part: xr.Dataset,
    kp: xr.DataArray,
    conf: xr.DataArray,
    K_da: xr.DataArray,
    *,
    progress: Any = False,
    **run: Any,
) -> xr.Dataset:
    """Lift an in-memory dataset (its :func:`_prepare` d arrays given); ``run`` holds the
    arguments of :func:`~zedo_xr.estimator.pipeline.lift_arrays`."""
    layout = _Layout.of(kp, int(run["hypotheses"]))
    result = _lift_flat(layout, *_flatten(kp, conf, K_da), progress=progress, **run)
    return _attach(part, layout.from_flat(result))


def _lift_flat(
    layout: _Layout,
    uv: np.ndarray,
    c: np.ndarray,
    Kn: np.ndarray,
    *,
    progress: Any,
    temporal: bool = False,
    fps: float | None = None,
    sequence: Any = None,
    **run: Any,
) -> dict[str, np.ndarray]:
    """Flat ``(N, ...)`` outputs of frame-wise or sequence lifting (N over the batch dims)."""
    from zedo_xr.estimator.pipeline import lift_arrays
    from zedo_xr.estimator.validity import void_invalid

    if not temporal:
        return void_invalid(lift_arrays(uv, c, Kn, progress=progress, **run), c)
    import contextlib

    from zedo_xr.estimator.pipeline import Progress
    from zedo_xr.estimator.sequence import lift_sequence_arrays

    F, E = layout.shape[0], math.prod(layout.shape[1:])  # frame-major flattening: N = F x E
    own = not isinstance(progress, Progress)
    bar = progress if isinstance(progress, Progress) else Progress(F * E, bool(progress))
    with bar if own else contextlib.nullcontext():
        out = lift_sequence_arrays(
            uv.reshape(F, E, N_JOINTS, 2),
            c.reshape(F, E, N_JOINTS),
            Kn.reshape(F, E, 3, 3),
            fps=float(fps or 0.0),
            sequence=sequence,
            **run,
        )
        if bar.bar is not None:  # the joint loop runs all frames at once: one step at the end
            bar.bar.update(F * E)
    return {k: v.reshape(F * E, *v.shape[2:]) for k, v in out.items()}


def _lift_block(block: xr.Dataset, **run: Any) -> xr.Dataset:
    kp = block[KEYPOINTS]
    layout = _Layout.of(kp, int(run["hypotheses"]))
    result = _lift_flat(layout, *_flatten(kp, block[CONFIDENCE], block[K_VAR]), progress=False, **run)
    return layout.from_flat(result)


def _lift_dask(
    ds: xr.Dataset, kp: xr.DataArray, conf: xr.DataArray, K_da: xr.DataArray, **run: Any
) -> xr.Dataset:
    layout = _Layout.of(kp, int(run["hypotheses"]))
    kp = kp.chunk({JOINT: -1, UV: -1})
    batch_chunks = {d: kp.chunksizes[d] for d in layout.dims}
    conf = conf.broadcast_like(kp.isel({UV: 0}, drop=True)).chunk({**batch_chunks, JOINT: -1})
    K_b = K_da.broadcast_like(kp.isel({JOINT: 0, UV: 0}, drop=True)).chunk({**batch_chunks, ROW: -1, COL: -1})
    block_input = xr.Dataset({KEYPOINTS: kp, CONFIDENCE: conf, K_VAR: K_b})
    template = layout.template(batch_chunks)
    res = xr.map_blocks(_lift_block, block_input, kwargs=run, template=template)
    return _attach(ds, res)


def content_hash(ds: xr.Dataset) -> str:
    """sha256 of every variable, coordinate and attribute of ``ds`` (names, dims, dtypes, values)."""
    import hashlib
    import json

    h = hashlib.sha256()
    for name in sorted(map(str, ds.variables)):
        var = ds.variables[name]
        values = np.asarray(var.values)
        h.update(json.dumps([name, list(map(str, var.dims)), values.dtype.str, values.shape]).encode())
        if values.dtype.kind == "O":
            h.update("\x00".join(map(str, values.ravel())).encode())
        else:
            h.update(np.ascontiguousarray(values).tobytes())
    h.update(json.dumps({str(k): str(v) for k, v in ds.attrs.items()}, sort_keys=True).encode())
    return h.hexdigest()


def _store_identity(ds: xr.Dataset, attrs: Mapping[str, Any], run: Mapping[str, Any]) -> dict[str, Any]:
    """What a store's results depend on: the inputs' content hash and every setting.

    The device is not part of it: a lift interrupted on a GPU may resume on a CPU.
    """
    return {
        "inputs": content_hash(ds),
        "prior_hash": attrs["zedo_prior_hash"],
        "zedo_version": attrs["zedo_version"],
        "hypotheses": int(run["hypotheses"]),
        "seed": int(run["seed"]),
        "dtype": run["dtype"],
        "settings": run["settings"].to_dict(),
        "temporal": bool(run.get("temporal")),
        **({"fps": run["fps"], "sequence": _plain(run["sequence"])} if run.get("temporal") else {}),
    }


def _plain(settings: Any) -> Any:
    from dataclasses import asdict

    return asdict(settings)


def _lift_to_store(
    ds: xr.Dataset,
    store: Any,
    *,
    K: Any,
    k_source: str,
    preset: str,
    progress: bool,
    overwrite: bool,
    **run: Any,
) -> xr.Dataset:
    """Lift chunk by chunk into a resumable zarr store (see ``store`` in :func:`lift`)."""
    from zedo_xr.estimator.pipeline import Progress, default_batch_size
    from zedo_xr.io.store import ChunkedZarrWriter, open_zarr

    ds = ds.load()
    kp, _, K_da = _prepare(ds, K)
    if K is not None:
        ds = ds.assign({K_VAR: K_da})
    layout = _Layout.of(kp, int(run["hypotheses"]))
    frame_chunk = int(run["batch_size"] or default_batch_size(run["device"], layout.hypotheses))
    template = _attach(ds, layout.template({FRAME: frame_chunk}))
    template.attrs.update(_provenance(run, preset=preset, seconds=None))
    identity = _store_identity(ds, template.attrs, run)
    template.attrs["zedo_K_source"] = k_source  # stored with the K it names
    writer = ChunkedZarrWriter(
        store, template, frame_chunk=frame_chunk, identity=identity, overwrite=overwrite
    )
    pending = writer.pending()
    todo = sum(writer.frames(i).stop - writer.frames(i).start for i in pending)
    n_frames = ds.sizes[FRAME]
    # Sequences see half a second of context on each side of a chunk, so chunks join smoothly.
    margin = round(0.5 * run["fps"]) if run.get("temporal") else 0
    with Progress(n_frames, progress, done=n_frames - todo) as bar:
        for index in pending:
            frames = writer.frames(index)
            lo, hi = max(0, frames.start - margin), min(n_frames, frames.stop + margin)
            part = ds.isel({FRAME: slice(lo, hi)})
            lifted = _lift_eager(part, *_prepare(part, None), progress=bar, **run)
            writer.write(index, lifted.isel({FRAME: slice(frames.start - lo, frames.stop - lo)}))
    writer.finalize()
    return open_zarr(store)


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
    overwrite: bool = False,
    temporal: bool | str = "auto",
    sequence: Any = None,
    image_size: tuple[int, int] | None = None,
    **overrides: Any,
) -> xr.Dataset:
    """Lift 2D keypoints to 3D poses with ZeDO.

    Parameters
    ----------
    ds : xarray.Dataset
        ``keypoints (frame, joint, uv)`` in pixels with H36M joint names (a subset is fine:
        absent joints are treated as missing), optional ``confidence (frame, joint)`` (0 or NaN
        keypoints mean missing) and optional ``K``. Extra dims (``individual``, ``camera``...)
        are lifted independently. ``uv`` labels, when present, must be ``u`` and ``v`` (any
        order). Pixel values and focal lengths must lie within a million pixels. A 2D movement
        poses dataset (``position (time, space, keypoint, individual)``, singular or plural dim
        names, keypoints of any known skeleton) is converted first with
        :func:`zedo_xr.io.from_movement`.
    K : array-like or DataArray, optional
        3x3 intrinsics in pixels, ``(frame, 3, 3)``, or a DataArray ``(..., row, col)`` whose
        other dims are dims of the keypoints; defaults to ``ds["K"]``.
    hypotheses : int
        Number S of initial poses (k-means centres of the prior) run together per frame. With
        one, each frame starts from the best-fitting of ``initial_pool`` (50) centres.
    iterations : int, optional
        Loop iterations (one network call each); defaults to the settings' (100 for
        ``"default"``, 1000 for ``"parity"``). Shorthand for the override ``iterations=``.
    prior : str, path or Prior
        ``"default"`` (bundled), a checkpoint directory, or a loaded prior.
    device : str or torch.device
        ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
    seed : int
        Seeds the random initial-pose methods; the loop itself is deterministic.
    batch_size : int, optional
        Frames per chunk (each chunk holds ``batch_size x hypotheses`` poses).
    progress : bool
        Show a progress bar in frames and frames per second.
    settings : {"default", "parity"} or LiftSettings
        A preset name or a :class:`~zedo_xr.estimator.settings.LiftSettings`. ``"parity"``
        reproduces the official update (Adam initial fit, 1000 iterations, full-``g^2`` step of
        1/1000).
    dtype : {"float32", "float64"}
        Tensor dtype.
    store : path or zarr store, optional
        Write the result to this zarr v3 store chunk by chunk (``batch_size`` frames each) and
        return it opened lazily. The store records a content hash of the inputs and every
        setting, and a checksum per finished chunk: calling again with the same arguments after
        an interruption verifies the finished chunks and lifts only the missing or damaged ones;
        other inputs or settings are refused with an error (see the storage guide).
    overwrite : bool
        With ``store``: replace an existing store instead of resuming it.
    temporal : {"auto", True, False}
        Lift each track (the frames of one ``individual``, or of one entry of the other extra
        dims) as a sequence in time (:mod:`zedo_xr.estimator.sequence`): one joint loop over its
        frames with temporal smoothness and one set of bone lengths, short gaps bridged and
        flagged ``interpolated``, several times faster than frame by frame. ``"auto"`` does so
        when ``ds.attrs["fps"]`` is set; ``True`` needs it.
    sequence : SequenceSettings, optional
        Settings of sequence lifting (smoothness, bones, gaps; defaults documented there).
    image_size : (width, height), optional
        Without K (neither ``K=`` nor ``ds["K"]``): the image size in pixels (default
        ``ds.attrs["image_width"]``, ``["image_height"]``), from which K is estimated: a 60 degree
        field of view, refined from the keypoints (:mod:`zedo_xr.estimator.intrinsics`). The
        output's ``K`` is the one used and ``attrs["zedo_K_source"]`` says ``"given"`` or
        ``"estimated"``.
    **overrides
        Single settings by name, fields of ``LiftSettings`` or its ``LoopSettings`` (e.g.
        ``initial_joints="hips"``, ``step_size=0.2``): the same as
        ``settings=resolve_settings(settings).replace(**overrides)``.

    Returns
    -------
    xarray.Dataset
        The input with ``pose3d (frame, [extra,] hypothesis, joint, coord)`` (absolute camera
        frame, metres), ``reprojection_error (frame, [extra,] hypothesis)`` (pixels),
        ``best_hypothesis (frame, [extra])`` (-1 where nothing was lifted), ``valid (frame,
        [extra])`` (False where the 2D is too thin to constrain a pose: fewer than 6 visible
        joints, or no hip and no shoulder; such frames are NaN, never a made-up pose),
        ``interpolated (frame, [extra])`` (gaps bridged by sequence lifting), ``K`` (the
        intrinsics used) and provenance attrs (prior and its hash, version, every setting,
        ``zedo_K_source``).

    Examples
    --------
    >>> import numpy as np, zedo_xr
    >>> from zedo_xr.datasets import make_views
    >>> from zedo_xr.io import load_cmu  # doctest: +SKIP
    >>> out = ds.zedo.lift(hypotheses=5, progress=False)  # doctest: +SKIP
    """
    from zedo_xr.device import resolve_device

    _validate_parameters(
        hypotheses=hypotheses,
        seed=seed,
        batch_size=batch_size,
        dtype=dtype,
        progress=progress,
        iterations=iterations,
    )
    _validate_objects(prior, store, overwrite)
    if is_movement_dataset(ds):  # movement's (time, space, keypoint, individual) layout
        ds = from_movement(ds)
    if iterations is not None:
        overrides["iterations"] = iterations
    preset = settings if isinstance(settings, str) else "custom"
    run = dict(
        prior=prior,
        hypotheses=int(hypotheses),
        settings=resolve_settings(settings, **overrides),
        device=resolve_device(device),
        seed=int(seed),
        batch_size=batch_size,
        dtype=dtype,
    )
    run.update(_temporal(ds, temporal, sequence))
    ds, K, k_source = _resolve_intrinsics(ds, K, image_size, run)
    if store is not None:
        return _lift_to_store(
            ds,
            store,
            K=K,
            k_source=k_source,
            preset=preset,
            progress=bool(progress),
            overwrite=bool(overwrite),
            **run,
        )
    kp, conf, K_da = _prepare(ds, K)
    if kp.chunks is not None:
        out = _lift_dask(ds, kp, conf, K_da, **run)
        out.attrs.update(_provenance(run, preset=preset, seconds=None))
        return out.assign({K_VAR: K_da}).assign_attrs(zedo_K_source=k_source)
    start = time.perf_counter()
    with _threads(run, math.prod(kp.sizes[d] for d in _Layout.of(kp, 1).dims)):
        out = _lift_eager(ds, kp, conf, K_da, progress=bool(progress), **run)
    out.attrs.update(_provenance(run, preset=preset, seconds=time.perf_counter() - start))
    return out.assign({K_VAR: K_da}).assign_attrs(zedo_K_source=k_source)


def _threads(run: Mapping[str, Any], frames: int) -> Any:
    """Intra-op threads for the chunk size on a CPU (:mod:`zedo_xr.estimator.threads`)."""
    import contextlib

    from zedo_xr.estimator.pipeline import default_batch_size
    from zedo_xr.estimator.threads import intra_op_threads, threads_for

    if run["device"].type != "cpu":
        return contextlib.nullcontext()
    chunk = min(frames, run["batch_size"] or default_batch_size(run["device"], run["hypotheses"]))
    return intra_op_threads(threads_for(chunk * run["hypotheses"]))


def _temporal(ds: xr.Dataset, temporal: Any, sequence: Any) -> dict[str, Any]:
    """``temporal``, ``fps`` and ``sequence`` entries of a run (see ``temporal`` in :func:`lift`)."""
    if temporal not in ("auto", True, False):
        raise ValueError(f"temporal: expected 'auto', True or False, got {temporal!r}")
    fps = ds.attrs.get("fps") if isinstance(ds, xr.Dataset) else None
    if temporal is True and fps is None:
        raise SchemaError(
            "temporal: expected the frame rate in ds.attrs['fps'] for sequence lifting, "
            "got no 'fps' attribute"
        )
    on = bool(temporal is True or (temporal == "auto" and fps is not None))
    if not on:
        return {"temporal": False}
    fps_value = float(fps)  # type: ignore[arg-type]
    if not (math.isfinite(fps_value) and fps_value > 0):
        raise SchemaError(f"fps: expected a positive frame rate in ds.attrs['fps'], got {fps!r}")
    from zedo_xr.estimator.sequence import SequenceSettings

    if sequence is None:
        sequence = SequenceSettings()
    if not isinstance(sequence, SequenceSettings):
        raise ValueError(f"sequence: expected a SequenceSettings, got {type(sequence).__name__}")
    return {"temporal": True, "fps": fps_value, "sequence": sequence}


def _resolve_intrinsics(
    ds: xr.Dataset, K: Any, image_size: Any, run: Mapping[str, Any]
) -> tuple[xr.Dataset, Any, str]:
    """The dataset and K to lift with, and where K came from (``"given"`` or ``"estimated"``)."""
    if K is not None or not isinstance(ds, xr.Dataset) or K_VAR in ds:
        return ds, K, "given"
    if image_size is None and {"image_width", "image_height"} <= set(ds.attrs):
        image_size = (ds.attrs["image_width"], ds.attrs["image_height"])
    if image_size is None:
        raise SchemaError(
            f"{K_VAR}: expected camera intrinsics, as lift(K=...) or a '{K_VAR}' variable, "
            "or the image size to estimate them from (lift(image_size=(width, height)) or "
            "attrs image_width / image_height); got none of these"
        )
    return ds, _estimated_intrinsics(ds, image_size, run), "estimated"


def _estimated_intrinsics(ds: xr.Dataset, image_size: Any, run: Mapping[str, Any]) -> xr.DataArray:
    """K (row, col) from the image size and the keypoints (one camera for the whole dataset)."""
    import torch

    from zedo_xr.estimator.intrinsics import estimate_focal, focal_from_fov, intrinsics
    from zedo_xr.estimator.pipeline import load_model, torch_dtype

    focal_from_fov(image_size, 60.0)  # validates image_size with a clear message
    placeholder = xr.DataArray(np.eye(3), dims=(ROW, COL))
    kp, conf, _ = _prepare(ds.assign({K_VAR: placeholder}), None)
    uv, c, _ = _flatten(kp, conf, placeholder)
    tdtype = torch_dtype(run["dtype"])
    model = load_model(run["prior"], run["device"], tdtype)
    canonical = torch.as_tensor(model.initial_poses(1), device=run["device"], dtype=tdtype)
    with torch.no_grad():
        focal, _ = estimate_focal(
            model,
            canonical,
            torch.as_tensor(uv, device=run["device"], dtype=tdtype),
            torch.as_tensor(c, device=run["device"], dtype=tdtype),
            image_size,
            run["settings"],
        )
    K = intrinsics(image_size, focal, dtype=torch.float64).numpy()
    return xr.DataArray(K, dims=(ROW, COL), attrs={"units": "pixels", "source": "estimated"})
