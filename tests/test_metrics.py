"""Metrics on hand-built cases (metres in, millimetres / percent out)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from zedo_xr import metrics as M
from zedo_xr.schema import SchemaError, pose_dataarray
from zedo_xr.skeleton import H36M_JOINTS


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


@pytest.fixture
def gt(rng) -> xr.DataArray:
    return pose_dataarray(rng.normal(0.0, 0.3, (5, 17, 3)) + np.array([0.0, 0.0, 5.0]))


def test_identical_is_zero(gt):
    for f in (M.mpjpe, M.pa_mpjpe, M.n_mpjpe):
        err = f(gt, gt)
        assert err.dims == ("frame",) and err.attrs["units"] == "mm"
        np.testing.assert_allclose(err, 0.0, atol=1e-6)
    np.testing.assert_allclose(M.pck(gt, gt), 100.0)
    # strict < as mpii_compute_3d_pck.m: PCK@0 mm is 0, so a perfect AUC is 30/31
    np.testing.assert_allclose(M.auc(gt, gt), 100.0 * 30 / 31)


def test_constant_offset_on_one_joint(gt):
    pred = gt.copy()
    pred.loc[{"joint": "left_wrist", "coord": "y"}] += 0.010
    np.testing.assert_allclose(M.mpjpe(pred, gt), 10.0 / 17)
    # a translation of the whole pose vanishes after root alignment, not without it
    shifted = gt + xr.DataArray([0.1, -0.2, 0.3], dims="coord", coords={"coord": gt.coord})
    np.testing.assert_allclose(M.mpjpe(shifted, gt), 0.0, atol=1e-9)
    np.testing.assert_allclose(M.mpjpe(shifted, gt, root_align=False), 1000 * np.sqrt(0.14))
    # an offset on the pelvis moves every other joint after root alignment
    pelvis_off = gt.copy()
    pelvis_off.loc[{"joint": "pelvis", "coord": "x"}] += 0.017
    np.testing.assert_allclose(M.mpjpe(pelvis_off, gt), 16 * 17.0 / 17)


def test_similarity_transform(gt, rng):
    R = _rotation(rng)
    pred = 1.2 * xr.dot(gt, xr.DataArray(R.T, dims=("coord", "c2")), dim="coord")
    pred = pred.rename(c2="coord").assign_coords(coord=gt.coord) + 0.3
    assert (M.mpjpe(pred, gt) > 10).all()
    np.testing.assert_allclose(M.pa_mpjpe(pred, gt), 0.0, atol=1e-6)
    # scale only: N-MPJPE removes it, MPJPE does not
    scaled = (gt - gt.sel(joint="pelvis")) * 0.8 + gt.sel(joint="pelvis")
    assert (M.mpjpe(scaled, gt) > 10).all()
    np.testing.assert_allclose(M.n_mpjpe(scaled, gt), 0.0, atol=1e-6)


def test_mirror_needs_reflection(gt):
    mirrored = gt * xr.DataArray([-1.0, 1.0, 1.0], dims="coord", coords={"coord": gt.coord})
    assert (M.pa_mpjpe(mirrored, gt) > 10).all()
    np.testing.assert_allclose(M.pa_mpjpe(mirrored, gt, allow_reflection=True), 0.0, atol=1e-6)


def test_pck_and_auc_hand_built():
    gt = pose_dataarray(np.zeros((1, 17, 3)))
    pred = gt.copy()
    # after root alignment (pelvis exact): errors of 22, 98, 149, 151, 300 mm on 5 joints
    # (away from the 5 mm grid, so float rounding cannot flip a comparison)
    for joint, e in zip(H36M_JOINTS[1:6], (0.022, 0.098, 0.149, 0.151, 0.3), strict=True):
        pred.loc[{"joint": joint, "coord": "z"}] = e
    np.testing.assert_allclose(M.pck(pred, gt), 100 * 15 / 17)
    np.testing.assert_allclose(M.pck(pred, gt, threshold=0.05), 100 * 13 / 17)
    # AUC by hand: at threshold t (mm) a joint counts when its error < t
    errs = np.array([0.0] * 12 + [22.0, 98.0, 149.0, 151.0, 300.0])
    expected = np.mean([100 * np.mean(errs < t) for t in range(0, 151, 5)])
    np.testing.assert_allclose(M.auc(pred, gt), expected)
    np.testing.assert_allclose(M.auc(pred, gt, thresholds=[0.1, 0.2]), (100 * 14 / 17 + 100 * 16 / 17) / 2)


def test_extra_dims_and_hypotheses_pass_through(gt, rng):
    pred = (
        gt.expand_dims(individual=2, hypothesis=3)
        .transpose("frame", "hypothesis", "individual", "joint", "coord")
        .copy()
    )
    pred.values[:, 1] += rng.normal(0, 0.02, pred.values[:, 1].shape)
    for f in (M.mpjpe, M.pa_mpjpe, M.n_mpjpe, M.pck, M.auc):
        out = f(pred, gt)
        assert out.dims == ("frame", "hypothesis", "individual"), f.__name__
    err = M.mpjpe(pred, gt)
    assert (err.isel(hypothesis=1) > 0).all()
    np.testing.assert_allclose(M.min_over_hypotheses(err), 0.0, atol=1e-9)
    best = xr.DataArray(np.ones(5, dtype=int), dims="frame")
    np.testing.assert_allclose(M.chosen(err, best), err.isel(hypothesis=1))


def test_nan_gt_joints_are_excluded(gt):
    pred = gt.copy()
    pred.loc[{"joint": "head", "coord": "x"}] += 0.5
    gt_nan = gt.copy()
    gt_nan.loc[{"joint": "head"}] = np.nan
    np.testing.assert_allclose(M.mpjpe(pred, gt_nan), 0.0, atol=1e-9)
    np.testing.assert_allclose(M.pa_mpjpe(pred, gt_nan), 0.0, atol=1e-6)
    np.testing.assert_allclose(M.pck(pred, gt_nan), 100.0)
    # a predicted NaN where GT exists is a failure, not a free pass
    pred_nan = gt.copy()
    pred_nan[0, 3, 0] = np.nan
    assert np.isnan(M.mpjpe(pred_nan, gt)[0]) and np.isnan(M.pa_mpjpe(pred_nan, gt)[0])
    assert np.isfinite(M.pa_mpjpe(pred_nan, gt)[1:]).all()
    # no valid joint at all: NaN, silently
    empty = xr.full_like(gt, np.nan)
    assert M.mpjpe(gt, empty, root_align=False).isnull().all()


def test_joint_subset_and_order(gt):
    pred = gt.copy()
    pred.loc[{"joint": "head", "coord": "x"}] += 0.034
    j14 = [j for j in H36M_JOINTS if j not in ("pelvis", "spine", "neck")]
    np.testing.assert_allclose(M.mpjpe(pred, gt, joints=j14), 34.0 / 14)
    reordered = gt.isel(joint=slice(None, None, -1))
    np.testing.assert_allclose(M.mpjpe(pred, reordered), 2.0)
    with pytest.raises(SchemaError, match="missing"):
        M.mpjpe(pred, gt.isel(joint=slice(0, 10)))
    with pytest.raises(SchemaError, match="pelvis"):
        M.mpjpe(pred.isel(joint=slice(1, None)), gt.isel(joint=slice(1, None)))


def test_min_and_chosen_edge_cases():
    err = xr.DataArray([[3.0, np.nan], [np.nan, np.nan]], dims=("frame", "hypothesis"))
    np.testing.assert_array_equal(M.min_over_hypotheses(err).values, [3.0, np.nan])
    best = xr.DataArray([1, -1], dims="frame")
    assert M.chosen(err, best).isnull().all()


def _lifted(gt: xr.DataArray, rng: np.random.Generator) -> xr.Dataset:
    n_hyp = 3
    sigma = np.array([0.01, 0.05, 0.10])[:, None, None]  # hypothesis 0 is the best
    noise = rng.normal(0.0, 1.0, (gt.sizes["frame"], n_hyp, 17, 3)) * sigma
    pred = gt.expand_dims(hypothesis=n_hyp, axis=1) + noise
    return xr.Dataset({"pose3d": pred, "pose3d_gt": gt})


def test_evaluate(gt, rng):
    ds = _lifted(gt, rng)
    ds["best_hypothesis"] = xr.DataArray([2, 2, 1, 0, 1], dims="frame")
    out = M.evaluate(ds)
    for m in M.METRICS:
        assert out[m].dims == ("frame", "hypothesis")
        assert out[f"{m}_min"].dims == out[f"{m}_best"].dims == ("frame",)
    # hypothesis 0 has the least noise: the oracle picks it and wins
    assert (out.oracle_hypothesis == 0).all()
    np.testing.assert_allclose(out.mpjpe_min, out.mpjpe.isel(hypothesis=0))
    np.testing.assert_allclose(out.pck_min, out.pck.isel(hypothesis=0))
    np.testing.assert_allclose(
        out.mpjpe_best, [out.mpjpe.values[f, h] for f, h in enumerate([2, 2, 1, 0, 1])]
    )
    assert out.attrs["mpjpe_min_mean"] < out.attrs["mpjpe_mean"] < out.attrs["mpjpe_best_mean"]
    assert out.attrs["pa_mpjpe_mean"] < out.attrs["mpjpe_mean"]
    assert out.summary.dims == ("metric", "variant")
    assert float(out.summary.sel(metric="mpjpe", variant="min")) == out.attrs["mpjpe_min_mean"]
    assert out.attrs["pa_allow_reflection"] is False
    # single hypothesis and no best_hypothesis: min equals the value, best is NaN in the summary
    single = M.evaluate(_lifted(gt, rng).isel(hypothesis=[0]))
    np.testing.assert_allclose(single.mpjpe_min, single.mpjpe.isel(hypothesis=0))
    assert "mpjpe_best" not in single
    assert np.isnan(single.summary.sel(metric="auc", variant="best"))


def test_evaluate_extra_dim_and_errors(gt, rng):
    ds = _lifted(gt, rng)
    two = xr.concat([ds, ds], dim="individual")
    out = M.evaluate(two, allow_reflection=True)
    assert out.mpjpe.dims == ("individual", "frame", "hypothesis")
    assert out.mpjpe_min.dims == ("individual", "frame")
    with pytest.raises(SchemaError, match="pose3d_gt"):
        M.evaluate(ds.drop_vars("pose3d_gt"))
    with pytest.raises(SchemaError, match="millimetres"):
        M.evaluate(ds * 1000.0)


def test_evaluate_skips_and_counts_frames_without_a_pose():
    from zedo_xr.metrics import evaluate

    rng = np.random.default_rng(0)
    gt = xr.DataArray(
        rng.normal(0, 0.3, (5, 17, 3)) + [0, 0, 5],
        dims=("frame", "joint", "coord"),
        coords={"joint": list(H36M_JOINTS)},
    )
    pred = (gt + 0.01).expand_dims(hypothesis=1, axis=1).copy()
    pred[1] = np.nan  # not lifted
    pred[3] = 9.0  # a pose flagged invalid: skipped although finite
    ds = xr.Dataset(
        {
            "pose3d": pred,
            "pose3d_gt": gt,
            "valid": ("frame", [True, False, True, False, False]),
            "interpolated": ("frame", [False, False, False, False, True]),
        }
    )
    scores = evaluate(ds)
    assert scores.attrs["n_skipped_frames"] == 2 and scores.attrs["n_interpolated_frames"] == 1
    assert scores.attrs["mpjpe_mean"] == pytest.approx(0.0, abs=1e-9)  # root-aligned offset
    assert np.isnan(scores["mpjpe"].values[[1, 3], 0]).all()
