"""Training the pose prior: denoising score matching on camera-frame, root-relative poses.

Every batch is drawn afresh: world poses (Z up) go through the pose-space augmentations that are
on (:mod:`zedo_xr.prior.augment`), are seen through a random camera of the evaluation protocol's
distribution (any azimuth, looking down by ``pitch ~ U(pitch_range)``), made root-relative,
flipped left/right with probability 1/2 and optionally rotated by a uniformly random SO(3)
rotation (the paper's "RA"). The loss is the official eps-form DSM,
``mean_batch 0.5 * sum_dims (eps_theta(x_t, t) - eps)^2``.

Determinism: every random draw of step ``n`` comes from generators seeded by ``(seed, n)``, and the
data order is a seeded permutation per epoch, so the trainer has no hidden RNG state. A run
interrupted after a checkpoint and resumed reproduces the uninterrupted run exactly (bit for bit
on CPU).

Settings are a :class:`~zedo_xr.prior.config.TrainConfig`; checkpoints and the card are
:mod:`zedo_xr.prior.state`'s. Where the poses come from is the caller's business (``zedo train``
reads files; the repository's scripts name its development sources).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zedo_xr.device import resolve_device
from zedo_xr.prior import schedules
from zedo_xr.prior.augment import (
    Augmentation,
    augment,
    bone_length_factors,
    camera_views,
    scale_bones,
)
from zedo_xr.prior.config import ADDED_LATER, T_SAMPLING, TrainConfig
from zedo_xr.prior.network import ScoreNet
from zedo_xr.prior.state import STATE_JSON, build_card, data_hash, hardware_description

Tensor = torch.Tensor

T_EPS = 1e-5

__all__ = [
    "TrainConfig",
    "dsm_loss",
    "frame_sources",
    "learning_rate",
    "poses_to_array",
    "sample_times",
    "source_weights",
    "train_prior",
]


# ----------------------------------------------------------------------------- pieces


def _frames(poses: Any, name: str) -> np.ndarray:
    """``poses`` as a ``(frame, joint, 3)`` array (a DataArray transposed), shape checked."""
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
    return arr


def _finite(arr: np.ndarray) -> np.ndarray:
    """Which frames of ``arr`` (frame, joint, 3) are complete: the ones training keeps."""
    return np.isfinite(arr).all(axis=(1, 2))


def poses_to_array(poses: Any, name: str = "poses") -> np.ndarray:
    """A (frame, joint, coord) DataArray (or array) to float32 ``(N, 17, 3)``, NaN frames dropped."""
    arr = _frames(poses, name).astype(np.float32)
    keep = _finite(arr)
    if not keep.any():
        raise ValueError(f"{name}: expected finite poses, got none among {len(arr)} frames")
    return np.ascontiguousarray(arr[keep])


def frame_sources(poses: Any, frame_source: Any = None) -> np.ndarray | None:
    """Each finite frame's source as an integer code, aligned with :func:`poses_to_array`'s output.

    ``frame_source`` (one label per frame of ``poses``) wins; else a ``source`` coordinate along
    ``frame`` of a DataArray; else ``None`` (sources unknown).
    """
    import xarray as xr

    from zedo_xr.schema import FRAME

    own = isinstance(poses, xr.DataArray) and "source" in poses.coords
    if frame_source is None and own and poses["source"].dims == (FRAME,):
        frame_source = poses["source"].values
    if frame_source is None:
        return None
    labels = np.asarray(frame_source)
    arr = _frames(poses, "poses")
    if labels.shape != arr.shape[:1]:
        raise ValueError(
            f"frame_source: expected one label per frame, shape ({arr.shape[0]},), got {labels.shape}"
        )
    return np.unique(labels[_finite(arr)], return_inverse=True)[1].astype(np.int64)


def source_weights(codes: np.ndarray, balance: float) -> torch.Tensor:
    """Per-frame sampling probabilities, shape (N,), that give source ``s`` (with ``n_s`` frames)
    the share ``n_s ** (1 - balance) / sum_r n_r ** (1 - balance)`` of the draws.

    Examples
    --------
    >>> codes = np.array([0] * 90 + [1] * 10)
    >>> w = source_weights(codes, 1.0)
    >>> round(float(w[:90].sum()), 3), round(float(w[90:].sum()), 3)
    (0.5, 0.5)
    >>> round(float(source_weights(codes, 0.5)[:90].sum()), 3)  # sqrt(90) : sqrt(10)
    0.75
    """
    if not 0.0 <= balance <= 1.0:
        raise ValueError(f"balance: expected a number in [0, 1], got {balance!r}")
    counts = np.bincount(codes).astype(np.float64)
    w = counts[codes] ** -balance
    return torch.as_tensor(w / w.sum())


def sample_times(
    n: int,
    mode: str,
    generator: torch.Generator,
    *,
    t_max: float = 0.1,
    low_fraction: float = 0.8,
    device=None,
    dtype=torch.float32,
) -> Tensor:
    """Training times for one batch, shape (n,) (``mode`` one of :data:`T_SAMPLING`)."""
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


# ----------------------------------------------------------------------------- the run


class _Run:
    """One training run's state: data, networks, optimizer, step, history, wall time."""

    def __init__(
        self,
        config: TrainConfig,
        data: np.ndarray,
        device: torch.device,
        log: Callable[[str], None],
        sources: np.ndarray | None = None,
    ) -> None:
        c = self.config = config
        self.device, self.log = device, log
        self.data_hash = data_hash(data)
        self.data = torch.from_numpy(data).to(device)
        # With source_balance > 0 batches are drawn by these per-frame probabilities (with
        # replacement) instead of walking a permutation per epoch.
        self.weights = None
        if c.source_balance > 0:
            if sources is None:
                raise ValueError(
                    f"frame_source: expected each frame's source for source_balance={c.source_balance}, "
                    "got none (pass frame_source= or a 'source' coordinate along frame)"
                )
            self.weights = source_weights(sources, c.source_balance)
        self.recipe = c.recipe()
        torch.manual_seed(c.seed)
        size = {"joints": data.shape[1], "width": c.width, "blocks": c.blocks, "dropout": c.dropout}
        self.net, self.ema = ScoreNet(**size).to(device), ScoreNet(**size).to(device)
        if c.init_from is not None:
            from zedo_xr.prior.checkpoint import load_prior

            self.net.load_state_dict(load_prior(c.init_from).network.state_dict())
        self.ema.load_state_dict(self.net.state_dict())
        self.ema.eval().requires_grad_(False)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=c.lr, betas=(0.9, 0.999), eps=1e-8)
        self.augmentation = Augmentation(
            kinematic=c.kinematic_augmentation,
            recombine=c.part_recombination,
            joint_jitter=c.joint_jitter,
            bone_length_std=c.bone_length_std,
        )
        from zedo_xr.skeleton import flip_permutation

        self.flip_index = torch.as_tensor(flip_permutation(), device=device)
        self.step, self.wall = 0, 0.0
        self.history: list[dict[str, Any]] = []
        self.eval_x: Tensor | None = None

    # ------------------------------------------------------------ checkpoints
    def meta(self) -> dict[str, Any]:
        """The ``state.json`` contents of this run now (also the input of its card)."""
        return {
            "step": self.step,
            "config": self.recipe,
            "data_hash": self.data_hash,
            "history": self.history,
            "wall_time_s": self.wall,
            "name": self.config.name,
            "command": self.config.command,
        }

    def resume(self, directory: Path) -> None:
        """Continue from ``directory``'s checkpoint; refuse other data or another recipe."""
        from zedo_xr.prior.state import load_state

        meta = load_state(directory, self.net, self.ema, self.opt, self.device)
        if meta["data_hash"] != self.data_hash:
            raise ValueError(
                f"resume: checkpoint {directory} was trained on data {meta['data_hash']}, "
                f"got {self.data_hash}; pass resume=False or another checkpoint_dir"
            )
        stored = meta["config"]
        changed = {
            k: (stored.get(k, ADDED_LATER.get(k)), v)
            for k, v in self.recipe.items()
            if k != "steps" and stored.get(k, ADDED_LATER.get(k)) != v
        }
        if changed:
            raise ValueError(f"resume: settings differ from the checkpoint's: {changed}")
        self.step, self.history, self.wall = meta["step"], meta["history"], meta["wall_time_s"]
        self.log(f"resumed from {directory} at step {self.step}")

    # ------------------------------------------------------------ one step
    def pick(self, step: int) -> Tensor:
        """Indices of the training poses of ``step`` (CPU): a slice of the epoch's permutation,
        or with ``source_balance`` a draw by the per-frame source weights."""
        c = self.config
        if self.weights is None:
            per_epoch = len(self.data) // c.batch_size
            epoch, offset = divmod(step, per_epoch)
            g = torch.Generator().manual_seed(c.seed * 1_000_003 + epoch)
            return torch.randperm(len(self.data), generator=g)[
                offset * c.batch_size : (offset + 1) * c.batch_size
            ]
        g = torch.Generator().manual_seed((c.seed + 3) * 5_000_011 + step)
        return torch.multinomial(self.weights, c.batch_size, replacement=True, generator=g)

    def batch(self, step: int) -> tuple[Tensor, Tensor, Tensor]:
        """Clean poses, times and noise of ``step``, all from generators seeded by the step."""
        c, dev = self.config, self.device
        world = self.data[self.pick(step).to(dev)]
        gs = torch.Generator(device=dev).manual_seed((c.seed + 1) * 7_919_000_003 + step)
        if self.augmentation.in_world:
            # its own stream, so runs without it keep their exact random draws
            ga = torch.Generator(device=dev).manual_seed((c.seed + 2) * 6_700_417_001 + step)
            world = augment(world, self.augmentation, ga)
        x0 = camera_views(
            world,
            gs,
            pitch_range=c.pitch_range,
            flip=c.flip,
            rotation_probability=c.rotation_probability if c.rotation_augmentation else 0.0,
            flip_index=self.flip_index,
        )
        t = sample_times(
            c.batch_size,
            c.t_sampling,
            gs,
            t_max=c.t_max,
            low_fraction=c.t_low_fraction,
            device=dev,
            dtype=x0.dtype,
        )
        noise = torch.randn(x0.shape, generator=gs, device=dev, dtype=x0.dtype)
        if c.bone_length_std > 0:
            # drawn after the other draws, so runs without it keep their exact random streams
            factors = bone_length_factors(
                c.batch_size, c.bone_length_std, gs, twin_index=self.flip_index, device=dev, dtype=x0.dtype
            )
            x0 = scale_bones(x0, factors)
        return x0, t, noise

    def train_step(self) -> float:
        c, step = self.config, self.step
        x0, t, noise = self.batch(step)
        torch.manual_seed(c.seed * 1_000_033 + step)  # dropout masks
        for group in self.opt.param_groups:
            group["lr"] = learning_rate(
                step, lr=c.lr, warmup=c.warmup, steps=c.steps, min_lr_ratio=c.min_lr_ratio
            )
        loss = dsm_loss(self.net, x0, t, noise, c.schedule)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        if c.grad_clip:
            torch.nn.utils.clip_grad_norm_(list(self.net.parameters()), c.grad_clip)
        self.opt.step()
        decay = min(c.ema_decay, (1 + step) / (10 + step))
        with torch.no_grad():
            torch._foreach_lerp_(
                list(self.ema.parameters()), [p.detach() for p in self.net.parameters()], 1 - decay
            )
        self.step += 1
        return float(loss.detach())

    def evaluate(self) -> dict[str, Any]:
        """Held-out denoising error of the EMA and raw weights."""
        from zedo_xr.prior.quality import denoising_error

        rec: dict[str, Any] = {}
        if self.eval_x is None:
            return rec
        for label, model in (("ema", self.ema), ("raw", self.net)):
            was = model.training
            model.eval()
            rec[label] = denoising_error(model, self.config.schedule, self.eval_x, seed=0)
            model.train(was)
        return rec

    # ------------------------------------------------------------ the loop
    def run(self, checkpoint_dir: Path | None) -> None:
        """Train to ``steps`` (or ``stop_after``), logging every 100 steps and checkpointing."""
        from zedo_xr.prior.state import save_state

        c = self.config
        end = c.steps if c.stop_after is None else min(c.steps, c.stop_after)
        bar = None
        if c.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=c.steps, initial=self.step, desc=f"train {c.name}", dynamic_ncols=True)
        self.net.train()
        t_last, losses = time.perf_counter(), []
        while self.step < end:
            losses.append(self.train_step())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.3f}", refresh=False)
            do_eval = self.eval_x is not None and (self.step % c.eval_every == 0 or self.step == end)
            do_ckpt = self.step % c.checkpoint_every == 0 or self.step == end
            if do_eval or do_ckpt or self.step % 100 == 0:
                now = time.perf_counter()
                self.wall, t_last = self.wall + now - t_last, now
            if do_eval or self.step % 100 == 0:
                self._record(losses, do_eval)
                losses = []
                t_last = time.perf_counter()  # evaluation time is not training time
            if do_ckpt and checkpoint_dir is not None:
                save_state(checkpoint_dir, self.net, self.ema, self.opt, self.meta())
        if bar is not None:
            bar.close()

    def _record(self, losses: list[float], do_eval: bool) -> None:
        rec: dict[str, Any] = {
            "step": self.step,
            "loss": sum(losses) / max(1, len(losses)),
            "wall_time_s": round(self.wall, 1),
        }
        if do_eval:
            rec.update(self.evaluate())
        self.history.append(rec)
        self.log(json.dumps(rec))

    def prior(self, sources: list[dict] | None):
        """The trained :class:`~zedo_xr.prior.checkpoint.Prior` (EMA weights unless decay 0)."""
        from zedo_xr.prior.checkpoint import Prior

        final = self.ema if self.config.ema_decay > 0 else self.net
        card = build_card(
            final,
            self.meta(),
            weights="ema" if self.config.ema_decay > 0 else "raw",
            frames=len(self.data),
            hardware=hardware_description(self.device),
            sources=sources,
        )
        prior = Prior(ScoreNet(**final.config()), self.config.schedule, card=card, name=self.config.name)
        prior.network.load_state_dict(final.state_dict())
        return prior.to(self.device)


