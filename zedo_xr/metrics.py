"""Pose-estimation metrics: MPJPE, PA-MPJPE, N-MPJPE, PCK, AUC, and multi-hypothesis summaries.

DataArray in, DataArray out. Inputs are metres with dims ``(..., joint, coord)``; errors come out
in millimetres and PCK/AUC in percent, reduced over ``joint`` and ``coord`` and keeping every
other dim (``frame``, ``hypothesis``, ``individual``, ...), broadcast between prediction and
ground truth (so one GT serves every hypothesis).

Protocol choices, and how they differ from the official ZeDO evaluation code:

- MPJPE subtracts the pelvis from *both* prediction and GT (``root_align=True``). The official
  code leaves the prediction un-centred; standard practice (and this package) re-centres it.
- PA-MPJPE is a similarity Procrustes (rotation, translation, scale) that forbids reflections
  by default, as in VideoPose3D; ``allow_reflection=True`` reproduces the official ZeDO code.
- PCK and AUC follow ``mpii_compute_3d_pck.m``: a joint is correct when its root-aligned error
  is strictly below the threshold (so a perfect prediction has PCK@0 = 0 and AUC = 30/31 =
  96.8 %); AUC averages PCK over 0, 5, ..., 150 mm (31 thresholds).
- GT joints with any non-finite coordinate are excluded from every mean (and weigh zero in the
  Procrustes fit). A non-finite predicted joint (where GT exists) makes the result NaN.
  Root alignment needs the GT and predicted pelvis; without them the frame's result is NaN.
- ``joints`` restricts the joints averaged over; alignment (pelvis, Procrustes) still uses every
  joint, like the official 3DPW J=14 evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import xarray as xr

from zedo_xr.schema import (
    BEST_HYPOTHESIS,
    COORD,
    HYPOTHESIS,
    INTERPOLATED,
    JOINT,
    POSE3D,
    POSE3D_GT,
    VALID,
    SchemaError,
    labels,
    require_dims,
    require_size,
    validate_pose3d,
)
from zedo_xr.skeleton import H36M_JOINTS

ROOT = "pelvis"
PCK_THRESHOLD = 0.150
AUC_THRESHOLDS: np.ndarray = np.arange(0.0, 0.1501, 0.005)
"""The 31 AUC thresholds in metres: 0, 5, ..., 150 mm."""

METRICS: tuple[str, ...] = ("mpjpe", "pa_mpjpe", "n_mpjpe", "pck", "auc")
"""Metrics computed by :func:`evaluate`, in order."""

_ERRORS = ("mpjpe", "pa_mpjpe", "n_mpjpe")
_UNITS = {"mpjpe": "mm", "pa_mpjpe": "mm", "n_mpjpe": "mm", "pck": "%", "auc": "%"}
_LONG_NAMES = {
    "mpjpe": "MPJPE after root (pelvis) alignment",
    "pa_mpjpe": "PA-MPJPE (similarity Procrustes)",
    "n_mpjpe": "N-MPJPE (root alignment, then least-squares scale)",
    "pck": "PCK@150mm (root-aligned, % of joints with error < 150 mm)",
    "auc": "AUC of PCK over 0..150 mm, step 5 mm",
}


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------


def _check(pred: xr.DataArray, gt: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Validate dims and put GT joints in the prediction's joint order."""
    for da, name in ((pred, "pred"), (gt, "gt")):
        if not isinstance(da, xr.DataArray):
            raise SchemaError(f"{name}: expected an xarray.DataArray, got {type(da).__name__}")
        require_dims(da, (JOINT, COORD), name)
        require_size(da, COORD, 3, name)
    if JOINT in pred.coords and JOINT in gt.coords:
        pn = [str(j) for j in pred[JOINT].values]
        gn = [str(j) for j in gt[JOINT].values]
        if set(pn) != set(gn):
            raise SchemaError(
                f"gt: expected the joints of pred {pn}, got {gn} "
                f"(missing {sorted(set(pn) - set(gn))}, extra {sorted(set(gn) - set(pn))})"
            )
        if pn != gn:
            gt = gt.sel({JOINT: pred[JOINT].values})
    elif pred.sizes[JOINT] != gt.sizes[JOINT]:
        raise SchemaError(f"gt: expected {pred.sizes[JOINT]} joints like pred, got {gt.sizes[JOINT]}")
    if COORD in pred.coords and COORD in gt.coords:
        gt = gt.assign_coords({COORD: pred[COORD].values})
    return pred.astype(float), gt.astype(float)


