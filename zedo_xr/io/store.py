"""Zarr v3 storage of zedo-xr datasets, and a resumable frame-chunk writer for long lifts.

Pitfalls handled here: consolidated metadata is written after the data, with zarr's warning that
it is not yet part of the v3 spec silenced, so that plain ``xarray.open_zarr`` opens our stores
without a warning (this package reads them with ``consolidated=False``); string coords are
stored as object arrays (variable-length UTF-8, no spec warning) and read back as object arrays;
attrs that JSON cannot hold exactly (dicts, lists, tuples, None, arrays) are JSON-encoded and
decoded on reading; region writes carry only the variables along ``frame``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import xarray as xr

from zedo_xr.schema import FRAME, SchemaError

_JSON_ATTRS = "_zedo_json_attrs"
CHUNK_DONE = "chunk_done"
CHUNK_DIM = "frame_chunk"

StoreLike = str | os.PathLike | Any
ZarrMode = Literal["w", "w-", "a", "a-", "r+"]


# --------------------------------------------------------------------------- attrs and strings
def _encode_attrs(attrs: Mapping[Hashable, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    encoded = []
    for key, value in attrs.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            out[str(key)] = value
        else:
            if isinstance(value, np.ndarray):
                value = {"__ndarray__": value.tolist(), "dtype": value.dtype.str}
            elif isinstance(value, tuple):
                value = {"__tuple__": list(value)}
            out[str(key)] = json.dumps(value)
            encoded.append(str(key))
    if encoded:
        out[_JSON_ATTRS] = json.dumps(encoded)
    return out


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=np.dtype(value["dtype"]))
    if isinstance(value, dict) and "__tuple__" in value:
        return tuple(value["__tuple__"])
    return value


def _decode_attrs(attrs: Mapping[Hashable, Any]) -> dict[Hashable, Any]:
    out = dict(attrs)
    encoded = json.loads(out.pop(_JSON_ATTRS, "[]"))
    for key in encoded:
        out[key] = _decode_value(json.loads(out[key]))
    return out


def _is_string(dtype: np.dtype) -> bool:
    return dtype.kind in "USTO"


def _strings_to_object(ds: xr.Dataset) -> xr.Dataset:
    """String variables and coords as in-memory object arrays (zarr v3 writes them silently)."""
    updates = {}
    for name, var in ds.variables.items():
        # dask-backed strings are loaded: xarray would warn while guessing their dtype.
        if _is_string(var.dtype) and (var.dtype.kind != "O" or var.chunks is not None):
            updates[name] = var.copy(data=np.asarray(var.values).astype(object))
    if not updates:
        return ds
    coords = {k: v for k, v in updates.items() if k in ds.coords}
    data = {k: v for k, v in updates.items() if k not in ds.coords}
    return ds.assign_coords(coords).assign(data)


def _encode(ds: xr.Dataset) -> xr.Dataset:
    ds = _strings_to_object(ds).copy()
    ds.attrs = _encode_attrs(ds.attrs)
    for var in ds.variables.values():
        var.attrs = _encode_attrs(var.attrs)
    return ds


def _decode(ds: xr.Dataset) -> xr.Dataset:
    ds = _strings_to_object(ds)
    ds.attrs = _decode_attrs(ds.attrs)
    for var in ds.variables.values():
        var.attrs = _decode_attrs(var.attrs)
    return ds


# --------------------------------------------------------------------------- whole datasets
def to_zarr(
    ds: xr.Dataset | xr.DataArray,
    store: StoreLike,
    *,
    mode: ZarrMode = "w-",
    chunks: Mapping[str, int] | None = None,
) -> None:
    """Write a dataset as a zarr v3 store that :func:`open_zarr` reads back identically.

    Parameters
    ----------
    ds
        Dataset (a DataArray is written as a one-variable dataset).
    store
        Path or zarr store.
    mode
        ``"w-"`` (fail if it exists), ``"w"`` (overwrite), or the other xarray zarr modes.
    chunks
        Chunk sizes by dim (e.g. ``{"frame": 1000}``); default: dask chunks, or zarr's choice.

    Examples
    --------
    >>> import numpy as np, tempfile, xarray as xr
    >>> ds = xr.Dataset({"a": ("frame", np.arange(3.0))}, attrs={"settings": {"n": 1}})
    >>> path = tempfile.mkdtemp() + "/out.zarr"
    >>> to_zarr(ds, path)
    >>> open_zarr(path).load().attrs["settings"]
    {'n': 1}
    """
    if isinstance(ds, xr.DataArray):
        ds = ds.to_dataset(name=ds.name if ds.name is not None else "data")
    if chunks is not None:
        ds = ds.drop_encoding().chunk(dict(chunks))
    _encode(ds).to_zarr(store, mode=mode, zarr_format=3, consolidated=False)
    _consolidate(store)


def open_zarr(store: StoreLike, *, chunks: Any = None) -> xr.Dataset:
    """Open a store written by :func:`to_zarr` (or :class:`ChunkedZarrWriter`).

    ``chunks=None`` reads lazily without dask; pass ``{}``/``"auto"``/a dict for dask arrays.
    String coords come back as object arrays and JSON-encoded attrs are decoded.
    """
    ds = xr.open_zarr(store, chunks=chunks, zarr_format=3, consolidated=False)
    return _decode(ds)


# --------------------------------------------------------------------------- resumable writer
RECORD = "zedo_store"
"""Subgroup holding the writer's record: per-chunk checksums and the store's identity (plain
xarray does not open subgroups, so it never shows up as a variable)."""
CHECKSUM = "chunk_checksum"
_PARTIAL = ".partial-"


class StoreError(ValueError):
    """A store cannot be used for this call (other inputs or settings, not a writer's store)."""


def _describe(store: StoreLike) -> str:
    return repr(str(store)) if isinstance(store, str | os.PathLike) else type(store).__name__


def _differences(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Human-readable differences between two nested identity dicts."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} in the store, {b!r} now")
    return out


def _chunk_bytes(values: np.ndarray) -> bytes:
    if values.dtype.kind == "O":
        return "\x00".join(map(str, values.ravel())).encode()
    return np.ascontiguousarray(values).tobytes()


class ChunkedZarrWriter:
    """Write a long dataset frame chunk by frame chunk, resumably and verifiably.

    The store is created from ``template`` (dims, coords, attrs and the variables not along
    ``frame`` written at once; variables along ``frame`` left unwritten). A store at a local path
    is built under a temporary name beside it and renamed when complete, so an interrupted
    creation never leaves a half-made store at ``store``.

    :meth:`write` region-writes one chunk of ``frame_chunk`` frames, reads it back and records
    its checksum in the store (subgroup ``zedo_store``); a chunk counts as done only when its
    record matches what the store holds. Reopening the same store verifies every recorded chunk
    and makes missing or damaged ones pending again.

    ``identity`` (a JSON-ready dict, e.g. hashes of the inputs and the settings) is recorded at
    creation; reopening with another identity raises :class:`StoreError` naming what differs,
    unless ``overwrite=True``, which replaces the store.

    Examples
    --------
    >>> import numpy as np, tempfile, xarray as xr
    >>> template = xr.Dataset({"a": (("frame", "joint"), np.zeros((5, 2)))})
    >>> writer = ChunkedZarrWriter(tempfile.mkdtemp() + "/x.zarr", template, frame_chunk=2)
    >>> writer.pending()
    [0, 1, 2]
    >>> for i in writer.pending():
    ...     writer.write(i, template.isel(frame=writer.frames(i)) + 1)
    >>> writer.finalize()
    """

    def __init__(
        self,
        store: StoreLike,
        template: xr.Dataset,
        frame_chunk: int,
        *,
        identity: Mapping[str, Any] | None = None,
        overwrite: bool = False,
        verify: bool = True,
    ) -> None:
        if FRAME not in template.dims:
            raise SchemaError(f"template: expected a '{FRAME}' dim, got dims {tuple(template.dims)}")
        if isinstance(frame_chunk, bool) or not isinstance(frame_chunk, int | np.integer) or frame_chunk < 1:
            raise ValueError(f"frame_chunk: expected a positive integer, got {frame_chunk!r}")
        self.store = store
        self.frame_chunk = int(frame_chunk)
        self.n_frames = int(template.sizes[FRAME])
        self.n_chunks = -(-self.n_frames // self.frame_chunk)
        self.frame_vars = sorted(str(n) for n, v in template.data_vars.items() if FRAME in v.dims)
        self.identity = json.loads(json.dumps(dict(identity or {})))  # as stored: JSON types
        if overwrite:
            self._remove()
        if self._exists():
            self._check_compatible(template)
            if verify:
                self.verify()
        else:
            self._create(template)

    # -- where the store is
    @property
    def _path(self) -> Path | None:
        return Path(self.store) if isinstance(self.store, str | os.PathLike) else None

    def _exists(self) -> bool:
        path = self._path
        if path is not None:
            if path.exists() and not (path / "zarr.json").exists():
                if path.is_dir() and not any(path.iterdir()):
                    path.rmdir()  # an empty folder (e.g. made by the user): not a store yet
                    return False
                raise StoreError(
                    f"store: expected a new path or a zarr store, got {_describe(self.store)}, "
                    "which exists and is not a zarr store; choose another path"
                )
            return path.exists()
        import zarr

        try:
            zarr.open_group(self.store, mode="r", use_consolidated=False)
        except (FileNotFoundError, zarr.errors.GroupNotFoundError):
            return False
        return True

    def _group(self, mode: Literal["r", "r+"] = "r+", target: StoreLike | None = None):
        import zarr

        return zarr.open_group(
            self.store if target is None else target, mode=mode, zarr_format=3, use_consolidated=False
        )

    def _remove(self) -> None:
        """Delete the store (``overwrite=True``): only a zarr store, never another folder."""
        path = self._path
        if path is None:
            import zarr

            zarr.open_group(self.store, mode="w", zarr_format=3)  # clears it
            return
        if not path.exists():
            return
        if not (path / "zarr.json").exists() and not (path.is_dir() and not any(path.iterdir())):
            raise StoreError(
                f"store: expected a zarr store to overwrite, got {_describe(self.store)}, "
                "which is not one; refusing to delete it"
            )
        import shutil

        shutil.rmtree(path)

    def frames(self, index: int) -> slice:
        """Frame slice of chunk ``index``."""
        if not 0 <= index < self.n_chunks:
            raise IndexError(f"index: expected 0 <= index < {self.n_chunks}, got {index}")
        return slice(index * self.frame_chunk, min((index + 1) * self.frame_chunk, self.n_frames))

    # -- creation
    def _create(self, template: xr.Dataset) -> None:
        path = self._path
        if path is None:
            self._write_skeleton(template, self.store)
            return
        import shutil
        import uuid

        for stale in path.parent.glob(f".{path.name}{_PARTIAL}*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by a creation that was killed
        tmp = path.parent / f".{path.name}{_PARTIAL}{uuid.uuid4().hex[:8]}"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._write_skeleton(template, tmp)
            os.rename(tmp, path)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise type(err)(
                err.errno,
                f"store: cannot create {_describe(self.store)} "
                f"({err.strerror or err}); expected a writable location",
            ) from err

    def _write_skeleton(self, template: xr.Dataset, target: StoreLike) -> None:
        import dask.array as da
        import zarr

        lazy = template.drop_encoding().copy()
        for name in self.frame_vars:
            var = template[name].variable
            chunks = tuple(self.frame_chunk if d == FRAME else s for d, s in var.sizes.items())
            lazy[name] = xr.Variable(var.dims, da.zeros(var.shape, dtype=var.dtype, chunks=chunks), var.attrs)
        # compute=False writes metadata, coords and in-memory variables; frame variables stay
        # unwritten until their region is written.
        _encode(lazy).to_zarr(target, mode="w-", zarr_format=3, consolidated=False, compute=False)
        # The record comes last: a store without it was never completely created.
        record = zarr.open_group(target, mode="r+", zarr_format=3, use_consolidated=False)
        sub = record.create_group(
            RECORD,
            attributes={
                "format": 1,
                "frame_chunk": self.frame_chunk,
                "n_frames": self.n_frames,
                "frame_vars": self.frame_vars,
                "identity": self.identity,
                "complete": False,
            },
        )
        # One chunk per record: recording chunk i rewrites only its own 8 bytes.
        sub.create_array(CHECKSUM, shape=(self.n_chunks,), chunks=(1,), dtype="uint64", fill_value=0)

    # -- reopening
    def _record(self) -> Any:
        group = self._group("r")
        if RECORD not in group:
            raise StoreError(
                f"store: expected a store made by zedo-xr's chunk writer, got {_describe(self.store)} "
                f"without its '{RECORD}' record (another program's store, an older zedo-xr's, or an "
                "interrupted creation); write to another path, or pass overwrite=True "
                "(zedo lift --overwrite) to replace it"
            )
        return group[RECORD]

    def _check_compatible(self, template: xr.Dataset) -> None:
        attrs = dict(self._record().attrs)
        if attrs.get("identity", {}) != self.identity:
            diff = "; ".join(_differences(attrs.get("identity", {}), self.identity))
            state = "a complete" if attrs.get("complete") else "an unfinished"
            raise StoreError(
                f"store: expected a store of these inputs and settings, got {_describe(self.store)}, "
                f"{state} store of other ones ({diff}); rerun with the store's inputs and settings "
                "to resume or reopen it, write to another path, or pass overwrite=True "
                "(zedo lift --overwrite) to replace it"
            )
        if attrs.get("frame_chunk") != self.frame_chunk:
            raise StoreError(
                f"frame_chunk: expected the store's {attrs.get('frame_chunk')} (batch_size it was "
                f"started with), got {self.frame_chunk}; resume with the same batch_size, write to "
                "another path, or pass overwrite=True (zedo lift --overwrite)"
            )
        if attrs.get("n_frames") != self.n_frames or attrs.get("frame_vars") != self.frame_vars:
            raise StoreError(
                f"store: expected {self.n_frames} frames of {self.frame_vars}, got a store of "
                f"{attrs.get('n_frames')} frames of {attrs.get('frame_vars')}; write to another "
                "path, or pass overwrite=True"
            )
        existing = xr.open_zarr(self.store, chunks=None, zarr_format=3, consolidated=False)
        for name in self.frame_vars:
            if name not in existing or existing[name].sizes != template[name].sizes:
                found = dict(existing[name].sizes) if name in existing else "none"
                raise StoreError(
                    f"{name}: expected sizes {dict(template[name].sizes)} as in the "
                    f"template, got {found} in the store; pass overwrite=True"
                )
        if FRAME in template.coords and not np.array_equal(existing[FRAME].values, template[FRAME].values):
            raise StoreError(
                f"{FRAME}: expected the store's frame coords, got other ones; pass overwrite=True"
            )

    # -- completion records
    def _checksum(self, index: int, group: Any) -> int:
        """Checksum of chunk ``index`` as the store holds it (never 0, the "not written" mark)."""
        import hashlib

        region = self.frames(index)
        h = hashlib.blake2b(digest_size=8)
        for name in self.frame_vars:
            arr = group[name]
            axis = list(arr.metadata.dimension_names).index(FRAME)
            sel = tuple(region if i == axis else slice(None) for i in range(arr.ndim))
            h.update(name.encode())
            h.update(_chunk_bytes(np.asarray(arr[sel])))
        return int.from_bytes(h.digest(), "little") or 1

    def verify(self) -> list[int]:
        """Re-check every recorded chunk against the store; missing or damaged ones become
        pending again. Returns the indices found damaged."""
        group = self._group()
        records = group[RECORD][CHECKSUM]
        recorded = np.asarray(records[:])
        damaged = []
        for index in np.flatnonzero(recorded):
            try:
                ok = self._checksum(int(index), group) == int(recorded[index])
            except Exception:  # an unreadable chunk (truncated, corrupt): redo it
                ok = False
            if not ok:
                records[int(index)] = 0
                damaged.append(int(index))
        if damaged:
            group[RECORD].attrs["complete"] = False
        return damaged

    def done(self) -> np.ndarray:
        """Bool array, one entry per chunk: written completely (as last recorded)."""
        return np.asarray(self._group("r")[RECORD][CHECKSUM][:]) != 0

    def pending(self) -> list[int]:
        """Indices of the chunks not yet written."""
        return [int(i) for i in np.flatnonzero(~self.done())]

    def write(self, index: int, ds_chunk: xr.Dataset) -> None:
        """Region-write the frame variables of chunk ``index``, then record it done."""
        region = self.frames(index)
        n = region.stop - region.start
        missing = [v for v in self.frame_vars if v not in ds_chunk]
        if missing:
            raise SchemaError(
                f"ds_chunk: expected the frame variables {self.frame_vars}, got none for {missing}"
            )
        part = ds_chunk[self.frame_vars]
        if part.sizes[FRAME] != n:
            raise SchemaError(
                f"ds_chunk: chunk {index} covers {n} frames ({region.start}:{region.stop}), "
                f"got {part.sizes[FRAME]}"
            )
        # Region writes may only hold variables along the region dim; coords are in the store.
        part = part.drop_vars(list(part.coords)).drop_encoding()
        for var in part.variables.values():
            var.attrs = {}
        try:
            part.to_zarr(self.store, region={FRAME: region}, mode="r+", zarr_format=3, consolidated=False)
            self._mark_done(index)
        except OSError as err:
            raise type(err)(
                err.errno,
                f"store: writing chunk {index} (frames {region.start}:"
                f"{region.stop}) of {_describe(self.store)} failed ({err.strerror or err}); "
                "the chunks recorded so far are kept: fix the cause and rerun the same "
                "call to resume",
            ) from err

    def _mark_done(self, index: int) -> None:
        group = self._group()
        group[RECORD][CHECKSUM][index] = self._checksum(index, group)

    def finalize(self) -> None:
        """Check that every chunk is recorded, mark the store complete and consolidate its
        metadata (so that plain ``xarray.open_zarr`` opens it without a warning)."""
        pending = self.pending()
        if pending:
            raise RuntimeError(f"finalize: chunks {pending} are not written yet")
        self._group()[RECORD].attrs["complete"] = True
        _consolidate(self.store)


def _consolidate(store: StoreLike) -> None:
    import warnings

    import zarr

    with warnings.catch_warnings():
        # zarr says consolidated metadata is not (yet) in the v3 spec; xarray reads it, and the
        # store stays readable without it.
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        zarr.consolidate_metadata(store, zarr_format=3)
