"""HDM05 and cmu_iclone readers: a tiny synthetic npz (no pickle), then the shared files."""

from __future__ import annotations

import numpy as np
import pytest

from zedo_xr.io import load_cmu_iclone, load_hdm05
from zedo_xr.io.hdm05 import read_h36m17_npz


def _write(path, n=6, actor=True, **override):
    rng = np.random.default_rng(0)
    arrays = {
        "poses": rng.normal([0, 0, 1.0], 0.2, (n, 17, 3)).astype(np.float32),
        "sequence": np.array(["01_08"] * (n // 2) + ["02_06"] * (n - n // 2)),
        "frame": np.arange(n) * 2,
        "action": np.array(["sit"] * (n // 2) + ["bend"] * (n - n // 2)),
        "fps": np.float32(30.0),
    }
    if actor:
        arrays["actor"] = np.array(["bd"] * n)
    arrays.update(override)
    np.savez(path, **arrays)
    return arrays


def test_synthetic_hdm05(tmp_path, physics):
    arrays = _write(tmp_path / "h.npz")
    da = load_hdm05(tmp_path / "h.npz")
    physics.check_reader_conventions(da)
    np.testing.assert_array_equal(da.values, arrays["poses"])
    assert da.attrs["fps"] == 30.0 and "ShareAlike 3.0" in da.attrs["licence"]
    assert list(da["action"].values[:3]) == ["sit"] * 3
    assert list(da["actor"].values) == ["bd"] * 6
    assert list(da["frame_in_sequence"].values) == [0, 2, 4, 6, 8, 10]
    assert da["sequence"].dtype == object and da["action"].dtype == object


def test_synthetic_cmu_iclone_actor_from_trial(tmp_path, physics):
    _write(tmp_path / "c.npz", actor=False)
    da = load_cmu_iclone(tmp_path / "c.npz")
    physics.check_reader_conventions(da)
    assert list(da["actor"].values) == ["01"] * 3 + ["02"] * 3
    assert "mocap.cs.cmu.edu" in da.attrs["licence"]


def test_missing_array_and_bad_shape_are_named(tmp_path):
    np.savez(tmp_path / "bad.npz", poses=np.zeros((2, 17, 3)), fps=30.0)
    with pytest.raises(ValueError, match=r"missing.*sequence"):
        load_hdm05(tmp_path / "bad.npz")
    _write(tmp_path / "short.npz", action=np.array(["a"]))
    with pytest.raises(ValueError, match="action: expected shape"):
        load_hdm05(tmp_path / "short.npz")
    with pytest.raises(FileNotFoundError, match="path"):
        read_h36m17_npz(tmp_path / "nope.npz", source="", licence="")


def test_object_arrays_are_refused(tmp_path):
    """The readers never unpickle: an object array in the file is an error, not code execution."""
    _write(tmp_path / "obj.npz", action=np.array([{"a": 1}] * 6, dtype=object))
    with pytest.raises(ValueError, match="pickle"):
        load_hdm05(tmp_path / "obj.npz")


def test_hdm05_shared(shared_data, physics):
    da = load_hdm05(shared_data / "hdm05" / "hdm05_h36m17.npz")
    physics.check_reader_conventions(da)
    assert da.sizes["frame"] == 17951
    assert len(np.unique(da["sequence"].values)) == 288
    assert sorted(np.unique(da["actor"].values)) == ["bd", "bk", "dg", "mm", "tr"]
    assert len(np.unique(da["action"].values)) == 11
    assert max(physics.bone_length_std(da, bones=_LIMBS).values()) < 1e-3
    agree, n = physics.left_right_agreement(da)
    assert n > 3000 and agree > 0.95, (agree, n)
    assert 0.9 < float(np.median(da.sel(joint="pelvis", coord="z"))) < 1.0
    # The head is the end of the ASF head bone: close to the skull base (README: ~9 cm).
    head = np.linalg.norm((da.sel(joint="head") - da.sel(joint="neck")).values, axis=-1)
    assert 0.05 < float(np.median(head)) < 0.13


def test_cmu_iclone_shared(shared_data, physics):
    da = load_cmu_iclone(shared_data / "cmu_iclone" / "cmu_iclone_h36m17.npz")
    physics.check_reader_conventions(da)
    assert da.sizes["frame"] == 13249
    assert len(np.unique(da["sequence"].values)) == 61
    assert set(np.unique(da["actor"].values)) <= {"01", "02", "03", "05", "06", "07"}
    assert max(physics.bone_length_std(da, bones=_LIMBS).values()) < 1e-3
    agree, n = physics.left_right_agreement(da)
    assert n > 2000 and agree > 0.95, (agree, n)
    spine = (da.sel(joint="spine", coord="z") - da.sel(joint="pelvis", coord="z")).values
    assert 0.2 < float(np.median(spine)) < 0.3  # README: spine ~0.26 m above the pelvis


# Limb bones (exactly rigid in both conversions; torso links are composite).
_LIMBS = [(1, 2), (2, 3), (4, 5), (5, 6), (11, 12), (12, 13), (14, 15), (15, 16)]