def _root(x: xr.DataArray) -> xr.DataArray:
    """The pelvis of ``x``, dims without ``joint``."""
    if JOINT in x.coords:
        names = [str(j) for j in x[JOINT].values]
        if ROOT not in names:
            raise SchemaError(
                f"root alignment needs the '{ROOT}' joint, got joints {names} "
                "(pass root_align=False to compare absolute positions)"
            )
        return x.isel({JOINT: names.index(ROOT)}, drop=True)
    if x.sizes[JOINT] != len(H36M_JOINTS):
        raise SchemaError(
            f"root alignment without a '{JOINT}' coordinate needs the 17 H36M joints in order, "
            f"got {x.sizes[JOINT]} joints"
        )
    return x.isel({JOINT: 0})


def _valid(gt: xr.DataArray) -> xr.DataArray:
    """True where the GT joint has finite coordinates, dims (..., joint)."""
    finite: xr.DataArray = xr.apply_ufunc(np.isfinite, gt, dask="allowed")
    return finite.all(COORD)


def _joint_errors(pred: xr.DataArray, gt: xr.DataArray) -> xr.DataArray:
    """Euclidean error per joint in millimetres, dims (..., joint)."""
    return 1000.0 * ((pred - gt) ** 2).sum(COORD, skipna=False) ** 0.5


def _select(da: xr.DataArray, joints: Sequence[str] | None) -> xr.DataArray:
    if joints is None:
        return da
    if JOINT not in da.coords:
        raise SchemaError(f"joints: selecting {list(joints)} needs a '{JOINT}' coordinate")
    missing = [j for j in joints if j not in [str(n) for n in da[JOINT].values]]
    if missing:
        raise SchemaError(f"joints: {missing} are not among the joints {list(da[JOINT].values)}")
    return da.sel({JOINT: labels(joints)})


def _mean_over_joints(
    values: xr.DataArray, valid: xr.DataArray, joints: Sequence[str] | None
) -> xr.DataArray:
    """Mean over valid joints; NaN where no joint is valid; NaN values at valid joints propagate."""
    values, valid = _select(values, joints), _select(valid, joints)
    valid = valid.broadcast_like(values)
    total = values.where(valid, 0.0).sum(JOINT, skipna=False)
    count = valid.sum(JOINT)
    return total / count.where(count > 0)


def _finish(da: xr.DataArray, metric: str) -> xr.DataArray:
    da = da.drop_vars([c for c in (JOINT, COORD) if c in da.coords], errors="ignore")
    return da.rename(metric).assign_attrs(units=_UNITS[metric], long_name=_LONG_NAMES[metric])


def _root_aligned(pred: xr.DataArray, gt: xr.DataArray, root_align: bool):
    if root_align:
        return pred - _root(pred), gt - _root(gt)
    return pred, gt


# ------------------------------------------------------------------------------------------
# metrics
# ------------------------------------------------------------------------------------------


def mpjpe(
    pred: xr.DataArray,
    gt: xr.DataArray,
    *,
    root_align: bool = True,
    joints: Sequence[str] | None = None,
) -> xr.DataArray:
    """Mean per-joint position error in millimetres.

    Parameters
    ----------
    pred, gt : xarray.DataArray, dims (..., joint, coord)
        Positions in metres; other dims broadcast (``pred`` may carry ``hypothesis``).
    root_align : bool
        Subtract each pose's pelvis from it first (both prediction and GT).
    joints : sequence of str, optional
        Joints to average over (default all); alignment still uses every joint.

    Returns
    -------
    xarray.DataArray, dims (...)
        Millimetres; the broadcast dims of ``pred`` and ``gt`` without ``joint`` and ``coord``.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> gt = xr.DataArray(np.zeros((1, 17, 3)), dims=("frame", "joint", "coord"),
    ...                   coords={"joint": list(H36M_JOINTS)})
    >>> pred = gt.copy()
    >>> pred[0, 5, 0] = 0.017  # left knee 17 mm off
    >>> float(mpjpe(pred, gt)[0])
    1.0
    """
    pred, gt = _check(pred, gt)
    valid = _valid(gt)
    p, g = _root_aligned(pred, gt, root_align)
    return _finish(_mean_over_joints(_joint_errors(p, g), valid, joints), "mpjpe")


