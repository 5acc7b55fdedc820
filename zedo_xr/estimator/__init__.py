"""The ZeDO estimator (``zedo_xr.lift``).

Modules: :mod:`~zedo_xr.estimator.settings` (``LiftSettings``, presets; no torch),
:mod:`~zedo_xr.estimator.initial` (initial fit), :mod:`~zedo_xr.estimator.loop` (the loop),
:mod:`~zedo_xr.estimator.select` (hypothesis choice), :mod:`~zedo_xr.estimator.pipeline`
(``lift_arrays``: the numeric pipeline on tensors) and :mod:`~zedo_xr.estimator.driver`
(``lift``: the xarray edge).

(The subpackage is not called ``lift`` so that the function ``zedo_xr.lift`` is never shadowed
by a module of the same name.)
"""

from zedo_xr.estimator.driver import lift
from zedo_xr.estimator.settings import PRESETS, LiftSettings, LoopSettings, resolve_settings


def __getattr__(name: str):
    # lift_arrays imports torch: only on first use, so `import zedo_xr` stays torch-free.
    if name == "lift_arrays":
        from zedo_xr.estimator.pipeline import lift_arrays

        return lift_arrays
    raise AttributeError(f"module 'zedo_xr.estimator' has no attribute {name!r}")


__all__ = ["PRESETS", "LiftSettings", "LoopSettings", "lift", "lift_arrays", "resolve_settings"]
