"""The :class:`Prior` object, its on-disk format, and :func:`load_prior`.

A saved prior is a directory:

- ``weights.safetensors``: the network's tensors (fp32, or fp16 for the bundled one; always
  loaded as fp32),
- ``card.json``: architecture, schedule, training data with provenance and licence, settings,
  wall time, hardware, held-out scores,
- ``hypotheses.safetensors``: initial poses ``S{n}`` of shape (n, 17, 3) in the canonical frame.

Loading never unpickles. ``content_hash`` is the sha256 of the fp32 weight bytes (sorted by name)
plus the card's architecture and schedule, so a re-saved or fp16-round-tripped copy of the same
weights keeps its hash, and ``lift`` records it in its outputs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zedo_xr.device import resolve_device
from zedo_xr.prior import schedules
from zedo_xr.prior.network import ScoreNet

Tensor = torch.Tensor

DEFAULT_DIR = Path(__file__).resolve().parent / "default"
WEIGHTS, CARD, HYPOTHESES = "weights.safetensors", "card.json", "hypotheses.safetensors"


class Prior:
    """A trained pose prior: the eps-network plus its schedule, card and initial poses.

    Parameters
    ----------
    network : ScoreNet
    kind : {"subvp", "ddpm"}
    card : dict, optional
    hypotheses : dict of int -> ndarray (S, 17, 3), optional
    name : str

    Examples
    --------
    >>> prior = load_prior("default")                       # doctest: +SKIP
    >>> eps = prior.eps(torch.zeros(8, 17, 3), 0.05)        # doctest: +SKIP
    """

    def __init__(
        self,
        network: ScoreNet,
        kind: str = "subvp",
        *,
        card: dict | None = None,
        hypotheses: dict[int, np.ndarray] | None = None,
        name: str = "prior",
    ) -> None:
        if kind not in schedules.KINDS:
            raise ValueError(f"kind: expected one of {schedules.KINDS}, got {kind!r}")
        self.network = network.eval()
        self.kind = kind
        self.card: dict[str, Any] = card or {}
        self.hypotheses: dict[int, np.ndarray] = hypotheses or {}
        self.name = name
        self._hash: str | None = None

    def __repr__(self) -> str:
        p = next(self.network.parameters())
        return (
            f"Prior(name={self.name!r}, kind={self.kind!r}, width={self.network.width}, "
            f"blocks={self.network.n_blocks}, device={p.device}, dtype={p.dtype}, "
            f"hash={self.content_hash[:12]})"
        )

    # ---------------------------------------------------------------- properties
    @property
    def device(self) -> torch.device:
        return next(self.network.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        return next(self.network.parameters()).dtype

    @property
    def content_hash(self) -> str:
        if self._hash is None:
            h = hashlib.sha256()
            for k, v in sorted(self.network.state_dict().items()):
                h.update(k.encode())
                h.update(v.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
            h.update(
                json.dumps(
                    {"architecture": self.network.config(), "kind": self.kind}, sort_keys=True
                ).encode()
            )
            self._hash = h.hexdigest()
        return self._hash

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> Prior:
        """Move the network (in place) and return self.

        ``device`` goes through :func:`zedo_xr.device.resolve_device` (``"auto"``, names,
        ``torch.device``; a clear error for an unknown or absent device); None keeps the device.
        """
        if device is not None:
            device = resolve_device(device)
        self.network.to(device=device, dtype=dtype)
        return self

    # ---------------------------------------------------------------- model
    @torch.no_grad()
    def eps(self, x: Tensor, t: float | Tensor) -> Tensor:
        """Predicted noise for poses ``x`` (B, J, 3) at time ``t`` (scalar: fast path; or (B,)).

        ``x`` of another floating dtype than the network is cast for the call and the result cast
        back, so a float64 optimisation can use a float32 prior.
        """
        if self.network.training:
            self.network.eval()
        dtype = self.dtype
        if x.dtype != dtype:
            t = t.to(dtype) if isinstance(t, Tensor) else t
            return self.network(x.to(dtype), t).to(x.dtype)
        return self.network(x, t)

    def marginal(self, t: float | Tensor) -> tuple[Tensor, Tensor]:
        """``(alpha(t), sigma(t))`` of this prior's schedule."""
        return schedules.marginal(self.kind, t)

    def beta(self, t: float | Tensor) -> Tensor:
        return schedules.beta(self.kind, t)

    def g2(self, t: float | Tensor) -> Tensor:
        return schedules.g2(self.kind, t)

    # ---------------------------------------------------------------- generation
    @torch.no_grad()
    def sample(
        self, n: int, *, steps: int = 200, seed: int = 0, t_end: float = 1e-3, method: str = "sde"
    ) -> Tensor:
        """Generate ``n`` root-relative camera-frame poses by the reverse process, (n, J, 3).

        ``method="sde"``: Euler-Maruyama on the reverse SDE from t = 1 to ``t_end`` over ``steps``
        steps, then a final Tweedie denoise. ``method="ddim"``: deterministic DDIM steps.
        For ``kind="ddpm"`` with ``steps=1000``, ``method="ancestral"`` is the textbook sampler.
        """
        dev, dt = self.device, self.dtype
        g = torch.Generator(device=dev).manual_seed(seed)
        J = self.network.joints
        x = torch.randn(n, J, 3, generator=g, device=dev, dtype=dt)
        if method == "ancestral":
            if self.kind != "ddpm":
                raise ValueError(f"method: 'ancestral' needs kind='ddpm', got {self.kind!r}")
            for i in range(schedules.DDPM_STEPS - 1, -1, -1):
                eps = self.eps(x, float(schedules.ddpm_time(i)))
                noise = torch.randn(x.shape, generator=g, device=dev, dtype=dt)
                x = schedules.ddpm_step(x, eps, i, noise)
            return x
        ts = torch.linspace(1.0, t_end, steps + 1, dtype=torch.float64)
        for i in range(steps):
            t, t_next = float(ts[i]), float(ts[i + 1])
            eps = self.eps(x, t)
            if method == "ddim":
                x = schedules.ddim_step(self.kind, x, eps, t, t_next)
                continue
            if method != "sde":
                raise ValueError(f"method: expected 'sde', 'ddim' or 'ancestral', got {method!r}")
            h = t - t_next
            sigma = float(self.marginal(t)[1])
            b, gg = float(self.beta(t)), float(self.g2(t))
            score = -eps / sigma
            x = x + (0.5 * b * x + gg * score) * h
            x = x + (gg * h) ** 0.5 * torch.randn(x.shape, generator=g, device=dev, dtype=dt)
        eps = self.eps(x, t_end)
        x = schedules.x0_from_eps(self.kind, x, eps, t_end)
        return x - x[:, :1]

    def initial_poses(self, S: int, method: str = "kmeans", seed: int = 0) -> Tensor:
        """``S`` canonical initial poses, (S, 17, 3) on the prior's device and dtype.

        ``kmeans`` (any ``S >= 1``, deterministic): the stored k-means centres when ``S`` is a
        stored size (1, 5, 10, 20, 50 for the bundled prior); below the largest stored size the
        first ``S`` centres of the next larger set (the ``S`` commonest poses of that
        clustering); above it the largest set plus poses of the stored pool of training poses
        picked farthest-first, and beyond the pool poses generated from the prior (seed 0),
        canonicalised (see :func:`zedo_xr.prior.hypotheses.any_size`).
        ``random``: S random training poses stored with the prior (``hypotheses[-1]`` pool).
        ``generated``: S poses drawn from the prior, canonicalised (upright, facing the camera).

        Examples
        --------
        >>> load_prior().initial_poses(7).shape                  # doctest: +SKIP
        torch.Size([7, 17, 3])
        """
        from zedo_xr.prior.hypotheses import any_size, canonicalise_camera

        if isinstance(S, bool) or not isinstance(S, int | np.integer) or S < 1:
            raise ValueError(f"S: expected an integer >= 1, got {S!r}")
        if method == "kmeans":
            arr, missing = any_size(self.hypotheses, int(S))
            if missing:
                generated = canonicalise_camera(self.sample(missing, seed=0).float().cpu().numpy())
                arr = np.concatenate([arr, generated.astype(arr.dtype)])
        elif method == "random":
            pool = self.hypotheses.get(-1)
            if pool is None:
                raise ValueError("method='random': this prior stores no pool of training poses")
            rng = np.random.default_rng(seed)
            arr = pool[rng.choice(len(pool), S, replace=len(pool) < S)]
        elif method == "generated":
            arr = canonicalise_camera(self.sample(S, seed=seed).float().cpu().numpy())
        else:
            raise ValueError(f"method: expected 'kmeans', 'random' or 'generated', got {method!r}")
        return torch.as_tensor(np.asarray(arr), dtype=self.dtype, device=self.device)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | Path, *, half: bool = False) -> Path:
        """Write the prior directory (``half=True`` stores fp16 weights, loaded back as fp32)."""
        from safetensors.torch import save_file

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        sd = {k: v.detach().to("cpu").contiguous() for k, v in self.network.state_dict().items()}
        sd = {k: (v.half() if half else v.float()) for k, v in sd.items()}
        save_file(
            sd,
            str(path / WEIGHTS),
            metadata={"format": "zedo-xr prior", "dtype": "float16" if half else "float32"},
        )
        hyp = {
            f"S{k}" if k >= 0 else "pool": torch.as_tensor(np.asarray(v, np.float32)).contiguous()
            for k, v in self.hypotheses.items()
        }
        if hyp:
            save_file(hyp, str(path / HYPOTHESES))
        card = dict(
            self.card,
            name=self.name,
            schedule=self.kind,
            architecture={**self.card.get("architecture", {}), **self.network.config()},
            weights_dtype="float16" if half else "float32",
        )
        if half:
            # The hash is that of the weights as they load back (fp16 values in fp32).
            reloaded = ScoreNet(**self.network.config())
            reloaded.load_state_dict({k: v.float() for k, v in sd.items()})
            card["content_hash"] = Prior(reloaded, self.kind).content_hash
        else:
            card["content_hash"] = self.content_hash
        (path / CARD).write_text(json.dumps(card, indent=1, default=_json_default) + "\n")
        return path


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"card: cannot store {type(o).__name__} in JSON")


