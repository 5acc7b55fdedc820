"""The numeric pipeline of a lift on plain arrays: chunks of frames x hypotheses on one device.

:func:`lift_arrays` takes ``uv (N, 17, 2)``, ``confidence (N, 17)`` and ``K (N, 3, 3)``, and for
every chunk of ``batch_size`` frames runs the initial fit, the loop and the hypothesis choice on
tensors ``(frames x hypotheses, joint, 3)`` that stay on the device; only the chunk's outputs come
back to the host. The xarray edge (:mod:`zedo_xr.estimator.driver`) calls it.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zedo_xr.device import resolve_device
from zedo_xr.estimator.select import DEFAULT_RULE
from zedo_xr.estimator.settings import LiftSettings, resolve_settings

Tensor = torch.Tensor

OUTPUTS = ("pose3d", "reprojection_error", "residual", "initial_error", "best_hypothesis")
"""Keys of the dict :func:`lift_arrays` returns."""


@dataclass(frozen=True)
class _TuningKnobs:
    """Search knobs that only the tuning benchmark varies (``benchmarks/tune.py``).

    Not part of :class:`LiftSettings`: every lift uses these defaults.

    Attributes
    ----------
    pitches : tuple of float
        Camera pitch candidates (radians) of the grid fit.
    yaw_modes : int
        With S > 1, hypothesis ``s`` starts from the ``(s mod yaw_modes)``-th best local minimum
        of its yaw fit (1: every hypothesis takes its best yaw).
    select : str
        Rule choosing ``best_hypothesis`` (see :mod:`zedo_xr.estimator.select`).
    """

    pitches: tuple[float, ...] = (0.0,)
    yaw_modes: int = 1
    select: str = DEFAULT_RULE


DEFAULT_KNOBS = _TuningKnobs()


# ----------------------------------------------------------------------------- prior
@functools.lru_cache(maxsize=4)
def _cached_prior(name: str, device: str) -> Any:
    from zedo_xr.prior.checkpoint import load_prior

    return load_prior(name, device=device)


def load_model(prior: Any, device: Any, dtype: Any) -> Any:
    """The prior on ``device`` and ``dtype``; names and paths are loaded once per device."""
    if isinstance(prior, str | Path):
        return _cached_prior(str(prior), str(device)).to(device=device, dtype=dtype)
    return prior.to(device=device, dtype=dtype)


def torch_dtype(name: str) -> torch.dtype:
    """``"float32"`` or ``"float64"`` as a torch dtype (clear error otherwise)."""
    if name not in ("float32", "float64"):
        raise ValueError(f"dtype: expected 'float32' or 'float64', got {name!r}")
    return getattr(torch, name)


def start_poses(
    model: Any, hypotheses: int, settings: LiftSettings, *, seed: int = 0
) -> tuple[Tensor, Tensor | None]:
    """Canonical initial poses ``(S, J, 3)`` and, for one hypothesis, the pool its start is
    picked from per frame (``(P, J, 3)``; ``None`` when ``settings.initial_pool`` is 1 or the
    initial method is not ``"kmeans"``), on the prior's device and dtype.
    """
    S = int(hypotheses)
    canonical = model.initial_poses(S, method=settings.initial_method, seed=seed)
    # The pool is the k-means centres: other methods (random, generated) keep their own start.
    use_pool = S == 1 and settings.initial_pool > 1 and settings.initial_method == "kmeans"
    pool = model.initial_poses(settings.initial_pool) if use_pool else None
    return canonical, pool


def default_batch_size(device: torch.device, hypotheses: int) -> int:
    """Frames per chunk: ~16k poses on a GPU, ~2k on a CPU (cache-friendly)."""
    return max(1, (16384 if device.type == "cuda" else 2048) // hypotheses)


# ----------------------------------------------------------------------------- progress
@dataclass
class Progress:
    """One progress bar in whole frames over all chunks (``tqdm.auto``), rate in frames/s.

    ``done`` frames (already lifted, e.g. when a store resumes) start the bar; the rate counts
    only the frames lifted now.
    """

    total: int
    enabled: bool = True
    done: int = 0
    bar: Any = field(default=None, init=False)

    def __enter__(self) -> Progress:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=self.total,
                initial=self.done,
                unit=" frames",
                desc="zedo lift",
                dynamic_ncols=True,
                smoothing=0.1,
            )
        return self

    def chunk(self, frames: int, iterations: int) -> Callable[[dict[str, Any]], None] | None:
        """A loop callback that advances the bar through ``frames`` over ``iterations``."""
        if self.bar is None:
            return None
        shown = 0

        def update(info: dict[str, Any]) -> None:
            nonlocal shown
            reached = frames * (info["i"] + 1) // iterations
            if reached > shown:
                self.bar.update(reached - shown)
                shown = reached

        return update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


# ----------------------------------------------------------------------------- one chunk
def _lift_chunk(
    model: Any,
    canonical: Tensor,
    uv: Tensor,
    conf: Tensor,
    K: Tensor,
    *,
    pool: Tensor | None,
    settings: LiftSettings,
    knobs: _TuningKnobs,
    callback: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Tensor]:
    """Lift ``n`` frames (tensors on the device) with ``S`` hypotheses each; outputs (n, S, ...)."""
    from zedo_xr.estimator.initial import initial_fit
    from zedo_xr.estimator.loop import optimize
    from zedo_xr.estimator.select import prior_evidence, select_hypothesis

    n, S = uv.shape[0], canonical.shape[0]
    # Frames and hypotheses in one batch: frame-major, hypothesis-minor (as initial_fit's).
    u, c, k = (t.repeat_interleave(S, 0) for t in (uv, conf, K))
    pose0, T0, err0 = initial_fit(
        canonical, uv, conf, K, settings, pool=pool, pitches=knobs.pitches, yaw_modes=knobs.yaw_modes
    )
    res = optimize(model, pose0, T0, u, c, k, settings.loop, callback=callback)
    out = {
        "pose3d": res["pose"].reshape(n, S, -1, 3),
        "reprojection_error": res["reprojection_error"].reshape(n, S),
        "residual": res["residual"].reshape(n, S),
        "initial_error": err0.reshape(n, S),
    }
    relative = res["relative"].reshape(n, S, -1, 3)
    out["best_hypothesis"] = select_hypothesis(
        knobs.select,
        reprojection_error=out["reprojection_error"],
        residual=out["residual"],
        relative=relative,
        initial_error=out["initial_error"],
        **prior_evidence(knobs.select, model, relative),
    )
    return out


# ----------------------------------------------------------------------------- all frames
def lift_arrays(
    uv: np.ndarray,
    confidence: np.ndarray,
    K: np.ndarray,
    *,
    prior: Any = "default",
    hypotheses: int = 1,
    settings: LiftSettings | str = "default",
    device: Any = "auto",
    seed: int = 0,
    batch_size: int | None = None,
    progress: bool | Progress = False,
    dtype: str = "float32",
    knobs: _TuningKnobs = DEFAULT_KNOBS,
) -> dict[str, np.ndarray]:
    """Lift plain arrays: ``uv (N, 17, 2)``, ``confidence (N, 17)``, ``K (N, 3, 3)``.

    Inputs are trusted (the xarray edge validates them); confidence 0 marks a missing joint.

    Returns
    -------
    dict of numpy arrays
        ``pose3d (N, S, 17, 3)``, ``reprojection_error (N, S)``, ``residual (N, S)``,
        ``initial_error (N, S)`` and ``best_hypothesis (N,)`` int64.
    """
    settings = resolve_settings(settings)
    dev = resolve_device(device)
    tdtype = torch_dtype(dtype)
    model = load_model(prior, dev, tdtype)
    S = int(hypotheses)
    N = uv.shape[0]
    batch_size = batch_size or default_batch_size(dev, S)
    canonical, pool = start_poses(model, S, settings, seed=seed)
    parts: dict[str, list[np.ndarray]] = {k: [] for k in OUTPUTS}
    own = not isinstance(progress, Progress)
    bar = progress if isinstance(progress, Progress) else Progress(N, bool(progress))
    with torch.no_grad(), bar if own else contextlib.nullcontext():
        for start in range(0, N, batch_size):
            sl = slice(start, min(N, start + batch_size))
            tensors = (torch.as_tensor(a[sl], device=dev, dtype=tdtype) for a in (uv, confidence, K))
            out = _lift_chunk(
                model,
                canonical,
                *tensors,
                pool=pool,
                settings=settings,
                knobs=knobs,
                callback=bar.chunk(sl.stop - sl.start, settings.loop.iterations),
            )
            for key, value in out.items():
                parts[key].append(value.cpu().numpy())
    result = {k: np.concatenate(v) for k, v in parts.items()}
    result["best_hypothesis"] = result["best_hypothesis"].astype(np.int64)
    return result
