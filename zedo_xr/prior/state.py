"""A training run's state on disk (resumable checkpoints) and the card of a trained prior.

A checkpoint directory holds ``state.safetensors`` (the network, its EMA and Adam's moments) and
``state.json`` (step, recipe, data hash, history, wall time, Adam's parameter groups). Both are
written to temporary names and renamed, so an interruption never leaves a torn checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zedo_xr.prior.network import ScoreNet

STATE_FILE, STATE_JSON = "state.safetensors", "state.json"
ARCHITECTURE_TYPE = "ZeDO ScoreModelFC (unconditional MLP, eps-prediction)"


def data_hash(arr: np.ndarray) -> str:
    """Short sha256 of the training poses, recorded so a resumed run can check its data."""
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()[:16]


def hardware_description(device: torch.device) -> str:
    """What trained the prior, for its card (GPU name, or CPU, cores and torch threads)."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (torch {torch.__version__})"
    return (
        f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} torch threads (torch {torch.__version__})"
    )


def save_state(
    directory: Path, net: ScoreNet, ema: ScoreNet, opt: torch.optim.Optimizer, meta: dict[str, Any]
) -> None:
    """Write the full training state atomically (see the module docstring)."""
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    tensors = {f"model.{k}": v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    tensors.update({f"ema.{k}": v.detach().cpu().contiguous() for k, v in ema.state_dict().items()})
    osd = opt.state_dict()
    for i, st in osd["state"].items():
        for k, v in st.items():
            tensors[f"opt.{i}.{k}"] = torch.as_tensor(v).detach().cpu().contiguous()
    meta = dict(meta, param_groups=osd["param_groups"])
    tmp_t, tmp_j = directory / (STATE_FILE + ".tmp"), directory / (STATE_JSON + ".tmp")
    save_file(tensors, str(tmp_t))
    tmp_j.write_text(json.dumps(meta, indent=1))
    os.replace(tmp_t, directory / STATE_FILE)
    os.replace(tmp_j, directory / STATE_JSON)


def read_meta(directory: Path) -> dict[str, Any]:
    """The ``state.json`` of a checkpoint directory."""
    return json.loads((Path(directory) / STATE_JSON).read_text())


def load_state(
    directory: Path, net: ScoreNet, ema: ScoreNet, opt: torch.optim.Optimizer, device: torch.device
) -> dict[str, Any]:
    """Restore network, EMA and optimizer in place; returns the ``state.json`` contents."""
    from safetensors.torch import load_file

    meta = read_meta(directory)
    tensors = load_file(str(directory / STATE_FILE), device=str(device))
    net.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    ema.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("ema.")})
    state: dict[int, dict[str, torch.Tensor]] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, i, name = k.split(".", 2)
            state.setdefault(int(i), {})[name] = v.cpu() if name == "step" else v
    opt.load_state_dict({"state": state, "param_groups": meta["param_groups"]})
    return meta


def build_card(
    network: ScoreNet,
    meta: dict[str, Any],
    *,
    weights: str,
    frames: int | None = None,
    hardware: str | None = None,
    sources: list[dict] | None = None,
) -> dict[str, Any]:
    """The card of a prior, from its network and a checkpoint's ``state.json``-style ``meta``.

    ``meta`` holds ``name``, ``config`` (the recipe), ``step``, ``data_hash``, ``wall_time_s``,
    ``history`` and optionally ``command``. The one place where a card is assembled: training
    and :func:`prior_from_checkpoint` both call it.
    """
    recipe = meta["config"]
    training: dict[str, Any] = {
        **recipe,
        "steps_done": meta["step"],
        "data_hash": meta["data_hash"],
        "weights": weights,
        "wall_time_s": round(meta["wall_time_s"], 1),
    }
    if frames is not None:
        training["frames"] = frames
    if hardware is not None:
        training["hardware"] = hardware
    if meta.get("command"):
        training["command"] = meta["command"]
    card: dict[str, Any] = {
        "name": meta["name"],
        # every parameter, trainable or not (the EMA copy has requires_grad off)
        "architecture": {
            "type": ARCHITECTURE_TYPE,
            **network.config(),
            "parameters": sum(p.numel() for p in network.parameters()),
        },
        "schedule": recipe["schedule"],
        "training": training,
        "history": meta["history"],
    }
    if sources is not None or frames is not None:
        card["data"] = sources or [{"name": "poses", "frames": frames}]
    return card


def prior_from_checkpoint(checkpoint_dir: str | Path, *, weights: str = "ema", device="cpu"):
    """Build a :class:`~zedo_xr.prior.checkpoint.Prior` from a training checkpoint directory.

    No initial poses and no quality scores: the caller adds those from the training data.
    """
    from safetensors.torch import load_file

    from zedo_xr.prior.checkpoint import Prior

    if weights not in ("ema", "raw"):
        raise ValueError(f"weights: expected 'ema' or 'raw', got {weights!r}")
    d = Path(checkpoint_dir)
    meta = read_meta(d)
    meta.setdefault("name", d.name)
    cfg = meta["config"]
    tensors = load_file(str(d / STATE_FILE), device=str(device))
    prefix = {"ema": "ema.", "raw": "model."}[weights]
    net = ScoreNet(
        width=cfg["width"],
        blocks=cfg["blocks"],
        dropout=cfg["dropout"],
        joints=tensors[prefix + "head.bias"].numel() // 3,
    )
    net.load_state_dict({k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)})
    card = build_card(net, meta, weights=weights)
    return Prior(net, cfg["schedule"], card=card, name=card["name"])
