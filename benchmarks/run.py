"""Run the benchmarks: ``python -m benchmarks.run [accuracy|speed|busy|video|tune|paper|all] [--quick]``.

``nox -s bench -- speed --device cuda`` runs the speed benchmark on a GPU; ``paper`` recomputes
every paper experiment (:mod:`benchmarks.paper`; the experiment priors come from
``scripts/paper_priors_queue.sh``); ``generalization`` writes the leave-one-source-out table from
the cells its queue has finished (``python -m benchmarks.generalization train`` trains them).
The prior's t-sampling study has its own command line (``python benchmarks/prior_t_sampling.py``).
Results are written to ``benchmarks/results/`` as JSON and markdown, with the machine and the
exact command.
"""

from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run")
    parser.add_argument(
        "which",
        nargs="*",
        default=["all"],
        choices=["all", "accuracy", "speed", "busy", "video", "tune", "paper", "generalization"],
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--settings", default="default")
    parser.add_argument("--prior", default="default", help="prior name or directory")
    args = parser.parse_args(argv)
    which = {"accuracy", "speed"} if "all" in args.which else set(args.which)
    if "tune" in which:
        from benchmarks import tune

        tune.run(quick=args.quick, prior=args.prior, threads=args.threads)
    if "speed" in which:
        from benchmarks import speed

        speed.run(device=args.device, threads=args.threads, quick=args.quick)
    if "busy" in which:
        from benchmarks import speed

        speed.run_busy(threads=args.threads)
    if "video" in which:
        from benchmarks import video

        video.run(quick=args.quick)
    if "accuracy" in which:
        from benchmarks import accuracy

        accuracy.run(quick=args.quick, settings=args.settings, prior=args.prior, threads=args.threads)
    if "generalization" in which:
        from benchmarks import generalization

        generalization.report()
    if "paper" in which:
        import importlib

        from benchmarks.paper import EXPERIMENTS

        for name in EXPERIMENTS:
            importlib.import_module(f"benchmarks.paper.{name}").run(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
