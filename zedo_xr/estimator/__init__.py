"""The ZeDO estimator (``zedo_xr.lift``): initial fit, optimisation loop, hypothesis choice and the lift() driver."""

from zedo_xr.estimator.driver import LiftSettings, lift, lift_arrays, resolve_settings

__all__ = ["LiftSettings", "lift", "lift_arrays", "resolve_settings"]