def n_mpjpe(pred: xr.DataArray, gt: xr.DataArray, *, joints: Sequence[str] | None = None) -> xr.DataArray:
    """MPJPE after root alignment and the least-squares scale of the prediction (mm).

    The scale ``s = <pred, gt> / <pred, pred>`` is fitted over the valid joints of each pose, as
    in Rhodin et al. (2018) and VideoPose3D's ``n_mpjpe``. Same dims contract as :func:`mpjpe`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> gt = xr.DataArray(rng.normal(size=(2, 17, 3)), dims=("frame", "joint", "coord"),
    ...                   coords={"joint": list(H36M_JOINTS)})
    >>> np.allclose(n_mpjpe(1.3 * gt + 0.5, gt), 0.0)
    True
    """
    pred, gt = _check(pred, gt)
    valid = _valid(gt)
    p, g = _root_aligned(pred, gt, True)
    num = (p * g).where(valid, 0.0).sum((JOINT, COORD), skipna=False)
    den = (p * p).where(valid, 0.0).sum((JOINT, COORD), skipna=False)
    scale = num / den.where(den > 0)
    return _finish(_mean_over_joints(_joint_errors(scale * p, g), valid, joints), "n_mpjpe")


def pa_mpjpe(
    pred: xr.DataArray,
    gt: xr.DataArray,
    *,
    allow_reflection: bool = False,
    joints: Sequence[str] | None = None,
) -> xr.DataArray:
    """MPJPE after similarity Procrustes alignment of the prediction onto the GT (mm).

    Rotation, translation and scale are fitted over the valid GT joints of each pose with
    :func:`zedo_xr.camera.procrustes` (on CPU, float64). Same dims contract as :func:`mpjpe`.

    Parameters
    ----------
    allow_reflection : bool
        Allow an improper rotation (a mirror image), as the official ZeDO evaluation does
        (MATLAB ``procrustes(..., 'reflection', 'best')``). Off by default (VideoPose3D).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> rng = np.random.default_rng(0)
    >>> gt = xr.DataArray(rng.normal(size=(17, 3)), dims=("joint", "coord"))
    >>> mirrored = gt * [-1.0, 1.0, 1.0]
    >>> bool(pa_mpjpe(mirrored, gt) > 1.0)
    True
    >>> bool(pa_mpjpe(mirrored, gt, allow_reflection=True) < 1e-6)
    True
    """
    import torch

    from zedo_xr.camera import procrustes

    pred, gt = _check(pred, gt)
    p, g = xr.broadcast(pred, gt)
    other = [d for d in p.dims if d not in (JOINT, COORD)]
    p, g = p.transpose(*other, JOINT, COORD), g.transpose(*other, JOINT, COORD)
    P = np.asarray(p.values, dtype=np.float64)
    G = np.asarray(g.values, dtype=np.float64)
    shape = P.shape
    P, G = P.reshape(-1, *shape[-2:]), G.reshape(-1, *shape[-2:])
    valid = np.all(np.isfinite(G), axis=-1)
    # A NaN anywhere in the fit would poison the SVD: zero it, then void the whole pose.
    broken = np.any(~np.all(np.isfinite(P), axis=-1) & valid, axis=-1)
    Pt = torch.from_numpy(np.where(valid[..., None] & ~broken[:, None, None], P, 0.0))
    Gt = torch.from_numpy(np.where(valid[..., None], G, 0.0))
    aligned, *_ = procrustes(
        Pt, Gt, scale=True, allow_reflection=allow_reflection, weights=torch.from_numpy(valid * 1.0)
    )
    A = aligned.numpy()
    A[broken] = np.nan
    aligned_da = p.copy(data=A.reshape(shape))
    err = _joint_errors(aligned_da, g)
    return _finish(_mean_over_joints(err, _valid(g), joints), "pa_mpjpe")


