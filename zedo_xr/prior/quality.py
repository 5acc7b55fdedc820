"""Held-out quality of a prior: denoising error, and realism/coverage of generated samples.

All distances are reported in millimetres. Held-out world poses are first seen through fixed
random cameras of the training distribution (seeded), so every prior is scored on the same views.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from zedo_xr.prior import schedules

Tensor = torch.Tensor

DENOISE_TIMES = (0.01, 0.05, 0.1)


def fixed_views(world: np.ndarray, count: int, *, seed: int = 12345) -> Tensor:
    """``count`` held-out poses (evenly spaced frames) through seeded random cameras, (count, J, 3)."""
    from zedo_xr.prior.augment import camera_views

    idx = np.linspace(0, len(world) - 1, min(count, len(world))).round().astype(int)
    g = torch.Generator().manual_seed(seed)
    return camera_views(torch.from_numpy(np.ascontiguousarray(world[idx])), g, flip=True)


@torch.no_grad()
def denoising_error(
    net, kind: str, x0: Tensor, *, times=DENOISE_TIMES, seed: int = 0, batch: int = 4096
) -> dict[str, float]:
    """Mean per-joint error (mm) of the one-step Tweedie estimate ``x0_hat`` at each ``t``.

    ``x_t = alpha x0 + sigma z`` with seeded noise; the network must be in eval mode.
    """
    out = {}
    g = torch.Generator(device=x0.device).manual_seed(seed)
    for t in times:
        z = torch.randn(x0.shape, generator=g, device=x0.device, dtype=x0.dtype)
        alpha, sigma = (float(v) for v in schedules.marginal(kind, t))
        errs = []
        for s in range(0, len(x0), batch):
            xt = alpha * x0[s : s + batch] + sigma * z[s : s + batch]
            eps = net(xt, t)
            x0_hat = (xt - sigma * eps) / alpha
            errs.append((x0_hat - x0[s : s + batch]).norm(dim=-1).mean(-1))
        out[f"t={t:g}"] = round(float(torch.cat(errs).mean()) * 1000, 3)
    return out


def bone_statistics(poses: Tensor) -> dict[str, float]:
    """Bone-length consistency of a set of poses ``(N, 17, 3)``, millimetres.

    ``bone_std_mean``: std of each bone's length across poses, averaged over the 16 bones.
    ``symmetry_mean``: mean |left - right| length over the 6 mirrored bone pairs and all poses.
    """
    from zedo_xr.skeleton import H36M_MIRRORED_BONES, bone_lengths_tensor

    lengths = bone_lengths_tensor(poses) * 1000  # (N, 16)
    left = lengths[:, [a for a, _ in H36M_MIRRORED_BONES]]
    right = lengths[:, [b for _, b in H36M_MIRRORED_BONES]]
    return {
        "bone_std_mean": round(float(lengths.std(0).mean()), 3),
        "bone_std_max": round(float(lengths.std(0).max()), 3),
        "symmetry_mean": round(float((left - right).abs().mean()), 3),
    }


def nearest_neighbour_pa(queries: Tensor, references: Tensor, chunk: int = 64) -> Tensor:
    """For each query pose, the smallest PA-MPJPE (mm) to any reference pose, shape (Q,)."""
    from zedo_xr.camera import procrustes

    best = []
    for s in range(0, len(queries), chunk):
        q = queries[s : s + chunk]
        src = q[:, None].expand(-1, len(references), -1, -1)
        tgt = references[None].expand(len(q), -1, -1, -1)
        aligned = procrustes(src, tgt)[0]
        err = (aligned - tgt).norm(dim=-1).mean(-1)  # (chunk, R)
        best.append(err.min(1).values)
    return torch.cat(best) * 1000


def quality_report(
    prior,
    held_out_world: np.ndarray,
    *,
    n_samples: int = 256,
    n_reference: int = 1000,
    sample_steps: int = 200,
    seed: int = 0,
    train_world: np.ndarray | None = None,
    held_out_name: str = "held-out poses",
) -> dict[str, Any]:
    """The card's quality block: denoising errors, sample bone statistics, precision and recall.

    ``train_world`` (optional) adds the bone statistics of the training poses, the reference
    for the samples' spread when the training sources have different skeletons.
    ``held_out_name`` says in the card what the held-out poses are.
    """
    device = next(prior.network.parameters()).device
    x0 = fixed_views(held_out_world, 4000, seed=12345).to(device)
    report: dict[str, Any] = {
        "held_out": f"{held_out_name}, {len(x0)} evenly spaced frames, seeded random views",
        "denoising_error_mm": denoising_error(prior.network, prior.kind, x0, seed=0),
    }
    samples = prior.sample(n_samples, steps=sample_steps, seed=seed).float().cpu()
    ref = x0[:: max(1, len(x0) // n_reference)][:n_reference].float().cpu()
    precision = nearest_neighbour_pa(samples, ref)
    recall = nearest_neighbour_pa(ref[: min(len(ref), 500)], samples)
    report["samples"] = {
        "n": n_samples,
        "steps": sample_steps,
        "seed": seed,
        **bone_statistics(samples),
        "precision_nn_pa_mm": round(float(precision.mean()), 2),
        "precision_nn_pa_median_mm": round(float(precision.median()), 2),
        "recall_nn_pa_mm": round(float(recall.mean()), 2),
    }
    report["held_out_reference"] = bone_statistics(ref)
    if train_world is not None:
        report["training_reference"] = bone_statistics(fixed_views(train_world, 4000, seed=1))
    return report
