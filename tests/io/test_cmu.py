"""The CMU reader never unpickles: crafted files cannot run code; the conversion is faithful."""

import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest

from zedo_xr.io.cmu import converted_path, load_cmu, stores_objects
from zedo_xr.schema import SchemaError

ROOT = Path(__file__).resolve().parents[2]


class _Payload:
    """Unpickling this creates a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _converter():
    spec = importlib.util.spec_from_file_location("convert_cmu_npz", ROOT / "scripts" / "convert_cmu_npz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _original(path: Path, positions: dict, fps: dict, valid: dict) -> Path:
    """A file laid out like the shared cmu_h36m17.npz: pickled dicts of arrays."""

    def obj(d):
        a = np.empty((), dtype=object)
        a[()] = d
        return a

    np.savez(
        path,
        positions_3d=obj(positions),
        fps=obj(fps),
        valid=obj(valid),
        joint_names=np.array(["j"] * 17),
        parents=np.arange(17) - 1,
        metadata=np.array("m"),
    )
    return path


def _crafted(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "code_ran"
    payload = np.empty((), dtype=object)
    payload[()] = {"train": _Payload(marker), "test": _Payload(marker)}
    path = tmp_path / "evil.npz"
    np.savez(path, positions_3d=payload, fps=payload, valid=payload)
    return path, marker


def test_crafted_pickle_cannot_run_code(tmp_path, monkeypatch):
    monkeypatch.setenv("ZEDO_XR_CACHE", str(tmp_path / "cache"))
    path, marker = _crafted(tmp_path)
    assert stores_objects(path)
    with pytest.raises(SchemaError, match=r"pickled objects.*convert_cmu_npz"):
        load_cmu(path, "train")
    from zedo_xr.io.poses3d import load_poses3d

    with pytest.raises(ValueError):
        load_poses3d(path)
    # the converter (the one place that reads such pickles) refuses other classes
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        _converter().convert(path, tmp_path / "out.npz")
    assert not marker.exists()
    # the payload is real: plain pickle would have run it
    with np.load(path, allow_pickle=True) as data:
        data["fps"]
    assert marker.exists()


def test_conversion_is_read_without_pickle_and_matches(tmp_path, monkeypatch):
    monkeypatch.setenv("ZEDO_XR_CACHE", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    seqs = {"b/walk": rng.normal(size=(5, 17, 3)), "a/jump": rng.normal(size=(3, 17, 3))}
    valid = {"b/walk": np.array([1, 1, 0, 1, 1], bool), "a/jump": np.ones(3, bool)}
    original = _original(
        tmp_path / "cmu_h36m17.npz",
        {"train": seqs, "test": seqs},
        {"train": {k: 120.0 for k in seqs}, "test": {k: 120.0 for k in seqs}},
        {"train": valid, "test": valid},
    )
    with pytest.raises(SchemaError, match="convert it once"):
        load_cmu(original)
    out = _converter().convert(original, converted_path(original))
    assert not stores_objects(out)
    da = load_cmu(original, "train")  # finds the conversion by the original's hash
    assert da.sizes["frame"] == 7 and da.attrs["fps"] == 120.0
    assert list(da["sequence"].values[:3]) == ["a/jump"] * 3  # sorted by sequence name
    np.testing.assert_array_equal(da.values[:3], seqs["a/jump"])
    np.testing.assert_array_equal(da["frame_in_sequence"].values[3:], [0, 1, 3, 4])
    assert load_cmu(out, "test", valid_only=False).sizes["frame"] == 8