def _pck_curve(
    pred: xr.DataArray,
    gt: xr.DataArray,
    thresholds: np.ndarray,
    root_align: bool,
    joints: Sequence[str] | None,
) -> xr.DataArray:
    pred, gt = _check(pred, gt)
    valid = _valid(gt)
    p, g = _root_aligned(pred, gt, root_align)
    err = _joint_errors(p, g)
    thr = xr.DataArray(1000.0 * np.asarray(thresholds, dtype=float), dims="threshold")
    # strict <, as mpii_compute_3d_pck.m; a NaN prediction counts as a miss
    hits = (err < thr).astype(float)
    return 100.0 * _mean_over_joints(hits, valid, joints)


def pck(
    pred: xr.DataArray,
    gt: xr.DataArray,
    threshold: float = PCK_THRESHOLD,
    *,
    root_align: bool = True,
    joints: Sequence[str] | None = None,
) -> xr.DataArray:
    """Percentage of joints whose root-aligned error is below ``threshold`` metres (3DHP PCK).

    Same dims contract as :func:`mpjpe`; values in percent.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> gt = xr.DataArray(np.zeros((17, 3)), dims=("joint", "coord"),
    ...                   coords={"joint": list(H36M_JOINTS)})
    >>> pred = gt.copy()
    >>> pred[1:5, 2] = 0.2  # four joints 200 mm off
    >>> round(float(pck(pred, gt)), 2)
    76.47
    """
    curve = _pck_curve(pred, gt, np.array([threshold]), root_align, joints)
    return _finish(curve.isel(threshold=0, drop=True), "pck")


def auc(
    pred: xr.DataArray,
    gt: xr.DataArray,
    *,
    thresholds: np.ndarray | Sequence[float] | None = None,
    root_align: bool = True,
    joints: Sequence[str] | None = None,
) -> xr.DataArray:
    """Area under the PCK curve: mean PCK (percent) over ``thresholds`` (default 0..150 mm, step 5).

    Same dims contract as :func:`mpjpe`.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> gt = xr.DataArray(np.zeros((17, 3)), dims=("joint", "coord"))
    >>> round(float(auc(gt, gt)), 2)  # PCK at 0 mm is 0 (strict <): 30 of 31 thresholds hit
    96.77
    """
    thr = AUC_THRESHOLDS if thresholds is None else np.asarray(thresholds, dtype=float)
    return _finish(_pck_curve(pred, gt, thr, root_align, joints).mean("threshold"), "auc")


# ------------------------------------------------------------------------------------------
# hypotheses
# ------------------------------------------------------------------------------------------


def min_over_hypotheses(err: xr.DataArray, *, dim: str = HYPOTHESIS) -> xr.DataArray:
    """The oracle: per-frame minimum over hypotheses (NaN hypotheses ignored; all-NaN gives NaN).

    Examples
    --------
    >>> import xarray as xr
    >>> err = xr.DataArray([[3.0, 1.0], [float("nan"), 2.0]], dims=("frame", "hypothesis"))
    >>> min_over_hypotheses(err).values.tolist()
    [1.0, 2.0]
    """
    require_dims(err, (dim,), str(err.name or "err"))
    low = err.fillna(np.inf).min(dim)
    return low.where(np.isfinite(low)).assign_attrs(err.attrs)


def argmin_over_hypotheses(err: xr.DataArray, *, dim: str = HYPOTHESIS) -> xr.DataArray:
    """Index of the per-frame lowest error (the oracle's choice), dims ``err`` without ``dim``."""
    require_dims(err, (dim,), str(err.name or "err"))
    return err.fillna(np.inf).argmin(dim)


