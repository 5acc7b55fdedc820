"""Zarr v3 storage of zedo-xr datasets, and a resumable frame-chunk writer for long lifts.

Pitfalls handled here (see the ecosystem notes, §3): zarr v3 is written without consolidated
metadata (it warns otherwise); string coords are stored as object arrays (variable-length UTF-8,
no spec warning) and read back as object arrays; attrs that JSON cannot hold exactly (dicts,
lists, tuples, None, arrays) are JSON-encoded and decoded on reading; region writes carry only
the variables along ``frame``.
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


def open_zarr(store: StoreLike, *, chunks: Any = None) -> xr.Dataset:
    """Open a store written by :func:`to_zarr` (or :class:`ChunkedZarrWriter`).

    ``chunks=None`` reads lazily without dask; pass ``{}``/``"auto"``/a dict for dask arrays.
    String coords come back as object arrays and JSON-encoded attrs are decoded.
    """
    ds = xr.open_zarr(store, chunks=chunks, zarr_format=3, consolidated=False)
    return _decode(ds)


# --------------------------------------------------------------------------- resumable writer
class ChunkedZarrWriter:
    """Write a long dataset frame chunk by frame chunk, resumably.

    The store is created from ``template`` (dims, coords, attrs, non-frame variables written at
    once; variables along ``frame`` left unwritten). :meth:`write` region-writes one chunk of
    ``frame_chunk`` frames and only then marks it done in the ``chunk_done`` array, so a chunk
    interrupted mid-write is pending again when the same store is reopened with the same
    template. :meth:`finalize` checks that nothing is pending and removes ``chunk_done``.

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

    def __init__(self, store: StoreLike, template: xr.Dataset, frame_chunk: int) -> None:
        if FRAME not in template.dims:
            raise SchemaError(
                f"template: expected a '{FRAME}' dim, got dims {tuple(template.dims)}"
            )
        if frame_chunk < 1:
            raise ValueError(f"frame_chunk: expected a positive integer, got {frame_chunk}")
        self.store = store
        self.frame_chunk = int(frame_chunk)
        self.n_frames = int(template.sizes[FRAME])
        self.n_chunks = -(-self.n_frames // self.frame_chunk)
        self.frame_vars = [n for n, v in template.data_vars.items() if FRAME in v.dims]
        if not self._exists():
            self._create(template)
        else:
            self._check_compatible(template)

    # -- helpers
    def _exists(self) -> bool:
        if isinstance(self.store, str | os.PathLike):
            return (Path(self.store) / "zarr.json").exists()
        import zarr

        try:
            zarr.open_group(self.store, mode="r")
        except (FileNotFoundError, zarr.errors.GroupNotFoundError):
            return False
        return True

    def _group(self, mode: Literal["r", "r+"] = "r+"):
        import zarr

        return zarr.open_group(self.store, mode=mode, zarr_format=3)

    def frames(self, index: int) -> slice:
        """Frame slice of chunk ``index``."""
        if not 0 <= index < self.n_chunks:
            raise IndexError(f"index: expected 0 <= index < {self.n_chunks}, got {index}")
        return slice(index * self.frame_chunk, min((index + 1) * self.frame_chunk, self.n_frames))

    def _create(self, template: xr.Dataset) -> None:
        import dask.array as da

        lazy = template.drop_encoding().copy()
        for name in self.frame_vars:
            var = template[name].variable
            chunks = tuple(self.frame_chunk if d == FRAME else s for d, s in var.sizes.items())
            zeros = da.zeros(var.shape, dtype=var.dtype, chunks=chunks)
            lazy[name] = xr.Variable(var.dims, zeros, var.attrs)
        lazy[CHUNK_DONE] = xr.Variable(
            (CHUNK_DIM,),
            np.zeros(self.n_chunks, dtype=bool),
            {"frame_chunk": self.frame_chunk, "n_frames": self.n_frames},
        )
        # compute=False writes metadata, coords and in-memory variables; frame variables stay
        # unwritten until their region is written.
        _encode(lazy).to_zarr(
            self.store, mode="w-", zarr_format=3, consolidated=False, compute=False
        )

    def _check_compatible(self, template: xr.Dataset) -> None:
        group = self._group("r")
        if CHUNK_DONE in group:
            attrs = dict(group[CHUNK_DONE].attrs)
            if attrs.get("frame_chunk") != self.frame_chunk:
                raise ValueError(
                    f"frame_chunk: the store was started with {attrs.get('frame_chunk')}, "
                    f"got {self.frame_chunk}"
                )
        existing = xr.open_zarr(self.store, chunks=None, zarr_format=3, consolidated=False)
        for name in self.frame_vars:
            if name not in existing:
                raise SchemaError(f"{name}: in the template but not in the existing store")
            if existing[name].sizes != template[name].sizes:
                raise SchemaError(
                    f"{name}: template sizes {dict(template[name].sizes)} differ from the "
                    f"store's {dict(existing[name].sizes)}"
                )
        if FRAME in template.coords and not np.array_equal(
            existing[FRAME].values, template[FRAME].values
        ):
            raise SchemaError(f"{FRAME}: template frame coords differ from the store's")

    # -- public
    def done(self) -> np.ndarray:
        """Bool array, one entry per chunk: written completely."""
        group = self._group("r")
        if CHUNK_DONE not in group:  # finalized
            return np.ones(self.n_chunks, dtype=bool)
        return np.asarray(group[CHUNK_DONE][:]).astype(bool)

    def pending(self) -> list[int]:
        """Indices of the chunks not yet written."""
        return [int(i) for i in np.flatnonzero(~self.done())]

    def write(self, index: int, ds_chunk: xr.Dataset) -> None:
        """Region-write the frame variables of chunk ``index``, then mark it done."""
        region = self.frames(index)
        n = region.stop - region.start
        missing = [v for v in self.frame_vars if v not in ds_chunk]
        if missing:
            raise SchemaError(f"ds_chunk: missing frame variables {missing}")
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
        part.to_zarr(
            self.store, region={FRAME: region}, mode="r+", zarr_format=3, consolidated=False
        )
        self._mark_done(index)

    def _mark_done(self, index: int) -> None:
        group = self._group()
        if CHUNK_DONE in group:
            group[CHUNK_DONE][index] = True

    def finalize(self) -> None:
        """Check that every chunk was written and drop the bookkeeping array."""
        pending = self.pending()
        if pending:
            raise RuntimeError(f"finalize: chunks {pending} are not written yet")
        group = self._group()
        if CHUNK_DONE in group:
            del group[CHUNK_DONE]