_ARCH_KEYS = ("joints", "width", "blocks", "emb_dim", "groups", "dropout")
_ARCH_INTS = ("joints", "width", "blocks", "emb_dim", "groups")


class PriorFileError(ValueError):
    """A prior directory that cannot be trusted: a bad card, unreadable or tampered weights."""


def _expect(ok: bool, where: str, expected: str, got: Any) -> None:
    if not ok:
        raise PriorFileError(f"{where}: expected {expected}, got {got!r}")


def validate_card(card: Any) -> dict[str, Any]:
    """Check a card's fields that loading relies on; returns the network's constructor arguments.

    Raises :class:`PriorFileError` naming the field, e.g. ``card.json: architecture: expected a
    mapping with joints, width, blocks, ..., got None``.
    """
    _expect(isinstance(card, dict), "card.json", "a JSON object", type(card).__name__)
    arch = card.get("architecture")
    _expect(
        isinstance(arch, dict) and all(k in arch for k in ("joints", "width", "blocks")),
        "card.json: architecture",
        "a mapping with joints, width, blocks (and emb_dim, groups, dropout)",
        arch,
    )
    for key in _ARCH_INTS:
        if key in arch:
            value = arch[key]
            _expect(
                isinstance(value, int) and not isinstance(value, bool) and value >= 1,
                f"card.json: architecture.{key}",
                "an integer >= 1",
                value,
            )
    if "dropout" in arch:
        d = arch["dropout"]
        _expect(
            isinstance(d, int | float) and not isinstance(d, bool) and 0 <= d < 1,
            "card.json: architecture.dropout",
            "a number in [0, 1)",
            d,
        )
    _expect(
        card.get("schedule", "subvp") in schedules.KINDS,
        "card.json: schedule",
        f"one of {schedules.KINDS}",
        card.get("schedule"),
    )
    if "content_hash" in card:
        h = card["content_hash"]
        _expect(
            isinstance(h, str) and len(h) == 64 and all(c in "0123456789abcdef" for c in h),
            "card.json: content_hash",
            "64 hexadecimal digits (sha256)",
            h,
        )
    _expect(isinstance(card.get("name", ""), str), "card.json: name", "a string", card.get("name"))
    return {k: arch[k] for k in _ARCH_KEYS if k in arch}


