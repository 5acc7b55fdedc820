"""Generated inputs for ``lift`` and the oracle that classifies what happened.

Used by ``tests/estimator/test_lift_fuzz.py`` (a few hundred examples in the fast suite) and, as
a script, by ``nox -s fuzz`` (``python -m tests.estimator.lift_cases --examples 10000``), which
prints the counts of each outcome:

* ``success``: a result whose outputs are finite wherever the frame had enough usable joints
  (lift's validity rule) and NaN, flagged ``valid = False``, elsewhere;
* ``clear error``: a ``ValueError``/``TypeError`` (``SchemaError`` included) whose message reads
  "name: expected X, got Y";
* ``unclear crash``: any other exception, or an error message without that grammar;
* ``silent garbage``: a result with non-finite or out-of-range outputs where the input was
  usable, or a metamorphic property broken (the same data in another form gave another result).

The properties are about the edge, not accuracy: the prior is a tiny random ``ScoreNet``
(deterministic weights) and the loop runs a few iterations.
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import numpy as np
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.estimator.conftest import K_H36M, STANDING, yaw
from zedo_xr.schema import H36M_JOINTS

OUTCOMES = ("success", "clear error", "unclear crash", "silent garbage")
CLEAR = re.compile(r"^[\w\[\]., '()-]+: (.* )?expected ", re.S)
STORED_SIZES = (1, 2, 3, 4)


# ----------------------------------------------------------------------------- the prior
@functools.lru_cache(maxsize=1)
def tiny_prior() -> Any:
    """A deterministic random ``ScoreNet`` of width 32 with k-means sizes 1-4 and a pose pool."""
    import torch

    from zedo_xr.prior.checkpoint import Prior
    from zedo_xr.prior.network import ScoreNet

    torch.manual_seed(0)
    net = ScoreNet(width=32, blocks=1, emb_dim=16, groups=8, dropout=0.0)
    with torch.no_grad():  # small outputs: the poses stay near the initial ones
        for p in net.parameters():
            p.mul_(0.1)
    rng = np.random.default_rng(0)
    pool = np.stack([yaw(STANDING, a) for a in rng.uniform(-0.3, 0.3, 8)])
    hyps = {s: np.stack([yaw(STANDING, a) for a in np.linspace(-0.5, 0.5, s)]) for s in STORED_SIZES}
    hyps[-1] = pool
    return Prior(net, "subvp", hypotheses=hyps, name="tiny-random")


# ----------------------------------------------------------------------------- cases
@dataclass
class Case:
    ds: Any
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        kp = self.ds["keypoints"] if isinstance(self.ds, xr.Dataset) and "keypoints" in self.ds else None
        shape = dict(kp.sizes) if kp is not None else None
        return (
            f"Case(keypoints {shape}, vars {list(getattr(self.ds, 'data_vars', []))}, kwargs {self.kwargs})"
        )


def _project(rng: np.random.Generator, n: int, K: np.ndarray) -> np.ndarray:
    """Keypoints of yawed standing poses 3-8 m in front of the camera, (n, 17, 2)."""
    rel = np.stack([yaw(STANDING, a) for a in rng.uniform(-np.pi, np.pi, n)])
    root = np.stack([rng.uniform(-1, 1, n), rng.uniform(-0.5, 0.5, n), rng.uniform(3, 8, n)], -1)
    p = (rel + root[:, None]) @ K.T
    return p[..., :2] / p[..., 2:]


FAULTS = (
    "hypotheses",
    "batch_size",
    "dtype",
    "seed",
    "iterations",
    "device",
    "settings",
    "override",
    "focal",
    "K form",
    "magnitude",
    "confidence",
    "uv labels",
    "duplicate joint",
    "fps",
)
"""What a generated case may get wrong (none, one or two of them at a time)."""


def _pick(draw, fault: bool, valid: list, invalid: list) -> Any:
    return draw(st.sampled_from(invalid if fault else valid))


@st.composite
def keypoint_arrays(draw, n: int, joints: list[str], K: np.ndarray, fault: bool) -> np.ndarray:
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kind = _pick(
        draw, fault, ["pose", "pose", "random", "wide", "offscreen"], ["tiny", "huge", "overflow", "inf"]
    )
    J = len(joints)
    kp = _project(rng, n, K)[:, [H36M_JOINTS.index(j) for j in joints]]
    if kind == "random":
        kp = rng.uniform(-500, 2500, (n, J, 2))
    elif kind == "wide":  # anywhere within the accepted range
        kp = rng.uniform(-1e6, 1e6, (n, J, 2))
    elif kind == "offscreen":
        kp = kp + rng.uniform(-3e4, 3e4, (1, 1, 2))
    elif kind == "tiny":
        kp = rng.uniform(-1, 1, (n, J, 2))
    elif kind in ("huge", "overflow"):
        kp = kp * {"huge": 1e8, "overflow": 1e25}[kind]
    elif kind == "inf":
        kp[0, 0, 0] = np.inf
    missing = draw(st.sampled_from([0.0, 0.0, 0.2, 0.6, 0.9]))
    kp[rng.random((n, J)) < missing] = np.nan
    if draw(st.booleans()):  # a whole frame without any detection
        kp[rng.integers(n)] = np.nan
    return kp


@st.composite
def confidences(draw, n: int, J: int, fault: bool) -> np.ndarray | None:
    kind = _pick(
        draw,
        fault,
        ["none", "none", "ones", "uniform", "zeros", "tiny", "nan", "binary"],
        ["above", "negative"],
    )
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "none":
        return None
    return {
        "ones": np.ones((n, J)),
        "uniform": rng.random((n, J)),
        "zeros": np.zeros((n, J)),
        "tiny": np.full((n, J), 1e-30),
        "nan": np.where(rng.random((n, J)) < 0.3, np.nan, 1.0),
        "binary": (rng.random((n, J)) < 0.7).astype(float),
        "above": np.full((n, J), 1.5),
        "negative": -rng.random((n, J)),
    }[kind]


@st.composite
def intrinsics(draw, n: int, focal_fault: bool, form_fault: bool) -> tuple[Any, np.ndarray]:
    """(what is passed as K, or ("var", K) for a dataset variable; the matrix of the keypoints)."""
    fx = _pick(
        draw,
        focal_fault,
        [1145.0, 1145.0, 500.0, 3000.0, 1.0, 1e6, 20.0],
        [1e-30, 1e30, 0.0, -100.0, np.nan, 0.5, 2e6],
    )
    K = K_H36M.copy()
    K[0, 0] = K[1, 1] = fx
    K_used = K if np.isfinite(fx) and 1 <= fx <= 1e6 else K_H36M
    form = _pick(
        draw,
        form_fault,
        ["3x3", "per-frame", "dataarray", "var", "var-per-frame"],
        ["dict", "wrong-shape", "extra-dim", "lower", "string", "none"],
    )
    if form == "per-frame":
        return np.broadcast_to(K, (n, 3, 3)).copy(), K_used
    if form == "dataarray":
        return xr.DataArray(K, dims=("row", "col")), K_used
    if form in ("var", "var-per-frame"):
        return ("var", K if form == "var" else np.broadcast_to(K, (n, 3, 3)).copy()), K_used
    lower = K.copy()
    lower[1, 0] = 5.0
    return {
        "3x3": K,
        "dict": {"fx": 1145.0, "fy": 1145.0},
        "wrong-shape": K[:2],
        "lower": lower,
        "extra-dim": xr.DataArray(np.stack([K, K]), dims=("camera", "row", "col")),
        "string": "1145,1145,512,515",
        "none": ("none",),
    }[form], K_used


PARAMS = {  # valid values, invalid values
    "hypotheses": ([1, 1, 2, 3, 4], [0, -1, 1.5, "2", True, None, 5]),
    "batch_size": ([None, None, 1, 2, 3, 100], [0, -1, 1.5, "2", True]),
    "dtype": (["float32", "float32", "float64"], ["float16", "bogus", None, np.float32]),
    "seed": ([0, 0, 7, 2**40], [-1, 1.5, "a", 2**70, None]),
    "iterations": ([1, 2, 3], [0, -2, 2.5, "3"]),
    "device": (["cpu", "cpu", "auto"], ["cuda", "cuda:3", "bogus", 3]),
    "settings": (["default"], ["bogus", 5, "parity "]),
    "override": (
        [
            {},
            {},
            {},
            {"initial": "none"},
            {"initial_method": "random"},
            {"initial_joints": "hips"},
            {"step": "parity", "step_size": 1e-3},
            {"translation_power": 4.0},
            {"final_projection": True},
            {"warmup": 0.5},
            {"initial": "adam"},
        ],
        [
            {"step_size": -1.0},
            {"warp_speed": 9},
            {"t_min": 0.5},
            {"initial": "magic"},
            {"final_projection": "yes"},
            {"translation_power": np.inf},
        ],
    ),
}


@st.composite
def cases(draw) -> Case:
    """Any dataset and any parameters: mostly valid, with none, one or two faults."""
    faults = set(draw(st.lists(st.sampled_from(FAULTS), max_size=2)) if draw(st.booleans()) else [])
    n = draw(st.integers(1, 4))
    joints = draw(st.lists(st.sampled_from(H36M_JOINTS), min_size=1, max_size=17, unique=True))
    if "duplicate joint" in faults:
        joints = [*joints, joints[0]]
    K_arg, K_used = draw(intrinsics(n, "focal" in faults, "K form" in faults))
    kp = draw(keypoint_arrays(n, joints, K_used, "magnitude" in faults))
    conf = draw(confidences(n, len(joints), "confidence" in faults))
    data = {"keypoints": (("frame", "joint", "uv"), kp)}
    if conf is not None:
        data["confidence"] = (("frame", "joint"), conf)
    uv = _pick(draw, "uv labels" in faults, [["u", "v"], ["u", "v"], None], [["x", "y"], ["u", "u"]])
    coords: dict[str, Any] = {"frame": np.arange(n), "joint": np.array(joints, dtype=object)}
    if uv is not None:
        coords["uv"] = np.array(uv, dtype=object)
    ds = xr.Dataset(data, coords=coords)
    if isinstance(K_arg, tuple) and K_arg[0] == "var":
        Kv = K_arg[1]
        ds["K"] = (("frame", "row", "col") if Kv.ndim == 3 else ("row", "col")), Kv
    if draw(st.integers(0, 4)) == 0:
        ds = xr.concat([ds, ds], dim="individual")
    if draw(st.integers(0, 4)) == 0:  # a frame rate: tracks are lifted as sequences
        ds.attrs["fps"] = draw(
            st.sampled_from([25.0, 50.0, 0.0, -1.0, np.nan])
            if "fps" in faults
            else st.sampled_from([25.0, 50.0])
        )
    if uv == ["u", "v"] and draw(st.booleans()):
        ds = ds.isel(uv=[1, 0])
    if draw(st.booleans()):
        order = draw(st.permutations(list(ds["keypoints"].dims)))
        ds["keypoints"] = ds["keypoints"].transpose(*order)
    if draw(st.integers(0, 9)) == 0:
        ds = ds.chunk({"frame": draw(st.integers(1, 3))})
    kwargs = {k: _pick(draw, k in faults, *v) for k, v in PARAMS.items() if k != "override"}
    kwargs.update(_pick(draw, "override" in faults, *PARAMS["override"]))
    if not isinstance(K_arg, tuple):
        kwargs["K"] = K_arg
    return Case(ds, kwargs)


# ----------------------------------------------------------------------------- the oracle
def usable(ds: xr.Dataset) -> xr.DataArray:
    """Per frame (and extra dims): enough visible joints to constrain a pose, by lift's rule
    (:mod:`zedo_xr.estimator.validity`: 6 joints with finite keypoints and confidence > 0, among
    them a hip or a shoulder)."""
    from zedo_xr.estimator.validity import MIN_JOINTS, TORSO_ANCHORS

    kp = ds["keypoints"]
    ok = np.isfinite(kp).all("uv")
    if "confidence" in ds:
        ok = ok & (ds["confidence"].fillna(0) > 0)
    names = [str(j) for j in ds["joint"].values] if "joint" in ds.coords else []
    anchor = xr.DataArray([n in TORSO_ANCHORS for n in names], dims="joint") if names else False
    return (ok.sum("joint") >= MIN_JOINTS) & (ok & anchor).any("joint")


def garbage_in(out: xr.Dataset, ds: xr.Dataset, S: int) -> str | None:
    """Why ``out`` is garbage for the input ``ds``, or None."""
    for name in ("pose3d", "reprojection_error", "best_hypothesis", "valid", "interpolated"):
        if name not in out:
            return f"{name} missing"
    if out.sizes["hypothesis"] != S:
        return f"hypothesis: {out.sizes['hypothesis']} != {S}"
    ok = usable(ds).compute()
    if not bool((out["valid"] == ok).all()):
        return "valid disagrees with the validity rule"
    lifted = out["valid"] | out["interpolated"]
    pose_finite = np.isfinite(out["pose3d"]).all(("hypothesis", "joint", "coord"))
    pose_any = np.isfinite(out["pose3d"]).any(("hypothesis", "joint", "coord"))
    err_finite = np.isfinite(out["reprojection_error"]).all("hypothesis")
    if not bool((pose_finite | ~lifted).all()):
        return "non-finite pose3d where joints were usable"
    if bool((pose_any & ~lifted).any()):
        return "a made-up pose where the joints could not constrain one"
    if not bool((err_finite | ~lifted).all()):
        return "non-finite reprojection_error where joints were usable"
    best = out["best_hypothesis"].where(lifted, 0).values
    if ((best < 0) | (best >= S)).any() or (out["best_hypothesis"].where(~lifted, -1) != -1).any():
        return f"best_hypothesis out of range: {np.unique(out['best_hypothesis'].values)}"
    return None


def classify_error(err: BaseException) -> str:
    if isinstance(err, ValueError | TypeError) and CLEAR.match(str(err)):
        return "clear error"
    return "unclear crash"


def run_case(case: Case) -> tuple[str, str]:
    """(outcome, detail) of lifting ``case``."""
    from zedo_xr.estimator.driver import lift

    kwargs = dict(case.kwargs)
    try:
        out = lift(case.ds, prior=tiny_prior(), progress=False, **kwargs)
        out = out.compute()
    except Exception as err:  # classified, never swallowed silently: the counts show it
        outcome = classify_error(err)
        detail = f"{type(err).__name__}: {err}"
        if outcome == "unclear crash":
            detail += "\n" + "".join(traceback.format_exception(err)[-4:])
        return outcome, detail
    S = int(kwargs["hypotheses"])
    why = garbage_in(out, case.ds, S)
    return ("silent garbage", why) if why else ("success", "")


# ----------------------------------------------------------------------------- metamorphic
@st.composite
def valid_cases(draw) -> Case:
    """A valid dataset (projected poses, some missing joints) and valid parameters, float64."""
    n = draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    kp = _project(rng, n, K_H36M)
    conf = rng.uniform(0.3, 1.0, (n, 17))
    conf[rng.random((n, 17)) < 0.15] = 0.0
    conf[:, [0, 1, 4, 7, 8, 11, 14]] = 1.0  # every frame keeps enough joints for a pose
    ds = xr.Dataset(
        {
            "keypoints": (("frame", "joint", "uv"), kp),
            "confidence": (("frame", "joint"), conf),
            "K": (("row", "col"), K_H36M),
        },
        coords={
            "frame": np.arange(n),
            "joint": np.array(H36M_JOINTS, dtype=object),
            "uv": np.array(["u", "v"], dtype=object),
        },
    )
    kwargs = {
        "hypotheses": draw(st.sampled_from([1, 2, 3])),
        "iterations": draw(st.integers(1, 3)),
        "dtype": "float64",
        "device": "cpu",
        "seed": draw(st.integers(0, 3)),
    }
    return Case(ds, kwargs)


def _transform(prop: str, ds: xr.Dataset, rng: np.random.Generator) -> tuple[xr.Dataset, dict, Any]:
    """(transformed input, extra kwargs, how to map the reference output onto it)."""
    n = ds.sizes["frame"]
    same = lambda out: out  # noqa: E731
    if prop == "joint permutation":
        return ds.isel(joint=rng.permutation(17)), {}, same
    if prop == "dim order":
        return ds.transpose(*rng.permutation(list(ds.dims))), {}, same
    if prop == "frame shuffle":
        perm = rng.permutation(n)
        return ds.isel(frame=perm), {}, lambda out: out.isel(frame=perm)
    if prop == "uv order":
        return ds.isel(uv=[1, 0]), {}, same
    if prop == "missing as NaN":
        kp = ds["keypoints"].where(ds["confidence"] > 0)
        return ds.assign(keypoints=kp), {}, same
    if prop == "missing joint dropped":
        keep = [j for j in H36M_JOINTS if j not in ("left_wrist", "right_ankle")]
        zeroed = ds.assign(
            confidence=ds["confidence"].where(~ds.joint.isin(["left_wrist", "right_ankle"]), 0.0)
        )
        return ds.sel(joint=keep), {}, ("reference", zeroed)
    if prop == "per-frame K":
        return ds.drop_vars("K"), {"K": np.broadcast_to(K_H36M, (n, 3, 3)).copy()}, same
    if prop == "dask vs eager":
        return ds.chunk({"frame": int(rng.integers(1, n + 1))}), {}, same
    if prop == "batch_size":
        return ds, {"batch_size": int(rng.integers(1, n + 1))}, same
    raise ValueError(prop)


PROPERTIES = (
    "joint permutation",
    "dim order",
    "frame shuffle",
    "uv order",
    "missing as NaN",
    "missing joint dropped",
    "per-frame K",
    "dask vs eager",
    "batch_size",
)


def _compare(a: xr.Dataset, b: xr.Dataset) -> str | None:
    pa = a["pose3d"].transpose("frame", "hypothesis", "joint", "coord").values
    pb = b["pose3d"].transpose("frame", "hypothesis", "joint", "coord").values
    if not np.allclose(pa, pb, atol=1e-5, rtol=1e-5):
        return f"pose3d differs by up to {np.nanmax(np.abs(pa - pb)):.3g} m"
    ea, eb = (
        a["reprojection_error"].values,
        b["reprojection_error"].transpose(*a["reprojection_error"].dims).values,
    )
    if not np.allclose(ea, eb, atol=1e-3, rtol=1e-4):
        return "reprojection_error differs"
    if not np.array_equal(a["best_hypothesis"].values, b["best_hypothesis"].values):
        return "best_hypothesis differs"
    return None


def run_property(prop: str, case: Case, seed: int) -> tuple[str, str]:
    from zedo_xr.estimator.driver import lift

    rng = np.random.default_rng(seed)
    ds2, extra, mapping = _transform(prop, case.ds, rng)
    ref_input = case.ds
    if isinstance(mapping, tuple):
        ref_input, mapping = mapping[1], (lambda out: out)
    try:
        ref = lift(ref_input, prior=tiny_prior(), progress=False, **case.kwargs)
        out = lift(ds2, prior=tiny_prior(), progress=False, **{**case.kwargs, **extra}).compute()
    except Exception as err:
        return "unclear crash", f"{prop}: {type(err).__name__}: {err}"
    why = _compare(mapping(ref).transpose(*ref.dims), out) or garbage_in(out, ds2, case.kwargs["hypotheses"])
    return ("silent garbage", f"{prop}: {why}") if why else ("success", "")


# ----------------------------------------------------------------------------- the fuzz run
def main(argv: list[str] | None = None) -> int:
    import dask
    import torch

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="generated datasets")
    parser.add_argument("--metamorphic", type=int, default=100, help="examples per property")
    parser.add_argument("--show", type=int, default=5, help="failures to print per outcome")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed (random if not given)")
    parser.add_argument("--report-every", type=int, default=500, help="print running counts every N cases")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    dask.config.set(scheduler="synchronous")  # the edge is under test, not dask's thread pool
    counts: Counter[str] = Counter()
    bad: dict[str, list[str]] = {"unclear crash": [], "silent garbage": []}
    start = time.perf_counter()

    def record(outcome: str, detail: str, case: Case) -> None:
        counts[outcome] += 1
        if outcome in bad:
            bad[outcome].append(f"{case!r}\n  {detail}")
        total = sum(counts.values())
        if args.report_every and total % args.report_every == 0:
            print(
                f"[{time.perf_counter() - start:.0f} s] {total} cases: "
                + ", ".join(f"{k} {counts[k]}" for k in OUTCOMES),
                flush=True,
            )

    quiet = settings(deadline=None, database=None, suppress_health_check=list(HealthCheck))
    seeded = hypothesis.seed(args.seed) if args.seed is not None else (lambda f: f)

    @seeded
    @settings(quiet, max_examples=args.examples)
    @given(cases())
    def generated(case: Case) -> None:
        record(*run_case(case), case)

    generated()
    print(f"generated datasets: {sum(counts.values())} in {time.perf_counter() - start:.0f} s", flush=True)

    def metamorphic(prop: str) -> Any:
        @seeded
        @settings(quiet, max_examples=args.metamorphic)
        @given(valid_cases(), st.integers(0, 2**32 - 1))
        def check(case: Case, seed: int) -> None:
            record(*run_property(prop, case, seed), case)

        return check

    for prop in PROPERTIES:
        metamorphic(prop)()
    total = sum(counts.values())
    print(
        f"cases: {total} ({args.examples} generated + {len(PROPERTIES)} metamorphic properties x "
        f"{args.metamorphic}) in {time.perf_counter() - start:.0f} s"
    )
    for outcome in OUTCOMES:
        print(f"  {outcome:<15} {counts[outcome]:>6}")
    for outcome, items in bad.items():
        for item in items[: args.show]:
            print(f"\n{outcome}: {item}")
    return 1 if counts["unclear crash"] or counts["silent garbage"] else 0


if __name__ == "__main__":
    sys.exit(main())
