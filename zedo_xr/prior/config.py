"""Every setting of a prior's training run in one dataclass, :class:`TrainConfig` (torch-free).

``zedo train`` and ``scripts/train_prior.py`` build their command-line options from its fields
(:func:`add_arguments`, :func:`from_arguments`), so a setting is declared once, here.

*Recipe* settings decide the weights: they are stored in checkpoints and cards, and a resumed run
must use the same ones (``steps`` may grow). *Run* settings (checkpointing, logging, device,
what to compute at the end) do not change the weights.
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from typing import Any

T_SAMPLING = ("uniform", "truncated", "mixed")
"""``uniform``: t ~ U(1e-5, 1] (official). ``truncated``: t ~ U(1e-5, t_max]. ``mixed``: with
probability ``t_low_fraction`` from the truncated range, else uniform."""

SCHEDULES = ("subvp", "ddpm")

CONSTANTS = {
    "optimizer": "Adam(betas=(0.9, 0.999), eps=1e-8)",
    "loss": "0.5 * sum over joints*coords of (eps_theta - eps)^2, mean over batch",
}
"""Parts of the recipe that are not settings, recorded beside them in checkpoints and cards."""

ADDED_LATER = {
    "bone_length_std": 0.0,
    "kinematic_augmentation": 0.0,
    "part_recombination": 0.0,
    "joint_jitter": 0.0,
    "source_balance": 0.0,
}
"""Recipe settings added after checkpoints were written without them, with the value those runs
used (so such checkpoints still resume)."""


def _recipe(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help, "recipe": True})


def _run(default: Any, help: str) -> Any:
    return field(default=default, metadata={"help": help, "recipe": False})


@dataclass(frozen=True)
class TrainConfig:
    """Settings of a prior's training run (defaults: the bundled prior's recipe).

    Examples
    --------
    >>> from zedo_xr.prior.config import TrainConfig
    >>> cfg = TrainConfig(steps=2000, width=512)
    >>> cfg.recipe()["width"], "device" in cfg.recipe()
    (512, False)
    >>> TrainConfig(t_sampling="log")
    Traceback (most recent call last):
    ...
    ValueError: t_sampling: expected one of ('uniform', 'truncated', 'mixed'), got 'log'
    """

    steps: int = _recipe(
        30_000, "training steps; raise it on resume to train longer (the cosine decay then stretches)"
    )
    batch_size: int = _recipe(256, "poses per step")
    lr: float = _recipe(2e-4, "peak learning rate of Adam (betas 0.9/0.999)")
    warmup: int = _recipe(500, "linear warm-up steps before the cosine decay")
    min_lr_ratio: float = _recipe(0.05, "the cosine decay ends at min_lr_ratio * lr")
    schedule: str = _recipe("subvp", "diffusion schedule: subvp (the paper's) or ddpm")
    t_sampling: str = _recipe(
        "mixed",
        "training-time distribution: uniform (official), truncated "
        "or mixed (won benchmarks/results/prior_t_sampling.md)",
    )
    t_max: float = _recipe(0.1, "upper end of the truncated range of t")
    t_low_fraction: float = _recipe(0.8, "share of t drawn from the truncated range (mixed)")
    rotation_augmentation: bool = _recipe(
        False, "also rotate by a uniform random SO(3) rotation (the paper's RA)"
    )
    rotation_probability: float = _recipe(0.5, "probability of that rotation")
    bone_length_std: float = _recipe(
        0.0,
        "bone-length augmentation: log-normal std of a per-bone factor, the same for left and "
        "right twins (0.15 on a CMU-only prior: 2.7 mm better PA-MPJPE on other proportions, "
        "worse MPJPE; docs/results.md Tables 1 and 6); 0 = off",
    )
    kinematic_augmentation: float = _recipe(
        0.0,
        "probability that each part (legs, arms, trunk) of a training pose is re-posed within "
        "human ranges of motion (zedo_xr.prior.augment.repose); 0 = off. Measured alone at 0.4: "
        "cross-domain MPJPE / PA-MPJPE -0.6 / +0.0 per cent (benchmarks/results/generalization.md)",
    )
    part_recombination: float = _recipe(
        0.0,
        "probability that a training pose gets another pose's upper body "
        "(zedo_xr.prior.augment.recombine); 0 = off. Measured alone at 0.2: MPJPE / PA-MPJPE "
        "cross-domain +1.3 / -0.2 per cent (benchmarks/results/generalization.md)",
    )
    joint_jitter: float = _recipe(
        0.0,
        "scale of the spine/neck/head/shoulder definition jitter (1 = the spread between the "
        "training sources; zedo_xr.prior.augment.jitter_joint_definitions); 0 = off. Measured "
        "alone at 1.0: cross-domain MPJPE / PA-MPJPE +0.4 / -0.1 per cent "
        "(benchmarks/results/generalization.md)",
    )
    source_balance: float = _recipe(
        0.0,
        "how evenly batches draw from the training sources: a source's share of the poses is "
        "proportional to frames ** (1 - source_balance), so 0 draws every frame equally (a large "
        "source dominates), 1 every source equally, 0.5 by the square root of its size; needs "
        "each frame's source (train_prior's frame_source)",
    )
    flip: bool = _recipe(True, "left/right flip with probability 1/2")
    pitch_range: tuple[float, float] = _recipe(
        (0.0, 20.0), "camera pitch below the horizon, degrees (low high)"
    )
    width: int = _recipe(1024, "network width (the paper: 1024)")
    blocks: int = _recipe(2, "residual blocks (the paper: 2)")
    dropout: float = _recipe(
        0.0,
        "dropout (the paper: 0.25; 0 trains faster at CPU budgets, benchmarks/results/prior_t_sampling.md)",
    )
    ema_decay: float = _recipe(
        0.9999, "EMA decay, official warm-up min(decay, (1+n)/(10+n)); 0 keeps the raw weights"
    )
    grad_clip: float = _recipe(1.0, "gradient-norm clip (0 = off)")
    seed: int = _recipe(0, "seed of the initialisation and of every random draw")
    init_from: str | None = _recipe(
        None, "start from the weights of a saved prior directory (fine-tuning; fresh optimizer and EMA)"
    )
    checkpoint_every: int = _run(1000, "save the full training state every N steps (and at the end)")
    resume: bool = _run(True, "continue from the checkpoint directory's state when there is one")
    eval_every: int = _run(1000, "held-out denoising error every N steps (with held-out poses)")
    eval_count: int = _run(2000, "held-out views for that evaluation")
    stop_after: int | None = _run(
        None, "stop (after checkpointing) once this many steps are done, without changing the schedule"
    )
    device: str = _run("auto", "auto, cpu, cuda, cuda:1, ...")
    progress: bool = _run(True, "show a progress bar")
    hypotheses: bool = _run(True, "store k-means initial poses of the training data with the prior")
    quality: bool = _run(True, "score the prior on the held-out poses for its card")
    name: str = _run("prior", "the prior's name in its card")
    command: str | None = _run(None, "the command line recorded in the card")

    def __post_init__(self) -> None:
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule: expected one of {SCHEDULES}, got {self.schedule!r}")
        if self.t_sampling not in T_SAMPLING:
            raise ValueError(f"t_sampling: expected one of {T_SAMPLING}, got {self.t_sampling!r}")
        for name in (
            "steps",
            "batch_size",
            "width",
            "blocks",
            "checkpoint_every",
            "eval_every",
            "eval_count",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: expected an integer >= 1, got {value!r}")
        for name in (
            "kinematic_augmentation",
            "part_recombination",
            "rotation_probability",
            "t_low_fraction",
            "dropout",
            "source_balance",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")
        for name in ("bone_length_std", "joint_jitter", "lr", "warmup", "grad_clip", "ema_decay"):
            value = getattr(self, name)
            if not value >= 0:
                raise ValueError(f"{name}: expected a number >= 0, got {value!r}")
        if len(self.pitch_range) != 2:
            raise ValueError(f"pitch_range: expected (low, high) degrees, got {self.pitch_range!r}")

    def recipe(self) -> dict[str, Any]:
        """The settings that decide the weights, as stored in checkpoints and cards."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.metadata["recipe"]}
        out["pitch_range"] = list(self.pitch_range)
        if out["init_from"] is None:
            del out["init_from"]  # recorded only when used, as before the setting had a field
        else:
            out["init_from"] = str(out["init_from"])
        return {**out, **CONSTANTS}

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with some settings changed (names checked)."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(f"settings: expected names of TrainConfig fields, got {unknown}")
        return dataclasses.replace(self, **changes)


