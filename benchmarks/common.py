"""Shared pieces of the benchmarks: test sets, machine description, result files.

Test sets follow the GT-2D protocol of ``zedo_xr.datasets.make_views``: world poses seen by a
virtual H36M camera (seeded), GT 2D, with variants for 5 px Gaussian noise and 2 dropped joints.
Each set is a fixed, evenly spaced subsample of its source so the numbers are reproducible and
cheap enough for 2 CPU cores.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
SHARED_DATA = Path(os.environ.get("ZEDO_SHARED_DATA", REPO.parent / "shared" / "data"))

CONDITIONS: dict[str, dict[str, Any]] = {
    "exact": {"noise_px": 0.0, "drop_joints": 0},
    "noise5px": {"noise_px": 5.0, "drop_joints": 0},
    "drop2": {"noise_px": 0.0, "drop_joints": 2},
}


@dataclass(frozen=True)
class TestSet:
    """A named source of world poses and how many evenly spaced frames to take."""

    name: str
    role: str  # "in-domain" or "cross-domain"
    frames: int

    def poses(self) -> xr.DataArray:
        from zedo_xr import io

        if self.name == "cmu-test":
            da = io.load_cmu(SHARED_DATA / "cmu" / "cmu_h36m17.npz", "test")
        elif self.name == "bandai1":
            da = io.load_bandai(SHARED_DATA / "bandai1" / "Bandai-Namco-Research-Motiondataset-1" / "data")
        elif self.name == "deepmimic":
            da = io.load_deepmimic(SHARED_DATA / "deepmimic" / "pybullet_data" / "data" / "motions")
        else:
            raise ValueError(f"unknown test set {self.name!r}")
        return evenly_spaced(da, self.frames)


def evenly_spaced(da: xr.DataArray, n: int, offset: float = 0.0) -> xr.DataArray:
    """``n`` frames at evenly spaced positions (``offset`` in units of the spacing)."""
    total = da.sizes["frame"]
    if n >= total:
        return da
    idx = np.floor((np.arange(n) + offset) * total / n).astype(int).clip(0, total - 1)
    return da.isel(frame=idx)


def views(poses: xr.DataArray, condition: str, seed: int = 0) -> xr.Dataset:
    """The evaluation dataset of one condition (same cameras for every condition)."""
    from zedo_xr.datasets import make_views

    return make_views(poses, seed=seed, **CONDITIONS[condition])


def _in_repo(arg: str) -> str:
    """A path argument relative to the repository (results must not name one machine's folders)."""
    path = Path(arg)
    if path.is_absolute() and path.is_relative_to(REPO):
        return str(path.relative_to(REPO))
    return arg


def machine() -> dict[str, Any]:
    """What ran the benchmark."""
    import torch

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join([Path(sys.executable).name, *map(_in_repo, sys.argv)]),
    }
    with contextlib.suppress(OSError, StopIteration):
        info["cpu_model"] = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    with contextlib.suppress(OSError):
        info["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, check=False
        ).stdout.strip()
    return info


def write_results(name: str, payload: dict[str, Any], markdown: str) -> tuple[Path, Path]:
    """Write ``results/{name}.json`` and ``results/{name}.md``."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    js = RESULTS / f"{name}.json"
    md = RESULTS / f"{name}.md"
    js.write_text(json.dumps(payload, indent=2, default=_plain) + "\n")
    md.write_text(markdown.rstrip() + "\n")
    return js, md


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def markdown_table(rows: list[dict[str, Any]], columns: list[str], floatfmt: str = ".1f") -> str:
    """A GitHub markdown table of ``rows`` restricted to ``columns``."""

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "—" if not np.isfinite(v) else format(v, floatfmt)
        return str(v)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