def chosen(err: xr.DataArray, best_hypothesis: xr.DataArray, *, dim: str = HYPOTHESIS) -> xr.DataArray:
    """The value at each frame's chosen hypothesis (e.g. ``best_hypothesis`` from ``lift``).

    ``best_hypothesis`` is an integer index array broadcastable to ``err`` without ``dim``
    (typically dims ``(frame,)``); negative, out-of-range or NaN indices give NaN.

    Examples
    --------
    >>> import xarray as xr
    >>> err = xr.DataArray([[3.0, 1.0], [4.0, 2.0]], dims=("frame", "hypothesis"))
    >>> chosen(err, xr.DataArray([0, 1], dims="frame")).values.tolist()
    [3.0, 2.0]
    """
    require_dims(err, (dim,), str(err.name or "err"))
    if not isinstance(best_hypothesis, xr.DataArray):
        raise SchemaError(
            f"{BEST_HYPOTHESIS}: expected a DataArray of indices, got {type(best_hypothesis).__name__}"
        )
    n = err.sizes[dim]
    ok = best_hypothesis.notnull() & (best_hypothesis >= 0) & (best_hypothesis < n)
    index = best_hypothesis.where(ok, 0).astype(int)
    return err.isel({dim: index}).where(ok).drop_vars(dim, errors="ignore").assign_attrs(err.attrs)


# ------------------------------------------------------------------------------------------
# dataset-level evaluation
# ------------------------------------------------------------------------------------------