def _field_lines() -> str:
    lines = ["", "", "    Attributes", "    ----------"]
    for f in dataclasses.fields(TrainConfig):
        kind = "recipe" if f.metadata["recipe"] else "run"
        lines.append(f"    {f.name} : default {f.default!r} ({kind})")
        lines.append(f"        {f.metadata['help']}.")
    return "\n".join(lines) + "\n"


TrainConfig.__doc__ = (TrainConfig.__doc__ or "") + _field_lines()


# ----------------------------------------------------------------------------- command line

_CLI_SKIP = ("command", "progress", "name", "hypotheses", "quality", "stop_after")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one ``--option`` per :class:`TrainConfig` field (``--batch-size``, ``--no-flip``, ...).

    Defaults are left as ``None`` so :func:`from_arguments` can tell what the user set.
    """
    group = parser.add_argument_group("training settings (TrainConfig)")
    for f in dataclasses.fields(TrainConfig):
        if f.name in _CLI_SKIP:
            continue
        flag = "--" + f.name.replace("_", "-")
        text = f"{f.metadata['help']} (default {f.default!r})"
        if isinstance(f.default, bool):
            group.add_argument(
                flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=text
            )
        elif f.name == "pitch_range":
            group.add_argument(flag, dest=f.name, type=float, nargs=2, default=None, help=text)
        else:
            kind = str if f.default is None else type(f.default)
            group.add_argument(flag, dest=f.name, type=kind, default=None, help=text)


def from_arguments(args: argparse.Namespace, **fixed: Any) -> TrainConfig:
    """The :class:`TrainConfig` of parsed options: what was given, else ``fixed``, else defaults."""
    given = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(TrainConfig)
        if f.name not in _CLI_SKIP and getattr(args, f.name, None) is not None
    }
    if "pitch_range" in given:
        given["pitch_range"] = tuple(given["pitch_range"])
    return TrainConfig(**{**fixed, **given})
