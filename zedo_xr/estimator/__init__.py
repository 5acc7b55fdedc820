"""The ZeDO estimator (``zedo_xr.lift``): initial fit, loop, hypothesis choice and the driver.

(The subpackage is not called ``lift`` so that the function ``zedo_xr.lift`` is never shadowed
by a module of the same name.)
"""

from zedo_xr.estimator.driver import LiftSettings, lift, lift_arrays, resolve_settings

__all__ = ["LiftSettings", "lift", "lift_arrays", "resolve_settings"]