def _config(config: TrainConfig | None, settings: dict[str, Any]) -> TrainConfig:
    if config is not None and not isinstance(config, TrainConfig):
        raise TypeError(f"config: expected a TrainConfig, got {type(config).__name__}")
    return (config or TrainConfig()).replace(**settings)


def train_prior(
    poses: Any,
    config: TrainConfig | None = None,
    *,
    eval_poses: Any = None,
    checkpoint_dir: str | Path | None = None,
    sources: list[dict] | None = None,
    frame_source: Any = None,
    log: Callable[[str], None] | None = None,
    **settings: Any,
):
    """Train a ZeDO pose prior.

    Parameters
    ----------
    poses : DataArray (frame, joint, coord)
        Training poses in metres, world frame with Z up (any heading, any position), H36M joints.
    config : TrainConfig, optional
        Every setting of the run (see :class:`~zedo_xr.prior.config.TrainConfig`, defaults: the
        bundled prior's recipe).
    eval_poses : DataArray (frame, joint, coord), optional
        Held-out world poses: the denoising error at t in {0.01, 0.05, 0.1} of the EMA and raw
        weights is logged every ``eval_every`` steps, and the card's quality block is computed on
        them (``quality``).
    checkpoint_dir : path, optional
        Save the full state every ``checkpoint_every`` steps (and at the end) there; with
        ``resume`` continue from it. ``steps`` may be raised on resume to train longer.
    sources : list of dict, optional
        Provenance of the poses for the card (``name``, ``frames``, ``source``, ``licence``).
    frame_source : array-like, shape (frame,), optional
        Which source each frame of ``poses`` comes from (any labels), for ``source_balance``;
        default: a ``source`` coordinate along ``frame`` of ``poses``.
    log : callable, optional
        Receives one JSON line every 100 steps (loss, wall time, held-out errors).
    **settings
        :class:`TrainConfig` fields overriding ``config`` (``steps=2000, width=512``, ...).

    Returns
    -------
    Prior
        In eval mode, with the EMA weights (``ema_decay=0`` keeps the raw ones), k-means initial
        poses of the training data (``hypotheses``) and a quality report (``quality``).

    Examples
    --------
    >>> import numpy as np, xarray as xr                                  # doctest: +SKIP
    >>> poses = xr.DataArray(np.load("my_poses.npy"), dims=("frame", "joint", "coord"))
    >>> prior = train_prior(poses, steps=2000, width=512, checkpoint_dir="run")
    >>> prior.save("my-prior")                                            # lift(..., prior="my-prior")
    """
    config = _config(config, settings)
    data = poses_to_array(poses)
    if len(data) < config.batch_size:
        raise ValueError(f"poses: expected at least batch_size={config.batch_size} frames, got {len(data)}")
    held_out = poses_to_array(eval_poses, "eval_poses") if eval_poses is not None else None
    codes = frame_sources(poses, frame_source)
    run = _Run(config, data, resolve_device(config.device), log or (lambda s: None), codes)
    if held_out is not None:
        from zedo_xr.prior.quality import fixed_views

        run.eval_x = fixed_views(held_out, config.eval_count, seed=12345).to(run.device)
    ckpt = Path(checkpoint_dir) if checkpoint_dir is not None else None
    if ckpt is not None and config.resume and (ckpt / STATE_JSON).exists():
        run.resume(ckpt)
    run.run(ckpt)
    prior = run.prior(sources)
    if config.hypotheses:
        from zedo_xr.prior.hypotheses import training_hypotheses

        # The start poses cover the sources as the batches did (balanced or not).
        weights = None if run.weights is None else run.weights.cpu().numpy()
        prior.hypotheses = training_hypotheses(data, weights=weights, seed=config.seed)
    if config.quality and held_out is not None:
        from zedo_xr.prior.quality import quality_report

        name = str(getattr(eval_poses, "attrs", {}).get("source") or "held-out poses")
        prior.card["quality"] = quality_report(prior, held_out, train_world=data, held_out_name=name)
    return prior
