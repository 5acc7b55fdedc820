"""The repository's development pose sources, by name (caller side: the package knows no paths).

``../shared/data`` next to the repository holds them (override with ``--data-root`` or the
``ZEDO_SHARED_DATA`` environment variable). Each name maps to a reader of :mod:`zedo_xr.io`:

=============  =========================================================  ===================
name           data                                                       licence
=============  =========================================================  ===================
cmu-train      CMU mocap subset, train split (``cmu/cmu_h36m17.npz``)     CMU terms
cmu-test       its test split (held-out scores of the card)               CMU terms
deepmimic      DeepMimic clips (pybullet)                                  zlib
climb          holosoma climbing mocap                                     Apache-2.0
cmu-iclone     CMU subjects 01-07 retargeted (``cmu_iclone/``)             CMU terms
hdm05          HDM05 clips (``hdm05/``)                                    CC BY-SA 3.0
bandai         Bandai-Namco-Research-Motiondataset-1 (experiments only)    CC BY-NC 4.0
=============  =========================================================  ===================

``bandai`` is non-commercial: never ship or commit anything trained on it.
"""

from __future__ import annotations

import os
from pathlib import Path

SOURCES = ("cmu-train", "cmu-test", "deepmimic", "climb", "cmu-iclone", "hdm05", "bandai")
PERMISSIVE = ("cmu-train", "deepmimic", "climb", "cmu-iclone")
"""Sources whose terms allow shipping the weights without conditions beyond attribution
(``hdm05`` is CC BY-SA 3.0: weights trained on it are CC BY-SA 3.0; ``bandai`` is CC BY-NC 4.0:
experiments only)."""


def data_root(given: str | Path | None = None) -> Path:
    """``given``, else ``$ZEDO_SHARED_DATA``, else ``../shared/data`` beside the repository."""
    if given:
        return Path(given)
    default = Path(__file__).resolve().parents[2] / "shared" / "data"
    return Path(os.environ.get("ZEDO_SHARED_DATA", default))


def load_source(name: str, root: str | Path | None = None):
    """One named source as a ``(frame, joint, coord)`` DataArray (metres, Z up, H36M joints)."""
    from zedo_xr import io

    r = data_root(root)
    readers = {
        "cmu-train": lambda: io.load_cmu(r / "cmu" / "cmu_h36m17.npz", "train"),
        "cmu-test": lambda: io.load_cmu(r / "cmu" / "cmu_h36m17.npz", "test"),
        "deepmimic": lambda: io.load_deepmimic(r / "deepmimic" / "pybullet_data" / "data" / "motions"),
        "climb": lambda: io.load_climb(r / "climb"),
        "cmu-iclone": lambda: io.load_cmu_iclone(r / "cmu_iclone" / "cmu_iclone_h36m17.npz"),
        "hdm05": lambda: io.load_hdm05(r / "hdm05" / "hdm05_h36m17.npz"),
        "bandai": lambda: io.load_bandai(r / "bandai1"),
    }
    if name not in readers:
        raise SystemExit(f"--sources: expected names from {SOURCES}, got {name!r}")
    return readers[name]()


def weights_licence(names: list[str]) -> str:
    """The terms under which weights trained on the named sources may be shared (for the card)."""
    if "bandai" in names:
        return "CC BY-NC 4.0 data (Bandai-Namco) in the training set: experiments only, never distribute"
    if "hdm05" in names:
        return (
            "CC BY-SA 3.0 Unported (share-alike), because HDM05 is in the training data: 'The data used "
            "in this project was obtained from HDM05' (M. Mueller, T. Roeder, M. Clausen, B. Eberhardt, "
            "B. Krueger, A. Weber, Documentation Mocap Database HDM05, Technical Report CG-2007-2, "
            "Universitaet Bonn, 2007); the other sources' acknowledgements are in `data`"
        )
    return "the training sources' own terms (see `data`): attribution, no share-alike"


def load_sources(names: list[str], root: str | Path | None = None):
    """Concatenated poses of named sources and their provenance list for the card."""
    import xarray as xr

    from zedo_xr.schema import FRAME

    parts, provenance = [], []
    for name in names:
        da = load_source(name, root)
        provenance.append(
            {
                "name": name,
                "frames": int(da.sizes[FRAME]),
                "source": str(da.attrs.get("source", "")),
                "licence": str(da.attrs.get("licence", "")),
            }
        )
        # each frame keeps where it came from (TrainConfig.source_balance draws by it)
        part = da.reset_coords(drop=True).drop_vars(FRAME, errors="ignore")
        parts.append(part.assign_coords(source=(FRAME, [name] * int(da.sizes[FRAME]))))
    return xr.concat(parts, dim=FRAME, coords="minimal", compat="override"), provenance
