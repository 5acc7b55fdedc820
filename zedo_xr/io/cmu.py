"""Reader for the CMU mocap subset converted to the 17 H36M joints (``cmu_h36m17.npz``).

The original file stores pickled dicts, and zedo-xr never unpickles a file: it reads a
pickle-free conversion of it (plain arrays, see :data:`ARRAYS`), made once per machine by
``python scripts/convert_cmu_npz.py cmu_h36m17.npz``. :func:`load_cmu` accepts either the
converted file or the original; given the original it reads the conversion stored under
:func:`converted_path` (a cache folder keyed by the original's sha256), and refuses with that
command when there is none.
"""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import numpy as np
import xarray as xr

from zedo_xr.io._common import pose_array
from zedo_xr.schema import SchemaError

CMU_LICENCE = (
    "CMU Graphics Lab Motion Capture Database (mocap.cs.cmu.edu): free for research use; may be "
    "included in commercially-sold products but not resold directly, even converted. "
    "Acknowledgement: 'The data used in this project was obtained from mocap.cs.cmu.edu.' "
    "Subset and exp-map files from Li et al., CVPR 2018 (MIT licence, (c) 2018 Li Chen)."
)
ARRAYS = ("positions", "sequence", "frame", "valid", "fps")
"""Per split (``train_positions``, ...): ``(N, 17, 3)`` metres, sequence names, frame indices in
the original sequences, the source-glitch mask, and the frame rate."""


def cache_dir() -> Path:
    """``$ZEDO_XR_CACHE``, else ``~/.cache/zedo-xr``."""
    return Path(os.environ.get("ZEDO_XR_CACHE", Path.home() / ".cache" / "zedo-xr"))


def converted_path(original: str | Path) -> Path:
    """Where the pickle-free conversion of ``original`` is stored (keyed by its sha256)."""
    digest = hashlib.sha256(Path(original).read_bytes()).hexdigest()[:16]
    return cache_dir() / "cmu" / f"{Path(original).stem}-{digest}.npz"


def stores_objects(path: str | Path) -> bool:
    """Whether an ``.npz`` holds object (pickled) arrays, read from the headers without loading."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            with archive.open(name) as f:
                version = np.lib.format.read_magic(f)
                header = (
                    np.lib.format.read_array_header_1_0(f)
                    if version == (1, 0)
                    else np.lib.format.read_array_header_2_0(f)
                )
                if header[2].hasobject:
                    return True
    return False


def _pickle_free(path: Path) -> Path:
    if not stores_objects(path):
        return path
    converted = converted_path(path)
    if converted.exists():
        return converted
    raise SchemaError(
        f"{path.name}: expected a pickle-free npz, got one that stores pickled objects (zedo-xr "
        f"never unpickles a file); convert it once with `python scripts/convert_cmu_npz.py "
        f"{path}` (it writes {converted})"
    )


def load_cmu(path: str | Path, split: str = "train", *, valid_only: bool = True) -> xr.DataArray:
    """Load one split of the CMU subset as ``(frame, joint, coord)`` poses, without unpickling.

    Parameters
    ----------
    path
        The converted ``cmu_h36m17`` npz, or the original (see the module docstring).
    split
        ``"train"`` or ``"test"``.
    valid_only
        Drop frames flagged as source glitches by the file's ``valid`` mask.

    Returns
    -------
    DataArray, dims (frame, joint, coord)
        Metres, Z-up world, H36M joints, 120 fps. Non-index coords ``sequence`` (e.g.
        ``"walking/walking_1"``) and ``frame_in_sequence`` (index in the original sequence,
        so dropped frames leave gaps).
    """
    if split not in ("train", "test"):
        raise ValueError(f"split: expected 'train' or 'test', got {split!r}")
    path = Path(path)
    with np.load(_pickle_free(path), allow_pickle=False) as data:
        missing = [f"{split}_{k}" for k in ARRAYS if f"{split}_{k}" not in data.files]
        if missing:
            raise SchemaError(f"{path.name}: expected the arrays {missing}, got {data.files}")
        pos, names, frame, valid, fps = (data[f"{split}_{k}"] for k in ARRAYS)
    keep = valid.astype(bool) if valid_only else np.ones(len(pos), bool)
    return pose_array(
        pos[keep],
        fps=float(fps),
        source=f"CMU mocap subset as H36M-17 ({path.name}, split {split})",
        licence=CMU_LICENCE,
        sequence=names[keep].astype(object),
        frame_in_sequence=frame[keep],
        attrs={"split": split, "valid_only": int(valid_only)},
    )
