"""What defines a lift besides the data and the prior: :class:`LiftSettings` and the presets.

This module imports no torch, so settings can be built, compared and stored anywhere.

There is one way to configure a lift: start from a preset name or a :class:`LiftSettings`
and change single fields by name. ``lift(ds, settings="parity")`` picks a preset;
``lift(ds, step_size=0.2)`` is shorthand for
``lift(ds, settings=resolve_settings("default").replace(step_size=0.2))`` and goes through the
same :meth:`LiftSettings.replace`, which accepts the fields of :class:`LiftSettings` and of its
:class:`LoopSettings` by name.

Examples
--------
>>> from zedo_xr.estimator.settings import LiftSettings, resolve_settings
>>> LiftSettings() == resolve_settings("default")
True
>>> resolve_settings("parity").replace(iterations=200).loop.iterations
200
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from types import MappingProxyType
from typing import Any

STEP_RULES: list[str] = ["parity", "tweedie"]
"""Names of the loop's step rules (the functions live in :mod:`zedo_xr.estimator.loop`; more are
added with :func:`zedo_xr.estimator.loop.register_step_rule`)."""
ROBUST_LOSSES = ("none", "huber", "geman_mcclure")
"""Names of the loop's IRLS weights (:func:`zedo_xr.estimator.loop.robust_weights`)."""
INITIAL_FITS = ("grid", "adam", "none")
INITIAL_JOINTS = ("hips", "torso", "all")
INITIAL_METHODS = ("kmeans", "random", "generated")


def _require_choice(name: str, value: Any, choices: tuple[str, ...] | list[str]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name}: expected one of {list(choices)}, got {value!r}")


def _require_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value!r}")


def _require_number(name: str, value: Any, low: float, high: float = math.inf) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not low <= value <= high:
        raise ValueError(f"{name}: expected a finite number in [{low}, {high}], got {value!r}")


@dataclass(frozen=True)
class LoopSettings:
    """Settings of the optimisation loop (:func:`zedo_xr.estimator.loop.optimize`).

    The defaults are the ``"default"`` preset's loop.

    Attributes
    ----------
    iterations : int
        Number of iterations, each one network evaluation.
    warmup : float
        Fraction of the iterations during which the translation stays at its initial value.
    t_max, t_min : float
        Diffusion time of the first and last iteration (linearly spaced).
    step : {"tweedie", "parity"}
        Step rule (see :mod:`zedo_xr.estimator.loop`).
    step_size : float
        The rule's step parameter (``dt`` for ``parity``, ``gamma`` for ``tweedie``).
    translation_power : float
        Exponent on the confidences in the translation weights (4 reproduces the official code).
    final_projection : bool
        End with a translation solve and a ray projection (zero reprojection error at visible
        joints) instead of returning the last denoised pose.
    robust : {"none", "huber", "geman_mcclure"}
        IRLS weight of each joint from its pixel residual, so that a wrong detection (a swapped
        wrist, a joint 50 px off) does not drag the pose ("geman_mcclure" is recommended for
        detector keypoints; "none" keeps exact 2D results unchanged).
    robust_scale, robust_min_px : float
        The weight's scale: ``robust_scale`` x the frame's median residual, at least
        ``robust_min_px`` pixels (measured on detector-like clips, ``benchmarks/results/video.md``).
    """

    # Measured on the tuning set (benchmarks/results/tune.md).
    iterations: int = 100
    warmup: float = 0.0
    t_max: float = 0.1
    t_min: float = 0.01
    step: str = "tweedie"
    step_size: float = 0.5
    translation_power: float = 2.0
    final_projection: bool = False
    robust: str = "none"
    robust_scale: float = 8.0
    robust_min_px: float = 25.0

    def __post_init__(self) -> None:
        _require_int("iterations", self.iterations, 1)
        _require_choice("robust", self.robust, ROBUST_LOSSES)
        _require_number("robust_scale", self.robust_scale, 1e-6)
        _require_number("robust_min_px", self.robust_min_px, 0.0)
        _require_choice("step", self.step, STEP_RULES)
        _require_number("warmup", self.warmup, 0.0, 1.0)
        _require_number("t_min", self.t_min, 1e-6, 1.0)
        _require_number("t_max", self.t_max, self.t_min, 1.0)
        _require_number("step_size", self.step_size, 1e-12)
        _require_number("translation_power", self.translation_power, 0.0, 64.0)
        if not isinstance(self.final_projection, bool):
            raise ValueError(f"final_projection: expected True or False, got {self.final_projection!r}")