def evaluate(
    ds: xr.Dataset,
    *,
    joints: Sequence[str] | None = None,
    allow_reflection: bool = False,
) -> xr.Dataset:
    """Score a lifted dataset against its ground truth, per frame and in summary.

    Parameters
    ----------
    ds : xarray.Dataset
        With ``pose3d (frame, hypothesis, joint, coord)`` and ``pose3d_gt (frame, joint,
        coord)`` in metres, and optionally ``best_hypothesis (frame,)``. Extra dims ride along.
    joints : sequence of str, optional
        Joints to average over (e.g. the 14 of the 3DPW J=14 protocol); alignment uses all.
    allow_reflection : bool
        Let PA-MPJPE's Procrustes mirror the prediction (parity with the official code).

    Returns
    -------
    xarray.Dataset
        For each metric ``m`` in ``mpjpe, pa_mpjpe, n_mpjpe`` (mm) and ``pck, auc`` (%):

        - ``m (frame, hypothesis)``: every hypothesis;
        - ``m_min (frame,)``: the oracle. For the errors, the per-frame minimum (each metric
          picks its own hypothesis); for ``pck``/``auc`` the value at the hypothesis of minimum
          MPJPE, as the official 3DHP evaluation;
        - ``m_best (frame,)``: at ``best_hypothesis``, when the dataset has it;
        - ``oracle_hypothesis (frame,)``: the hypothesis of minimum MPJPE.

        ``summary (metric, variant)`` holds the means over frames (and extra dims) with variants
        ``mean`` (over hypotheses too), ``min`` and ``best`` (NaN without ``best_hypothesis``);
        ``attrs`` repeat them as ``{m}_mean``, ``{m}_min_mean``, ``{m}_best_mean`` floats,
        plus the protocol settings.

        Frames without a lifted pose (``pose3d`` all NaN, or ``valid`` False and not
        ``interpolated``, see :func:`zedo_xr.lift`) are skipped by every mean; ``attrs`` count
        them as ``n_skipped_frames`` (and bridged gaps as ``n_interpolated_frames``).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> from zedo_xr.schema import pose_dataarray
    >>> gt = pose_dataarray(np.random.default_rng(0).normal(0, 0.3, (4, 17, 3)) + [0, 0, 5])
    >>> ds = xr.Dataset({"pose3d_gt": gt, "pose3d": gt.expand_dims(hypothesis=2, axis=1)})
    >>> scores = evaluate(ds)
    >>> scores.attrs["mpjpe_mean"], round(scores.attrs["pa_mpjpe_min_mean"], 6)
    (0.0, 0.0)
    >>> float(scores.summary.sel(metric="pck", variant="min"))
    100.0
    """
    if not isinstance(ds, xr.Dataset):
        raise SchemaError(f"dataset: expected an xarray.Dataset, got {type(ds).__name__}")
    for var in (POSE3D, POSE3D_GT):
        if var not in ds:
            raise SchemaError(
                f"{var}: evaluate needs '{POSE3D}' (frame, hypothesis, joint, coord) and "
                f"'{POSE3D_GT}' (frame, joint, coord) in metres; got variables {list(ds.data_vars)}"
            )
    pred, gt = _lifted(ds), ds[POSE3D_GT]
    if HYPOTHESIS not in pred.dims:
        pred = pred.expand_dims({HYPOTHESIS: 1}, axis=1 if pred.ndim >= 3 else 0)
    validate_pose3d(pred, POSE3D, hypotheses=True)
    validate_pose3d(gt, POSE3D_GT)
    if HYPOTHESIS in gt.dims:
        raise SchemaError(f"{POSE3D_GT}: expected no '{HYPOTHESIS}' dim, got {tuple(gt.dims)}")

    per_hyp = {
        "mpjpe": mpjpe(pred, gt, joints=joints),
        "pa_mpjpe": pa_mpjpe(pred, gt, allow_reflection=allow_reflection, joints=joints),
        "n_mpjpe": n_mpjpe(pred, gt, joints=joints),
        "pck": pck(pred, gt, joints=joints),
        "auc": auc(pred, gt, joints=joints),
    }
    oracle = argmin_over_hypotheses(per_hyp["mpjpe"])
    best = ds.get(BEST_HYPOTHESIS)
    out: dict[str, xr.DataArray] = {}
    for m, err in per_hyp.items():
        out[m] = err
        out[f"{m}_min"] = min_over_hypotheses(err) if m in _ERRORS else chosen(err, oracle)
        if best is not None:
            out[f"{m}_best"] = chosen(err, best)
    out["oracle_hypothesis"] = oracle.rename("oracle_hypothesis").assign_attrs(
        long_name="hypothesis of minimum MPJPE per frame"
    )

    table = np.full((len(METRICS), 3), np.nan)
    attrs: dict[str, Any] = {}
    for i, m in enumerate(METRICS):
        for j, suffix in enumerate(("", "_min", "_best")):
            if m + suffix in out:
                table[i, j] = _nanmean(out[m + suffix])
                attrs[f"{m}{suffix}_mean"] = float(table[i, j])
    summary = xr.DataArray(
        table,
        dims=("metric", "variant"),
        coords={"metric": labels(METRICS), "variant": labels(("mean", "min", "best"))},
        name="summary",
        attrs={"units": "mm for errors, % for pck and auc", "long_name": "mean over frames"},
    )
    result = xr.Dataset(out)
    result["summary"] = summary
    result.attrs.update(
        {
            "root_align": "pelvis subtracted from prediction and ground truth",
            "pa_allow_reflection": bool(allow_reflection),
            "pck_threshold_mm": 1000.0 * PCK_THRESHOLD,
            "auc_thresholds_mm": [float(t) for t in 1000.0 * AUC_THRESHOLDS],
            "joints": list(joints) if joints is not None else "all",
            "n_frames": int(gt.sizes.get("frame", 1)),
            "n_hypotheses": int(pred.sizes[HYPOTHESIS]),
            "n_skipped_frames": int(pred.isnull().all([HYPOTHESIS, JOINT, COORD]).sum()),
            "n_interpolated_frames": int(ds[INTERPOLATED].sum()) if INTERPOLATED in ds else 0,
            **attrs,
        }
    )
    return result


def _lifted(ds: xr.Dataset) -> xr.DataArray:
    """``pose3d`` with frames flagged as not lifted (``valid`` False, not ``interpolated``) NaN."""
    pred = ds[POSE3D]
    if VALID not in ds:
        return pred
    keep = ds[VALID] | ds[INTERPOLATED] if INTERPOLATED in ds else ds[VALID]
    return pred.where(keep)


def _nanmean(da: xr.DataArray) -> float:
    """Mean of the finite values (NaN frames skipped); NaN when there are none, without warning."""
    values = np.asarray(da.values, dtype=float)
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if finite.size else float("nan")
