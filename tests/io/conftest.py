"""Physical checks shared by the reader tests: chirality from knee bends, rigidity, up axis."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from zedo_xr.skeleton import H36M_BONES, H36M_JOINTS

J = {name: i for i, name in enumerate(H36M_JOINTS)}


def left_right_agreement(da: xr.DataArray, min_bend: float = 0.03) -> tuple[float, int]:
    """Fraction of bent-knee frames whose right hip lies on the (facing x up) side.

    The facing comes from the knee-bend direction (the knee lies forward of the hip-ankle
    line), so it does not depend on the left/right labels. Up is +Z.
    """
    p = np.asarray(da.transpose("frame", "joint", "coord").values, dtype=float)
    bends = []
    for side in ("right", "left"):
        hip, knee, ankle = (p[:, J[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        d = ankle - hip
        t = np.einsum("fi,fi->f", knee - hip, d) / np.einsum("fi,fi->f", d, d)
        b = knee - (hip + t[:, None] * d)
        b[np.linalg.norm(b, axis=-1) < min_bend] = 0.0
        bends.append(b)
    facing = bends[0] + bends[1]
    facing[:, 2] = 0.0  # horizontal part
    norm = np.linalg.norm(facing, axis=-1)
    use = norm > min_bend
    right_dir = np.cross(facing[use] / norm[use, None], [0.0, 0.0, 1.0])
    hips = p[use, J["right_hip"]] - p[use, J["left_hip"]]
    agree = np.einsum("fi,fi->f", hips, right_dir) > 0
    return float(agree.mean()) if agree.size else float("nan"), int(agree.size)


def bone_length_std(da: xr.DataArray, bones=H36M_BONES) -> dict[tuple[str, str], float]:
    """Largest per-sequence std (metres) of each bone's length."""
    p = np.asarray(da.transpose("frame", "joint", "coord").values, dtype=float)
    seq = da["sequence"].values if "sequence" in da.coords else np.zeros(len(p))
    out = {}
    for a, b in bones:
        length = np.linalg.norm(p[:, b] - p[:, a], axis=-1)
        stds = [length[seq == s].std() for s in np.unique(seq)]
        out[(H36M_JOINTS[a], H36M_JOINTS[b])] = float(max(stds))
    return out


def head_above_pelvis(da: xr.DataArray) -> float:
    """Mean height of the head top above the pelvis (metres, Z up)."""
    dz = da.sel(joint="head", coord="z") - da.sel(joint="pelvis", coord="z")
    return float(dz.mean())


def check_reader_conventions(da: xr.DataArray) -> None:
    assert da.dims == ("frame", "joint", "coord")
    assert list(da["joint"].values) == list(H36M_JOINTS)
    assert da["joint"].dtype == object and da["coord"].dtype == object
    assert list(da["coord"].values) == ["x", "y", "z"]
    for key in ("fps", "source", "licence"):
        assert key in da.attrs, key
    assert da.attrs["units"] == "m"
    assert np.isfinite(da.values).all()


@pytest.fixture(scope="session")
def physics() -> SimpleNamespace:
    return SimpleNamespace(
        left_right_agreement=left_right_agreement,
        bone_length_std=bone_length_std,
        head_above_pelvis=head_above_pelvis,
        check_reader_conventions=check_reader_conventions,
    )
