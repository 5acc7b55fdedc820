"""Training the pose prior: denoising score matching on camera-frame, root-relative poses.

Every batch is drawn afresh: world poses (Z up) are seen through a random camera of the evaluation
protocol's distribution (any azimuth, looking down by ``pitch ~ U(pitch_range)``), made
root-relative, flipped left/right with probability 1/2 and optionally rotated by a uniformly random
SO(3) rotation (the paper's "RA"). The loss is the official eps-form DSM,
``mean_batch 0.5 * sum_dims (eps_theta(x_t, t) - eps)^2``.

Determinism: every random draw of step ``n`` comes from generators seeded by ``(seed, n)``, and the
data order is a seeded permutation per epoch, so the trainer has no hidden RNG state. A run
interrupted after a checkpoint and resumed reproduces the uninterrupted run exactly (bit for bit
on CPU).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zedo_xr.prior import schedules
from zedo_xr.prior.augment import (
    Augmentation,
    augment,
    bone_length_factors,
    camera_views,
    scale_bones,
)
from zedo_xr.prior.network import ScoreNet

Tensor = torch.Tensor

T_EPS = 1e-5
T_SAMPLING = ("uniform", "truncated", "mixed")
"""``uniform``: t ~ U(1e-5, 1] (official). ``truncated``: t ~ U(1e-5, t_max]. ``mixed``: with
probability ``t_low_fraction`` from the truncated range, else uniform."""

STATE_FILE, STATE_JSON = "state.safetensors", "state.json"
_ADDED_LATER = {"bone_length_std": 0.0, "kinematic_augmentation": 0.0, "part_recombination": 0.0,
                "joint_jitter": 0.0}
"""Settings added after checkpoints were written without them, with the value those runs used."""


# ----------------------------------------------------------------------------- data

def poses_to_array(poses: Any, name: str = "poses") -> np.ndarray:
    """A (frame, joint, coord) DataArray (or array) to float32 ``(N, 17, 3)``, NaN frames dropped."""
    import xarray as xr

    from zedo_xr.schema import COORD, FRAME, JOINT, SchemaError

    if isinstance(poses, xr.DataArray):
        missing = [d for d in (FRAME, JOINT, COORD) if d not in poses.dims]
        if missing:
            raise SchemaError(f"{name}: expected dims (frame, joint, coord), got {poses.dims}")
        arr = poses.transpose(FRAME, JOINT, COORD).values
    else:
        arr = np.asarray(poses)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"{name}: expected shape (frame, joint, 3), got {arr.shape}")
    arr = arr.astype(np.float32)
    keep = np.isfinite(arr).all(axis=(1, 2))
    if not keep.any():
        raise ValueError(f"{name}: expected finite poses, got none among {len(arr)} frames")
    return np.ascontiguousarray(arr[keep])


def sample_times(
    n: int, mode: str, generator: torch.Generator, *, t_max: float = 0.1, low_fraction: float = 0.8,
    device=None, dtype=torch.float32,
) -> Tensor:
    """Training times for one batch, shape (n,)."""
    u = torch.rand(n, generator=generator, device=device, dtype=dtype)
    if mode == "uniform":
        return T_EPS + (1 - T_EPS) * u
    if mode == "truncated":
        return T_EPS + (t_max - T_EPS) * u
    if mode == "mixed":
        v = torch.rand(n, generator=generator, device=device, dtype=dtype)
        hi = torch.where(v < low_fraction, torch.full_like(u, t_max), torch.ones_like(u))
        return T_EPS + (hi - T_EPS) * u
    raise ValueError(f"t_sampling: expected one of {T_SAMPLING}, got {mode!r}")


def dsm_loss(net: ScoreNet, x0: Tensor, t: Tensor, noise: Tensor, kind: str) -> Tensor:
    """Official eps-form DSM: mean over the batch of ``0.5 * sum (eps_theta - eps)^2``."""
    alpha, sigma = schedules.marginal(kind, t)
    xt = alpha[:, None, None] * x0 + sigma[:, None, None] * noise
    if kind == "ddpm":
        # the network sees the snapped step time, as at inference
        t = schedules.ddpm_time(schedules.ddpm_index(t)).to(x0.dtype).to(x0.device)
    err = net(xt, t) - noise
    return 0.5 * err.pow(2).sum(dim=(1, 2)).mean()


def learning_rate(step: int, *, lr: float, warmup: int, steps: int, min_lr_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``min_lr_ratio * lr`` at ``steps``."""
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return lr * (min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


# ----------------------------------------------------------------------------- checkpoints

def _data_hash(arr: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]


def _save_state(directory: Path, net, ema, opt, meta: dict) -> None:
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.state_dict().items()})
    osd = opt.state_dict()
    for i, st in osd["state"].items():
        for k, v in st.items():
            tensors[f"opt.{i}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    meta = dict(meta, param_groups=osd["param_groups"])
    # Write to temporary names then rename, so an interruption never leaves a torn checkpoint.
    tmp_t, tmp_j = directory / (STATE_FILE + ".tmp"), directory / (STATE_JSON + ".tmp")
    save_file(tensors, str(tmp_t))
    tmp_j.write_text(json.dumps(meta, indent=1))
    os.replace(tmp_t, directory / STATE_FILE)
    os.replace(tmp_j, directory / STATE_JSON)


def _load_state(directory: Path, net, ema, opt, device) -> dict:
    from safetensors.torch import load_file

    meta = json.loads((directory / STATE_JSON).read_text())
    tensors = load_file(str(directory / STATE_FILE), device=str(device))
    net.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    state: dict[int, dict[str, Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v.cpu() if name == "step" else v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta


def _resolve_device(device: str | torch.device) -> torch.device:
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


# ----------------------------------------------------------------------------- training

def train_prior(
    poses: Any,
    *,
    steps: int = 30_000,
    batch_size: int = 256,
    lr: float = 2e-4,
    warmup: int = 500,
    min_lr_ratio: float = 0.05,
    schedule: str = "subvp",
    t_sampling: str = "mixed",
    t_max: float = 0.1,
    t_low_fraction: float = 0.8,
    rotation_augmentation: bool = False,
    rotation_probability: float = 0.5,
    bone_length_std: float = 0.0,
    kinematic_augmentation: float = 0.0,
    part_recombination: float = 0.0,
    joint_jitter: float = 0.0,
    flip: bool = True,
    pitch_range: tuple[float, float] = (0.0, 20.0),
    width: int = 1024,
    blocks: int = 2,
    dropout: float = 0.0,
    ema_decay: float = 0.9999,
    grad_clip: float = 1.0,
    seed: int = 0,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int = 1000,
    resume: bool = True,
    progress: bool = True,
    device: str | torch.device = "auto",
    eval_poses: Any = None,
    eval_every: int = 1000,
    eval_count: int = 2000,
    stop_after: int | None = None,
    init_from: str | Path | None = None,
    hypotheses: bool = True,
    quality: bool = True,
    name: str = "prior",
    sources: list[dict] | None = None,
    command: str | None = None,
    log: Callable[[str], None] | None = None,
):
    """Train a ZeDO pose prior.

    Parameters
    ----------
    poses : DataArray (frame, joint, coord)
        Training poses in metres, world frame with Z up (any heading, any position).
    steps, batch_size, lr, warmup, min_lr_ratio
        Adam (betas 0.9/0.999) for ``steps`` steps of ``batch_size`` poses; linear warm-up over
        ``warmup`` steps then cosine decay to ``min_lr_ratio * lr``.
    schedule : {"subvp", "ddpm"}
    t_sampling : {"uniform", "truncated", "mixed"}
        Training-time distribution (see :data:`T_SAMPLING`); ``t_max`` and ``t_low_fraction``
        parametrise the truncated and mixed modes. ``"mixed"`` won the comparison recorded in
        ``benchmarks/results/prior_t_sampling.md``; ``"uniform"`` is the official choice.
    rotation_augmentation, rotation_probability
        Also rotate by a uniform random SO(3) rotation with this probability (the paper's RA).
    bone_length_std : float
        Bone-length augmentation (not in the paper): scale every bone by ``exp(bone_length_std * z)``,
        ``z ~ N(0, 1)``, the same factor for a left bone and its right twin, so the prior also
        sees proportions its training skeletons lack. Measured with 0.15 on a CMU-only prior
        (Tables 1 and 6 of ``docs/results.md``): 2.7 mm better PA-MPJPE on a skeleton with other
        proportions, but worse MPJPE in-domain and cross-domain. 0 turns it off.
    kinematic_augmentation : float
        Probability that each part (legs, arms, trunk) of a training pose is re-posed within human
        ranges of motion (:func:`zedo_xr.prior.augment.repose`): seated, crouched, kneeling poses
        from standing ones. 0 turns it off.
    part_recombination : float
        Probability that a training pose gets the upper body of another pose of its batch
        (:func:`zedo_xr.prior.augment.recombine`). 0 turns it off.
    joint_jitter : float
        Scale of the joint-definition jitter of spine, neck, head and shoulders
        (:func:`zedo_xr.prior.augment.jitter_joint_definitions`; 1 = the spread between the
        training sources). 0 turns it off.
    flip, pitch_range
        Left/right flip with probability 1/2; camera pitch below the horizon, degrees.
    width, blocks, dropout
        Network size (the paper: 1024, 2, dropout 0.25). Dropout defaults to 0: at the budgets
        a CPU affords the prior under-fits, and dropout 0 trained faster and gave sane samples
        (``benchmarks/results/prior_t_sampling.md``).
    ema_decay, grad_clip, seed
        EMA decay with the official warm-up rule ``min(decay, (1+n)/(10+n))``; gradient-norm clip;
        the seed of the initialisation and of every random draw.
    checkpoint_dir, checkpoint_every, resume
        Save the full state every ``checkpoint_every`` steps (and at the end) to
        ``checkpoint_dir/state.safetensors`` + ``state.json``; with ``resume`` continue from there.
        ``steps`` may be raised on resume to train longer (the cosine schedule then stretches).
    progress
        Show a tqdm bar with the loss.
    device : "auto", "cpu", "cuda", ...
    eval_poses : DataArray (frame, joint, coord), optional
        Held-out world poses: the denoising error at t in {0.01, 0.05, 0.1} of the EMA and raw
        weights is logged every ``eval_every`` steps on ``eval_count`` fixed views.
    stop_after : int, optional
        Stop (after checkpointing) once this many steps are done, without changing the schedule,
        which is how the interrupted-run test simulates an interruption.
    init_from : path, optional
        Start from the weights of a saved prior directory (fine-tuning; fresh optimizer and EMA).
    hypotheses, quality
        Compute k-means initial poses and the held-out quality report for the returned prior.
    name, sources, command
        Recorded in the card (``sources``: provenance dicts with name/licence/frames).

    Returns
    -------
    Prior
        In eval mode, with the EMA weights (``ema_decay=0`` keeps the raw ones).
    """
    from zedo_xr.prior.checkpoint import Prior
    from zedo_xr.prior.network import count_parameters
    from zedo_xr.prior.quality import denoising_error, fixed_views

    say = log or (lambda s: None)
    if schedule not in schedules.KINDS:
        raise ValueError(f"schedule: expected one of {schedules.KINDS}, got {schedule!r}")
    if t_sampling not in T_SAMPLING:
        raise ValueError(f"t_sampling: expected one of {T_SAMPLING}, got {t_sampling!r}")
    data_np = poses_to_array(poses)
    if len(data_np) < batch_size:
        raise ValueError(f"poses: expected at least batch_size={batch_size} frames, got {len(data_np)}")
    dev = _resolve_device(device)
    config = {
        "steps": steps, "batch_size": batch_size, "lr": lr, "warmup": warmup,
        "min_lr_ratio": min_lr_ratio, "schedule": schedule, "t_sampling": t_sampling,
        "t_max": t_max, "t_low_fraction": t_low_fraction,
        "rotation_augmentation": rotation_augmentation,
        "rotation_probability": rotation_probability, "bone_length_std": bone_length_std,
        "kinematic_augmentation": kinematic_augmentation, "part_recombination": part_recombination,
        "joint_jitter": joint_jitter, "flip": flip,
        "pitch_range": list(pitch_range), "width": width, "blocks": blocks, "dropout": dropout,
        "ema_decay": ema_decay, "grad_clip": grad_clip, "seed": seed,
        "optimizer": "Adam(betas=(0.9, 0.999), eps=1e-8)",
        "loss": "0.5 * sum over joints*coords of (eps_theta - eps)^2, mean over batch",
    }
    augmentation = Augmentation(kinematic=kinematic_augmentation, recombine=part_recombination,
                                joint_jitter=joint_jitter, bone_length_std=bone_length_std)
    data_hash = _data_hash(data_np)
    data = torch.from_numpy(data_np).to(dev)
    N = len(data)
    steps_per_epoch = N // batch_size

    torch.manual_seed(seed)
    net = ScoreNet(joints=data.shape[1], width=width, blocks=blocks, dropout=dropout).to(dev)
    ema = ScoreNet(joints=data.shape[1], width=width, blocks=blocks, dropout=dropout).to(dev)
    if init_from is not None:
        from zedo_xr.prior.checkpoint import load_prior

        net.load_state_dict(load_prior(init_from).network.state_dict())
        config["init_from"] = str(init_from)
    ema.load_state_dict(net.state_dict())
    ema.eval().requires_grad_(False)
    opt = torch.optim.Adam(net.parameters(), lr=lr, betas=(0.9, 0.999), eps=1e-8)
    flip_index = None
    if flip or bone_length_std > 0:
        from zedo_xr.skeleton import flip_permutation

        flip_index = torch.as_tensor(flip_permutation(), device=dev)

    eval_x = None
    if eval_poses is not None:
        eval_np = poses_to_array(eval_poses, "eval_poses")
        eval_x = fixed_views(eval_np, eval_count, seed=12345).to(dev)

    start, history, wall = 0, [], 0.0
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt is not None and resume and (ckpt / STATE_JSON).exists():
        meta = _load_state(ckpt, net, ema, opt, dev)
        if meta["data_hash"] != data_hash:
            raise ValueError(
                f"resume: checkpoint {ckpt} was trained on data {meta['data_hash']}, "
                f"got {data_hash}; pass resume=False or another checkpoint_dir"
            )
        changed = {k: (meta["config"].get(k, _ADDED_LATER.get(k)), v) for k, v in config.items()
                   if k != "steps" and meta["config"].get(k, _ADDED_LATER.get(k)) != v}
        if changed:
            raise ValueError(f"resume: settings differ from the checkpoint's: {changed}")
        start, history, wall = meta["step"], meta["history"], meta["wall_time_s"]
        say(f"resumed from {ckpt} at step {start}")

    def evaluate(step: int) -> dict:
        rec: dict[str, Any] = {"step": step}
        for label, model in (("ema", ema), ("raw", net)):
            was = model.training
            model.eval()
            assert eval_x is not None
            rec[label] = denoising_error(model, schedule, eval_x, seed=0)
            model.train(was)
        return rec

    end = steps if stop_after is None else min(steps, stop_after)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, initial=start, desc=f"train {name}", dynamic_ncols=True)
    net.train()
    ema_params: list[Tensor] = list(ema.parameters())
    net_params: list[Tensor] = list(net.parameters())
    t_last = time.perf_counter()
    loss_acc, loss_n = 0.0, 0
    step = start
    while step < end:
        epoch, offset = divmod(step, steps_per_epoch)
        g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
        perm = torch.randperm(N, generator=g)
        idx = perm[offset * batch_size:(offset + 1) * batch_size].to(dev)
        gs = torch.Generator(device=dev).manual_seed((seed + 1) * 7_919_000_003 + step)
        world = data[idx]
        if augmentation.in_world:
            # its own stream, so runs without it keep their exact random draws
            ga = torch.Generator(device=dev).manual_seed((seed + 2) * 6_700_417_001 + step)
            world = augment(world, augmentation, ga)
        x0 = camera_views(world, gs, pitch_range=pitch_range, flip=flip,
                          rotation_probability=rotation_probability if rotation_augmentation else 0.0,
                          flip_index=flip_index)
        t = sample_times(batch_size, t_sampling, gs, t_max=t_max, low_fraction=t_low_fraction,
                         device=dev, dtype=x0.dtype)
        noise = torch.randn(x0.shape, generator=gs, device=dev, dtype=x0.dtype)
        if bone_length_std > 0:
            # Drawn after the other draws, so runs without it keep their exact random streams.
            assert flip_index is not None
            factors = bone_length_factors(batch_size, bone_length_std, gs, twin_index=flip_index,
                                          device=dev, dtype=x0.dtype)
            x0 = scale_bones(x0, factors)
        torch.manual_seed(seed * 1_000_033 + step)  # dropout masks
        for group in opt.param_groups:
            group["lr"] = learning_rate(step, lr=lr, warmup=warmup, steps=steps,
                                        min_lr_ratio=min_lr_ratio)
        loss = dsm_loss(net, x0, t, noise, schedule)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(net_params, grad_clip)
        opt.step()
        decay = min(ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(ema_params, [p.detach() for p in net_params], 1 - decay)
        step += 1
        lv = float(loss.detach())
        loss_acc, loss_n = loss_acc + lv, loss_n + 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{lv:.3f}", refresh=False)
        do_eval = eval_x is not None and (step % eval_every == 0 or step == end)
        do_ckpt = step % checkpoint_every == 0 or step == end
        if do_eval or do_ckpt or step % 100 == 0:
            now = time.perf_counter()
            wall += now - t_last
            t_last = now
        if do_eval or step % 100 == 0:
            rec: dict[str, Any] = {"step": step, "loss": loss_acc / max(1, loss_n),
                                   "wall_time_s": round(wall, 1)}
            loss_acc, loss_n = 0.0, 0
            if do_eval:
                rec.update(evaluate(step))
                t_last = time.perf_counter()  # evaluation time is not training time
            history.append(rec)
            say(json.dumps(rec))
        if do_ckpt and ckpt is not None:
            _save_state(ckpt, net, ema, opt, {
                "step": step, "config": config, "data_hash": data_hash, "history": history,
                "wall_time_s": wall, "name": name,
            })
    if bar is not None:
        bar.close()

    final = ema if ema_decay > 0 else net
    card: dict[str, Any] = {
        "name": name,
        "architecture": {"type": "ZeDO ScoreModelFC (unconditional MLP, eps-prediction)",
                         **final.config(), "parameters": count_parameters(final)},
        "schedule": schedule,
        "training": {**config, "steps_done": step, "data_hash": data_hash, "frames": N,
                     "weights": "ema" if ema_decay > 0 else "raw",
                     "wall_time_s": round(wall, 1),
                     "hardware": hardware_description(dev)},
        "data": sources or [{"name": "poses", "frames": N}],
        "history": history,
    }
    if command:
        card["training"]["command"] = command
    prior = Prior(final.__class__(**final.config()), schedule, card=card, name=name)
    prior.network.load_state_dict(final.state_dict())
    prior.to(dev)
    if hypotheses:
        from zedo_xr.prior.hypotheses import kmeans_hypotheses, random_hypotheses

        prior.hypotheses = kmeans_hypotheses(data_np, seed=seed)
        prior.hypotheses[-1] = random_hypotheses(data_np, 256, seed=seed)
    if quality and eval_poses is not None:
        from zedo_xr.prior.quality import quality_report

        prior.card["quality"] = quality_report(prior, poses_to_array(eval_poses, "eval_poses"),
                                               train_world=data_np)
    return prior


def prior_from_checkpoint(checkpoint_dir: str | Path, *, weights: str = "ema", device="cpu"):
    """Build a :class:`Prior` from a training checkpoint directory (no hypotheses, no quality)."""
    from safetensors.torch import load_file

    from zedo_xr.prior.checkpoint import Prior
    from zedo_xr.prior.network import count_parameters

    d = Path(checkpoint_dir)
    meta = json.loads((d / STATE_JSON).read_text())
    cfg = meta["config"]
    tensors = load_file(str(d / STATE_FILE), device=str(device))
    prefix = {"ema": "ema.", "raw": "model."}[weights]
    net = ScoreNet(width=cfg["width"], blocks=cfg["blocks"], dropout=cfg["dropout"],
                   joints=tensors[prefix + "head.bias"].numel() // 3)
    net.load_state_dict({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})
    card = {
        "name": meta.get("name", d.name),
        "architecture": {"type": "ZeDO ScoreModelFC (unconditional MLP, eps-prediction)",
                         **net.config(), "parameters": count_parameters(net)},
        "schedule": cfg["schedule"],
        "training": {**cfg, "steps_done": meta["step"], "data_hash": meta["data_hash"],
                     "weights": weights, "wall_time_s": round(meta["wall_time_s"], 1)},
        "history": meta["history"],
    }
    return Prior(net, cfg["schedule"], card=card, name=card["name"])


def hardware_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return (f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"{torch.get_num_threads()} torch threads (torch {torch.__version__})")


# ----------------------------------------------------------------------------- sources

SOURCES = ("cmu-train", "deepmimic", "climb", "cmu-iclone", "hdm05", "bandai")
PERMISSIVE = ("cmu-train", "deepmimic", "climb", "cmu-iclone")
"""Sources whose terms allow shipping the weights without conditions beyond attribution
(``hdm05`` is CC BY-SA 3.0: weights trained on it are CC BY-SA 3.0; ``bandai`` is CC BY-NC 4.0:
experiments only)."""


def load_sources(sources: list[str], data_root: str | Path | None = None):
    """Load and concatenate named training sources via :mod:`zedo_xr.io`.

    Returns the concatenated DataArray and a provenance list for the card.
    ``bandai`` (CC BY-NC 4.0) is for experiments only and must never ship.
    """
    import xarray as xr

    from zedo_xr.schema import FRAME

    root = Path(data_root) if data_root else Path(os.environ.get(
        "ZEDO_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
    parts, provenance = [], []
    for src in sources:
        if src not in SOURCES:
            raise ValueError(f"sources: expected names from {SOURCES}, got {src!r}")
        if src == "cmu-train":
            from zedo_xr.io.cmu import load_cmu

            da = load_cmu(root / "cmu" / "cmu_h36m17.npz", "train")
        elif src == "deepmimic":
            from zedo_xr.io import load_deepmimic

            da = load_deepmimic(root / "deepmimic" / "pybullet_data" / "data" / "motions")
        elif src == "climb":
            from zedo_xr.io import load_climb

            da = load_climb(root / "climb")
        elif src == "cmu-iclone":
            from zedo_xr.io import load_cmu_iclone

            da = load_cmu_iclone(root / "cmu_iclone" / "cmu_iclone_h36m17.npz")
        elif src == "hdm05":
            from zedo_xr.io import load_hdm05

            da = load_hdm05(root / "hdm05" / "hdm05_h36m17.npz")
        else:
            from zedo_xr.io import load_bandai

            da = load_bandai(root / "bandai1")
        provenance.append({"name": src, "frames": int(da.sizes[FRAME]),
                           "source": str(da.attrs.get("source", "")),
                           "licence": str(da.attrs.get("licence", ""))})
        parts.append(da.reset_coords(drop=True).drop_vars(FRAME, errors="ignore"))
    return xr.concat(parts, dim=FRAME, coords="minimal", compat="override"), provenance


def train_from_sources(sources: list[str], out: str | Path, *, data_root: str | Path | None = None,
                       eval_split: bool = True, **settings):
    """Train on named sources and save the prior to ``out`` (the ``zedo train`` entry point).

    Parameters
    ----------
    sources : list of str
        Any of ``cmu-train``, ``deepmimic``, ``climb`` (permissive) and ``bandai`` (experiments only).
    out : path
        Directory for the saved prior.
    eval_split : bool
        Use the CMU test split as held-out poses for periodic evaluation and the card's scores.
    **settings
        Passed to :func:`train_prior`.
    """
    poses, provenance = load_sources(sources, data_root)
    if eval_split and "eval_poses" not in settings:
        from zedo_xr.io.cmu import load_cmu

        root = Path(data_root) if data_root else Path(os.environ.get(
            "ZEDO_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
        settings["eval_poses"] = load_cmu(root / "cmu" / "cmu_h36m17.npz", "test")
    prior = train_prior(poses, sources=provenance, **settings)
    prior.save(out)
    return prior
