"""Convert the shared ``cmu_h36m17.npz`` (pickled dicts) to a pickle-free npz, once.

The original file (Li et al.'s CMU subset as H36M-17, VideoPose3D style) stores ``positions_3d``,
``fps`` and ``valid`` as pickled Python dicts of arrays. zedo-xr never unpickles a file it reads,
so :func:`zedo_xr.io.load_cmu` reads the converted file that this script writes (by default to
``zedo_xr.io.cmu.converted_path(SRC)``, a cache folder keyed by the original's sha256, where
``load_cmu(SRC)`` finds it; the shared data folder itself is read-only): plain arrays only, per
split ``{split}_positions`` ``(N, 17, 3)``, ``{split}_sequence`` ``(N,)`` names,
``{split}_frame`` ``(N,)`` frame indices in the original sequences, ``{split}_valid`` ``(N,)``
bool, ``{split}_fps`` scalar; plus
``joint_names``, ``parents`` and ``metadata``.

This script is the one place that reads the pickles, and it does so with a restricted unpickler
that only rebuilds numpy arrays and scalars (any other class in the file stops it), on a file
whose origin is documented in its README. Run it once per machine::

    python scripts/convert_cmu_npz.py ../shared/data/cmu/cmu_h36m17.npz
"""

from __future__ import annotations

import argparse
import io
import pickle
import zipfile
from pathlib import Path

import numpy as np

ALLOWED = {
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Rebuilds numpy arrays, dtypes, scalars and plain containers; refuses everything else."""

    def find_class(self, module: str, name: str):
        if (module, name) not in ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name} from the file")
        return super().find_class(module, name)


def read_member(archive: zipfile.ZipFile, name: str):
    """One ``.npy`` member: a plain array, or the restricted unpickling of an object array."""
    with archive.open(name) as f:
        version = np.lib.format.read_magic(f)
        _, _, dtype = (
            np.lib.format.read_array_header_1_0(f)
            if version == (1, 0)
            else np.lib.format.read_array_header_2_0(f)
        )
        payload = f.read()
    if dtype != np.dtype(object):
        with archive.open(name) as f:
            return np.lib.format.read_array(f, allow_pickle=False)
    obj = NumpyOnlyUnpickler(io.BytesIO(payload)).load()
    return obj.item() if isinstance(obj, np.ndarray) and obj.shape == () else obj


def convert(src: Path, dst: Path) -> Path:
    with zipfile.ZipFile(src) as archive:
        data = {Path(n).stem: read_member(archive, n) for n in archive.namelist()}
    out: dict[str, np.ndarray] = {k: np.asarray(data[k]) for k in ("joint_names", "parents", "metadata")}
    for split in ("train", "test"):
        positions, fps, valid = (data[k][split] for k in ("positions_3d", "fps", "valid"))
        names = sorted(positions)
        rates = {float(fps[n]) for n in names}
        if len(rates) != 1:
            raise SystemExit(f"{split}: expected one frame rate, got {sorted(rates)}")
        out[f"{split}_positions"] = np.concatenate([np.asarray(positions[n]) for n in names])
        out[f"{split}_sequence"] = np.concatenate([np.full(len(positions[n]), n) for n in names]).astype(str)
        out[f"{split}_frame"] = np.concatenate([np.arange(len(positions[n])) for n in names])
        out[f"{split}_valid"] = np.concatenate([np.asarray(valid[n], bool) for n in names])
        out[f"{split}_fps"] = np.float64(rates.pop())
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp.npz")
    np.savez_compressed(tmp, **out)
    tmp.replace(dst)
    return dst


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", help="the original cmu_h36m17.npz")
    ap.add_argument(
        "dst",
        nargs="?",
        default=None,
        help="default: where load_cmu(SRC) looks (zedo_xr.io.cmu.converted_path)",
    )
    args = ap.parse_args(argv)
    from zedo_xr.io.cmu import converted_path

    src = Path(args.src)
    dst = Path(args.dst) if args.dst else converted_path(src)
    print(convert(src, dst))


if __name__ == "__main__":
    main()
