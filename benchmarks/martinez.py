"""A supervised 2D-to-3D lifter (Martinez et al., ICCV 2017) as the baseline of the Table 1 analogue.

It is what a user would otherwise pick: an MLP trained on 2D-3D pairs. To make the comparison
fair it learns from the same 3D data as the prior it is compared with (by default the CMU train
split, as the CMU-only prior, so that Bandai-Namco and DeepMimic are truly cross-domain for both),
seen through the same virtual cameras as the test sets (``zedo_xr.datasets.make_views``), and it is given the
intrinsics: its input is the normalised image coordinates ``K^-1 [u, v, 1]`` relative to the
pelvis. Output: the root-relative camera-frame pose in metres. Architecture as the paper:
Linear(34, 1024), two residual blocks of two (Linear 1024, BatchNorm, ReLU, Dropout 0.5),
Linear(1024, 51); inputs and outputs standardised with training statistics.

Rerun: ``python -m benchmarks.martinez`` (trains, then evaluates on the accuracy test sets);
writes ``benchmarks/results/martinez.{json,md}``.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from benchmarks.common import (
    CONDITIONS,
    SHARED_DATA,
    TestSet,
    machine,
    markdown_table,
    views,
    write_results,
)


class Martinez(nn.Module):
    """The "simple yet effective baseline" MLP."""

    def __init__(self, joints: int = 17, width: int = 1024, blocks: int = 2, dropout: float = 0.5):
        super().__init__()
        self.stem = nn.Sequential(
            nn.Linear(2 * joints, width), nn.BatchNorm1d(width), nn.ReLU(), nn.Dropout(dropout)
        )
        self.blocks = nn.ModuleList(
            nn.Sequential(
                nn.Linear(width, width),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Dropout(dropout),
                nn.Linear(width, width),
                nn.BatchNorm1d(width),
                nn.ReLU(),
                nn.Dropout(dropout),
            )
            for _ in range(blocks)
        )
        self.head = nn.Linear(width, 3 * joints)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.stem(x)
        for block in self.blocks:
            h = h + block(h)
        return self.head(h)


def features(ds) -> np.ndarray:
    """Pelvis-relative normalised image coordinates, (N, 34); missing joints set to 0."""
    uv = ds.keypoints.values
    K = np.broadcast_to(ds.K.values, (uv.shape[0], 3, 3)) if ds.K.ndim == 2 else ds.K.values
    homog = np.concatenate([uv, np.ones_like(uv[..., :1])], -1)
    n = np.linalg.solve(K[:, None], homog[..., None])[..., 0][..., :2]
    n = n - n[:, :1]
    return np.nan_to_num(n).reshape(len(n), -1)


def targets(ds) -> np.ndarray:
    gt = ds.pose3d_gt.values
    return (gt - gt[:, :1]).reshape(len(gt), -1)


SOURCES = {
    "cmu-train": lambda io: io.load_cmu(SHARED_DATA / "cmu" / "cmu_h36m17.npz", "train"),
    "deepmimic": lambda io: io.load_deepmimic(
        SHARED_DATA / "deepmimic" / "pybullet_data" / "data" / "motions"
    ).astype("float32"),
    "climb": lambda io: io.load_climb(SHARED_DATA / "climb"),
}


def augment_bone_lengths(poses, std: float, seed: int):
    """Each pose with its bones rescaled as the prior's ``bone_length_std`` augmentation does."""
    from zedo_xr.prior.train import bone_length_factors, scale_bones
    from zedo_xr.skeleton import flip_permutation

    world = torch.from_numpy(poses.transpose("frame", "joint", "coord").values.astype(np.float32))
    g = torch.Generator().manual_seed(seed)
    factors = bone_length_factors(len(world), std, g, twin_index=torch.as_tensor(flip_permutation()))
    return poses.copy(data=scale_bones(world, factors).numpy())


