"""Speed benchmark: frames per second at S = 1 and 50, default vs parity settings.

Each configuration runs in its own process (so its peak memory is its own) with a fixed number
of torch threads (2 by default, the CI machine). The network's share of the loop is measured by
timing every prior call; on CUDA the timer synchronises the device around each call.

Rerun: ``nox -s bench -- speed`` (or ``python -m benchmarks.run speed``). Writes
``benchmarks/results/speed.{json,md}``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from typing import Any

from benchmarks.common import REPO, RESULTS, TestSet, machine, markdown_table, views, write_results

CONFIGS = [
    # (settings, S, frames)
    ("default", 1, 512),
    ("default", 50, 32),
    ("parity", 1, 128),
    ("parity", 50, 8),
]


class _TimedPrior:
    """Wraps a prior so that the time spent in the network is summed."""

    def __init__(self, prior: Any, cuda: bool) -> None:
        self._prior, self._cuda, self.seconds, self.calls = prior, cuda, 0.0, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._prior, name)

    def to(self, device: Any = None, dtype: Any = None) -> _TimedPrior:
        self._prior = self._prior.to(device=device, dtype=dtype)
        return self

    def eps(self, x: Any, t: Any) -> Any:
        import torch

        if self._cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        out = self._prior.eps(x, t)
        if self._cuda:
            torch.cuda.synchronize()
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def measure_one(settings: str, S: int, frames: int, device: str, threads: int) -> dict[str, Any]:
    """Lift ``frames`` CMU-test frames once (after a warm-up) and time the parts."""
    import torch

    from zedo_xr.device import resolve_device
    from zedo_xr.estimator import initial, loop
    from zedo_xr.estimator.pipeline import lift_arrays
    from zedo_xr.estimator.settings import resolve_settings
    from zedo_xr.prior.checkpoint import load_prior

    torch.set_num_threads(threads)
    dev = resolve_device(device)
    ds = views(TestSet("cmu-test", "in-domain", frames).poses(), "exact")
    uv, conf, K = ds.keypoints.values, ds.confidence.values, ds.K.values
    timed = _TimedPrior(load_prior("default", device=str(dev)), dev.type == "cuda")
    resolved = resolve_settings(settings)
    lift_arrays(uv[:2], conf[:2], K[:2], prior=timed, hypotheses=S, settings=resolved, device=dev)

    phases = {"initial": 0.0, "loop": 0.0}
    fit_name = "fit_initial_pose" if resolved.initial == "grid" else "fit_initial_pose_adam"
    originals = {"initial": (initial, fit_name), "loop": (loop, "optimize")}

    def timing(phase: str, fn: Any) -> Any:
        def wrapped(*a: Any, **k: Any) -> Any:
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            out = fn(*a, **k)
            if dev.type == "cuda":
                torch.cuda.synchronize()
            phases[phase] += time.perf_counter() - t0
            return out

        return wrapped

    patched = {}
    for phase, (module, name) in originals.items():
        fn = getattr(module, name)
        patched[(module, name)] = fn
        setattr(module, name, timing(phase, fn))
    timed.seconds, timed.calls = 0.0, 0
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    try:
        lift_arrays(uv, conf, K, prior=timed, hypotheses=S, settings=resolved, device=dev, batch_size=frames)
    finally:
        for (module, name), fn in patched.items():
            setattr(module, name, fn)
    total = time.perf_counter() - start
    loop_s = phases["loop"]
    return {
        "settings": settings,
        "S": S,
        "frames": frames,
        "device": str(dev),
        "threads": threads,
        "iterations": resolved.loop.iterations,
        "seconds": round(total, 3),
        "frames_per_second": round(frames / total, 3),
        "poses_per_second": round(frames * S / total, 1),
        "initial_seconds": round(phases["initial"], 3),
        "loop_seconds": round(loop_s, 3),
        "network_seconds": round(timed.seconds, 3),
        "network_calls": timed.calls,
        "outside_network_share_of_loop": round(1 - timed.seconds / loop_s, 4) if loop_s else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "peak_cuda_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1) if dev.type == "cuda" else None,
    }


def report(payload: dict[str, Any]) -> str:
    """The markdown report of a speed run (``python -m benchmarks.speed --report`` redoes it)."""
    rows, speedups = payload["rows"], payload["default_over_parity_speedup"]
    by = {(r["settings"], r["S"]): r for r in rows}
    share = {S: by[("default", S)]["outside_network_share_of_loop"] for S in (1, 50) if ("default", S) in by}
    load = payload.get("load_average_1min")
    md = [
        f"# Speed ({payload['device']}, {payload['threads']} torch threads)",
        "",
        markdown_table(
            rows,
            [
                "settings",
                "S",
                "frames",
                "iterations",
                "frames_per_second",
                "poses_per_second",
                "initial_seconds",
                "loop_seconds",
                "network_seconds",
                "outside_network_share_of_loop",
                "peak_rss_mb",
            ],
            floatfmt=".3g",
        ),
        "",
        f"Default over parity speed-up: {speedups}.",
        "",
        "Targets (docs/design.md, performance): time outside the network < 15 % of the loop (default preset: "
        + ", ".join(f"{100 * v:.1f} % at S = {S}" for S, v in share.items())
        + "); default at least 5x faster than parity at no worse accuracy (speed-ups above; "
        "accuracy in `tune.md`).",
        "",
    ]
    if load:
        md += [
            f"1-minute load average {load['before']} before and {load['after']} after the run, on "
            f"{load['cpu_count']} CPUs (the run's own {payload['threads']} threads included in "
            "'after').",
            "",
        ]
    m = payload["machine"]
    md.append(f"Machine: {m.get('cpu_model', m['cpu'])}; torch {m['torch']}. Command: `{m['command']}`.")
    return "\n".join(md)


def run(*, device: str = "cpu", threads: int = 2, quick: bool = False) -> dict[str, Any]:
    import os

    load_before = os.getloadavg()[0]
    rows = []
    for settings, S, frames in CONFIGS:
        if quick:
            frames = max(2, frames // 8)
        cmd = [sys.executable, "-m", "benchmarks.speed", settings, str(S), str(frames), device, str(threads)]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"speed run {cmd} failed:\n{proc.stderr[-3000:]}")
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(
            f"{settings:8} S={S:<3} {row['frames_per_second']:8.2f} frames/s  "
            f"outside network {100 * row['outside_network_share_of_loop']:.1f} % of loop  "
            f"peak RSS {row['peak_rss_mb']:.0f} MB",
            flush=True,
        )
    by = {(r["settings"], r["S"]): r for r in rows}
    speedups = {
        f"S{S}": round(by[("default", S)]["frames_per_second"] / by[("parity", S)]["frames_per_second"], 2)
        for S in (1, 50)
        if ("default", S) in by and ("parity", S) in by
    }
    # Other jobs on the machine slow every row; the load average says how busy it was.
    load = {
        "before": round(load_before, 2),
        "after": round(os.getloadavg()[0], 2),
        "cpu_count": os.cpu_count(),
    }
    payload = {
        "machine": machine(),
        "device": device,
        "threads": threads,
        "quick": quick,
        "rows": rows,
        "default_over_parity_speedup": speedups,
        "load_average_1min": load,
    }
    md = report(payload)
    write_results(f"speed_{device.split(':')[0]}" + ("_quick" if quick else ""), payload, md)
    return payload


# ----------------------------------------------------------------------------- busy machine
BUSY_SCRIPT = "while True: pass"
"""The competing CPU-bound process of :func:`run_busy`."""


def _time_lift(ds: Any, policy: str, threads: int) -> float:
    """Seconds to lift ``ds`` frame by frame: with ``threads`` torch threads (``"fixed"``,
    torch's own policy) or with the threads ``lift`` picks (``"zedo"``)."""
    import torch

    from zedo_xr.estimator.driver import lift
    from zedo_xr.estimator.pipeline import lift_arrays

    torch.set_num_threads(threads)
    start = time.perf_counter()
    if policy == "fixed":
        lift_arrays(ds.keypoints.values, ds.confidence.values, ds.K.values, device="cpu")
    else:
        lift(ds, device="cpu", temporal=False, progress=False)
    return time.perf_counter() - start


def run_busy(*, threads: int = 2, frames: int = 100, repeats: int = 2) -> dict[str, Any]:
    """Lift a 100-frame clip on an idle and on a busy CPU (one competing CPU-bound process).

    Rows: ``fixed`` = ``threads`` torch threads throughout (torch's default on a ``threads``-core
    machine); ``zedo`` = the threads :func:`zedo_xr.lift` picks for the chunk size and the load.
    The ratio busy / idle must stay <= 1.5. Writes ``benchmarks/results/speed_busy.{json,md}``.
    """
    import os

    ds = views(TestSet("cmu-test", "in-domain", frames).poses(), "exact")
    _time_lift(ds.isel(frame=slice(0, 2)), "fixed", 1)  # warm-up: prior loaded and cached
    rows = []
    for policy in ("fixed", "zedo"):
        idle = min(_time_lift(ds, policy, threads) for _ in range(repeats))
        load_idle = os.getloadavg()[0]
        hog = subprocess.Popen([sys.executable, "-c", BUSY_SCRIPT])
        try:
            time.sleep(1.0)
            busy = min(_time_lift(ds, policy, threads) for _ in range(repeats))
        finally:
            hog.kill()
            hog.wait()
        rows.append(
            {
                "policy": policy,
                "threads": threads,
                "frames": frames,
                "idle_seconds": round(idle, 2),
                "busy_seconds": round(busy, 2),
                "idle_frames_per_second": round(frames / idle, 1),
                "busy_frames_per_second": round(frames / busy, 1),
                "busy_over_idle": round(busy / idle, 2),
                "load_average_1min": round(load_idle, 2),
            }
        )
        print(rows[-1], flush=True)
    payload = {"machine": machine(), "rows": rows, "target_busy_over_idle": 1.5}
    md = [
        "# Speed on a busy CPU (100-frame clip, S = 1, default settings, frame by frame)",
        "",
        markdown_table(
            rows,
            [
                "policy",
                "threads",
                "frames",
                "idle_frames_per_second",
                "busy_frames_per_second",
                "busy_over_idle",
                "load_average_1min",
            ],
            floatfmt=".3g",
        ),
        "",
        f"`fixed`: {threads} torch threads throughout (torch's default on a {threads}-core machine); "
        "`zedo`: the intra-op threads `lift` picks for the chunk size and the idle cores "
        "(`zedo_xr/estimator/threads.py`), the caller's setting restored afterwards. `busy`: one "
        f"competing CPU-bound process (`python -c '{BUSY_SCRIPT}'`). Target: busy / idle <= 1.5. "
        "`idle` means without that extra process: the machine's other jobs run in both (the 1-minute "
        "load average before the busy run is given), so on a shared machine `idle` is already busy.",
        "",
        f"Machine: {payload['machine'].get('cpu_model', payload['machine']['cpu'])}, "
        f"{payload['machine']['cpu_count']} CPUs. Command: `{payload['machine']['command']}`.",
    ]
    write_results("speed_busy", payload, "\n".join(md))
    return payload


if __name__ == "__main__":
    if sys.argv[1:2] == ["--busy"]:
        run_busy()
        raise SystemExit(0)
    if sys.argv[1:2] == ["--report"]:  # rewrite speed_<device>.md from its JSON
        name = f"speed_{sys.argv[2] if len(sys.argv) > 2 else 'cpu'}"
        stored = json.loads((RESULTS / f"{name}.json").read_text())
        (RESULTS / f"{name}.md").write_text(report(stored) + "\n")
        raise SystemExit(0)
    settings_, S_, frames_, device_, threads_ = sys.argv[1:6]
    print(json.dumps(measure_one(settings_, int(S_), int(frames_), device_, int(threads_)), default=float))
