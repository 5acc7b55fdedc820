"""How many intra-op threads torch should use for a lift, and a context that restores the caller's.

On a CPU that other processes also use, torch's default (one thread per core) collapses: its
OpenMP workers wait for each other at the end of every operation, so one descheduled worker stalls
all of them, at every one of the loop's network calls. On a 2-core machine busy with one other
process a 100-frame lift ran 7x slower with 2 threads than with 1. The network's matrices for a
few hundred poses are too small to gain much from a second thread anyway, so threads are given
only to large batches (:data:`POSES_PER_THREAD` poses per call each), and never more than the
cores the 1-minute load average leaves idle.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

POSES_PER_THREAD = 4096
"""Poses per network call that justify one more intra-op thread."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def idle_cores() -> int:
    """Cores not busy with other work by the 1-minute load average (at least 1)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return _cores()
    return max(1, round(_cores() - load))


def threads_for(poses: int, *, limit: int | None = None, idle: int | None = None) -> int:
    """Intra-op threads for network calls on ``poses`` poses (CPU).

    Parameters
    ----------
    poses : int
        Poses per network call (frames x hypotheses of a chunk).
    limit : int, optional
        Upper bound, by default the caller's ``torch.get_num_threads()``.
    idle : int, optional
        Idle cores, by default :func:`idle_cores`.

    Examples
    --------
    >>> threads_for(200, limit=8, idle=8), threads_for(20000, limit=8, idle=8)
    (1, 4)
    >>> threads_for(20000, limit=8, idle=2)
    2
    """
    import torch

    limit = torch.get_num_threads() if limit is None else limit
    idle = idle_cores() if idle is None else idle
    return max(1, min(limit, idle, poses // POSES_PER_THREAD))


@contextmanager
def intra_op_threads(n: int) -> Iterator[int]:
    """Run the block with ``torch.set_num_threads(n)``, then restore the caller's setting.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with intra_op_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    import torch

    if n < 1:
        raise ValueError(f"threads: expected >= 1, got {n}")
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(previous)