def _read_card(d: Path) -> dict[str, Any]:
    try:
        card = json.loads((d / CARD).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise PriorFileError(f"card.json: expected JSON, got unreadable text ({err})") from None
    return card


def _read_tensors(file: Path) -> dict[str, Tensor]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(file))
    except (SafetensorError, OSError, ValueError) as err:
        raise PriorFileError(
            f"{file.name}: expected a safetensors file, got one that cannot be read ({err})"
        ) from None


def _network(arch: dict[str, Any], weights: dict[str, Tensor]) -> ScoreNet:
    net = ScoreNet(**arch)
    expected = net.state_dict()
    if set(weights) != set(expected):
        missing, extra = sorted(set(expected) - set(weights)), sorted(set(weights) - set(expected))
        raise PriorFileError(
            f"{WEIGHTS}: expected the tensors of the card's architecture, got "
            f"missing {missing[:5]} and unexpected {extra[:5]}"
        )
    for name, value in weights.items():
        _expect(
            tuple(value.shape) == tuple(expected[name].shape),
            f"{WEIGHTS}: {name}",
            f"shape {tuple(expected[name].shape)} (the card's architecture)",
            tuple(value.shape),
        )
        if not bool(torch.isfinite(value).all()):
            raise PriorFileError(f"{WEIGHTS}: {name}: expected finite weights, got NaN or inf")
    net.load_state_dict({k: v.float() for k, v in weights.items()})
    return net