def train(
    *,
    sources: tuple[str, ...] = ("cmu-train",),
    epochs: int = 40,
    views_per_pose: int = 4,
    seed: int = 0,
    threads: int = 2,
    bone_length_std: float = 0.0,
) -> dict[str, Any]:
    """Train the MLP on ``sources`` seen through random views.

    ``bone_length_std`` > 0 gives it the bone-length augmentation of the prior (one random set of
    proportions per pose), so the two can be compared with the same augmentation.
    """
    from zedo_xr import io
    from zedo_xr.datasets import make_views

    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    import xarray as xr

    loaded = [SOURCES[name](io) for name in sources]
    # 120 fps mocap is highly redundant: every 4th frame, several views each.
    poses = xr.concat(
        [
            s.isel(frame=slice(None, None, 4)).drop_vars([c for c in s.coords if c not in ("joint", "coord")])
            for s in loaded
        ],
        dim="frame",
    )
    poses = poses.assign_coords(frame=np.arange(poses.sizes["frame"]))
    if bone_length_std > 0:
        poses = augment_bone_lengths(poses.transpose("frame", "joint", "coord"), bone_length_std, seed + 7)
    ds = make_views(poses, seed=seed + 100, views_per_pose=views_per_pose)
    X, Y = features(ds).astype(np.float32), targets(ds).astype(np.float32)
    stats = {"x_mean": X.mean(0), "x_std": X.std(0) + 1e-6, "y_mean": Y.mean(0), "y_std": Y.std(0) + 1e-6}
    Xn = torch.from_numpy((X - stats["x_mean"]) / stats["x_std"])
    Yn = torch.from_numpy((Y - stats["y_mean"]) / stats["y_std"])
    model = Martinez()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.96)
    g = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(Xn), generator=g)
        total = 0.0
        for i in range(0, len(perm), 256):
            idx = perm[i : i + 256]
            loss = (model(Xn[idx]) - Yn[idx]).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        print(f"martinez epoch {epoch + 1}/{epochs} loss {total / len(perm):.4f}", flush=True)
    return {
        "model": model.eval(),
        "stats": stats,
        "train_pairs": len(X),
        "sources": list(sources),
        "bone_length_std": bone_length_std,
        "train_seconds": round(time.perf_counter() - start, 1),
    }


def predict(trained: dict[str, Any], ds) -> np.ndarray:
    s = trained["stats"]
    X = torch.from_numpy(((features(ds) - s["x_mean"]) / s["x_std"]).astype(np.float32))
    with torch.no_grad():
        Y = trained["model"](X).numpy() * s["y_std"] + s["y_mean"]
    return Y.reshape(len(Y), 17, 3)


def run(*, quick: bool = False, sources: tuple[str, ...] = ("cmu-train",)) -> dict[str, Any]:
    import xarray as xr

    from benchmarks.accuracy import TEST_SETS
    from zedo_xr.metrics import evaluate

    trained = train(sources=sources, epochs=2 if quick else 40, views_per_pose=1 if quick else 4)
    rows = []
    for test in TEST_SETS:
        poses = TestSet(test.name, test.role, 60 if quick else test.frames).poses()
        for condition in CONDITIONS:
            ds = views(poses, condition)
            rel = predict(trained, ds)
            gt = ds.pose3d_gt.values
            pred = xr.DataArray((rel + gt[:, :1])[:, None], dims=("frame", "hypothesis", "joint", "coord"))
            a = evaluate(ds.assign(pose3d=pred)).attrs
            rows.append(
                {
                    "dataset": test.name,
                    "role": test.role,
                    "condition": condition,
                    "frames": int(ds.sizes["frame"]),
                    "mpjpe": a["mpjpe_mean"],
                    "pa_mpjpe": a["pa_mpjpe_mean"],
                    "pck": a["pck_mean"],
                    "auc": a["auc_mean"],
                }
            )
            print(rows[-1], flush=True)
    payload = {
        "machine": machine(),
        "sources": trained["sources"],
        "train_pairs": trained["train_pairs"],
        "train_seconds": trained["train_seconds"],
        "quick": quick,
        "rows": rows,
    }
    md = [
        "# Supervised baseline (Martinez-style MLP) on the accuracy test sets",
        "",
        f"Trained on {trained['train_pairs']} 2D-3D pairs ({', '.join(trained['sources'])}, every 4th "
        f"frame, 4 virtual views each) in {trained['train_seconds']} s. Millimetres.",
        "",
        markdown_table(rows, ["dataset", "role", "condition", "frames", "mpjpe", "pa_mpjpe", "pck", "auc"]),
    ]
    write_results("martinez" if not quick else "martinez_quick", payload, "\n".join(md))
    return payload


if __name__ == "__main__":
    import sys

    run(quick="--quick" in sys.argv)