@dataclass(frozen=True)
class LiftSettings:
    """Everything that defines a lift besides the data, the prior and the hypotheses.

    ``LiftSettings()`` is the ``"default"`` preset. Change fields with :meth:`replace`
    (fields of the loop included) or build one from scratch.

    Attributes
    ----------
    initial : {"grid", "adam", "none"}
        Initial pose optimiser: coarse-to-fine yaw grid with closed-form depth, the official
        500-step Adam fit, or no rotation at all (the pose is only placed by the closed-form
        translation: the paper's ablation without rotation optimisation, "RO").
    initial_joints : {"hips", "torso", "all"}
        Joints that drive the initial fit.
    initial_method : {"kmeans", "random", "generated"}
        Where the initial poses come from (paper Table 7).
    initial_pool : int
        With one hypothesis and ``initial_method="kmeans"``, each frame starts from the
        best-fitting of this many k-means centres of the prior's training poses (a sitting or
        lying person then starts from a sitting or lying pose) instead of the single mean pose;
        1 is the paper's mean pose. More hypotheses keep their own centres (their diversity is
        the point), and the other methods their own poses.
    loop : LoopSettings
        The optimisation loop.

    Examples
    --------
    >>> s = LiftSettings().replace(initial_joints="hips", iterations=50)
    >>> s.initial_joints, s.loop.iterations
    ('hips', 50)
    """

    initial: str = "grid"
    initial_joints: str = "all"
    initial_method: str = "kmeans"
    initial_pool: int = 50
    loop: LoopSettings = field(default_factory=LoopSettings)

    def __post_init__(self) -> None:
        _require_choice("initial", self.initial, INITIAL_FITS)
        _require_choice("initial_joints", self.initial_joints, INITIAL_JOINTS)
        _require_choice("initial_method", self.initial_method, INITIAL_METHODS)
        _require_int("initial_pool", self.initial_pool, 1)
        if not isinstance(self.loop, LoopSettings):
            raise ValueError(f"loop: expected a LoopSettings, got {type(self.loop).__name__}")

    def replace(self, **changes: Any) -> LiftSettings:
        """A copy with fields changed by name (fields of :class:`LoopSettings` included)."""
        top = {k: v for k, v in changes.items() if k in _LIFT_FIELDS}
        inner = {k: v for k, v in changes.items() if k not in top}
        unknown = sorted(k for k in inner if k not in _LOOP_FIELDS)
        if unknown:
            raise TypeError(
                f"settings: unexpected setting(s) {unknown}; expected names from {sorted(setting_names())}"
            )
        loop = replace(top.pop("loop", self.loop), **inner)
        return replace(self, **top, loop=loop)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (JSON-ready), the form stored in a lift's provenance attrs."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> LiftSettings:
        """Inverse of :meth:`to_dict`."""
        d = dict(d)
        d.setdefault("initial_pool", 1)  # recorded before the pool existed: the mean pose
        loop = LoopSettings(**d.pop("loop", {}))
        return cls(**d, loop=loop)


_LIFT_FIELDS = frozenset(f.name for f in fields(LiftSettings))
_LOOP_FIELDS = frozenset(f.name for f in fields(LoopSettings))


def setting_names() -> frozenset[str]:
    """Names :meth:`LiftSettings.replace` (and ``lift(**overrides)``) accept."""
    return (_LIFT_FIELDS - {"loop"}) | _LOOP_FIELDS


PRESETS: Mapping[str, LiftSettings] = MappingProxyType(
    {
        "default": LiftSettings(),
        # The official update: Adam initial fit on the hips, 1000 full-g^2 steps of dt = 1/1000.
        "parity": LiftSettings(
            initial="adam",
            initial_joints="hips",
            initial_pool=1,
            loop=LoopSettings(
                iterations=1000,
                warmup=0.2,
                step="parity",
                step_size=1e-3,
                translation_power=4.0,
                final_projection=False,
            ),
        ),
    }
)
"""The named settings: ``"default"`` (measured on the tuning set) and ``"parity"``."""


def resolve_settings(settings: str | LiftSettings = "default", **overrides: Any) -> LiftSettings:
    """A preset name or given settings, with single fields changed by name.

    Parameters
    ----------
    settings : str or LiftSettings
        A key of :data:`PRESETS` or a :class:`LiftSettings`.
    **overrides
        Fields of :class:`LiftSettings` or :class:`LoopSettings` (see :meth:`LiftSettings.replace`).

    Examples
    --------
    >>> resolve_settings("default", iterations=7).loop.iterations
    7
    """
    if isinstance(settings, str):
        if settings not in PRESETS:
            raise ValueError(
                f"settings: expected one of {sorted(PRESETS)} or a LiftSettings, got {settings!r}"
            )
        settings = PRESETS[settings]
    elif not isinstance(settings, LiftSettings):
        raise ValueError(
            f"settings: expected one of {sorted(PRESETS)} or a LiftSettings, got {type(settings).__name__}"
        )
    return settings.replace(**overrides) if overrides else settings