def _hypotheses(file: Path, joints: int) -> dict[int, np.ndarray]:
    hyp: dict[int, np.ndarray] = {}
    if not file.is_file():
        return hyp
    for key, value in _read_tensors(file).items():
        ok = key == "pool" or (key[:1] == "S" and key[1:].isdigit() and int(key[1:]) >= 1)
        _expect(ok, f"{HYPOTHESES}: {key}", "S<n> or pool", key)
        _expect(
            value.ndim == 3 and value.shape[1:] == (joints, 3) and bool(torch.isfinite(value).all()),
            f"{HYPOTHESES}: {key}",
            f"finite poses of shape (n, {joints}, 3)",
            tuple(value.shape),
        )
        hyp[-1 if key == "pool" else int(key[1:])] = value.float().numpy()
    return hyp


def load_prior(
    path: str | Path = "default",
    *,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
    verify: bool = True,
) -> Prior:
    """Load a saved prior (``"default"``: the one bundled in the package), without unpickling.

    Parameters
    ----------
    path : "default" or path to a prior directory
    device : "auto", a device name or torch.device, optional
        Where the network goes (:func:`zedo_xr.device.resolve_device`: "auto" picks CUDA when
        available); None keeps it on the CPU.
    dtype : torch dtype of the network (fp32 by default, whatever the stored precision)
    verify : bool
        Check that the weights hash to the card's ``content_hash`` (a prior whose files were
        modified or corrupted is refused). ``verify=False`` is for development only, e.g. a
        card edited by hand; the checks of the card's fields and of finite weights still run.

    Raises
    ------
    FileNotFoundError
        No ``weights.safetensors`` or ``card.json`` in the directory.
    PriorFileError
        A card field of the wrong type or value, unreadable or non-finite weights, tensors that
        do not fit the card's architecture, or (``verify``) a content hash that does not match.
    """
    d = DEFAULT_DIR if str(path) == "default" else Path(path)
    if not (d / WEIGHTS).is_file() or not (d / CARD).is_file():
        raise FileNotFoundError(f"prior: expected {WEIGHTS} and {CARD} in {d}")
    card = _read_card(d)
    arch = validate_card(card)
    net = _network(arch, _read_tensors(d / WEIGHTS))
    prior = Prior(
        net,
        card.get("schedule", "subvp"),
        card=card,
        hypotheses=_hypotheses(d / HYPOTHESES, net.joints),
        name=card.get("name", d.name),
    )
    if verify:
        stored = card.get("content_hash")
        _expect(
            stored is not None,
            "card.json: content_hash",
            "the sha256 of the weights (or load_prior(..., verify=False))",
            None,
        )
        if stored != prior.content_hash:
            raise PriorFileError(
                f"{d}: content_hash: expected {str(stored)[:12]}... (the card's), got "
                f"{prior.content_hash[:12]}... from the weights: the files were modified or "
                f"corrupted (load_prior(path, verify=False) loads them anyway, for development)"
            )
    return prior.to(device, dtype)
