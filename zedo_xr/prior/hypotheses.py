"""Initial poses for the estimator: k-means centres of training poses in the canonical frame.

Canonical frame (CONTRIBUTING.md): root-relative, camera axes (x right, y down, z forward), the
body upright (pelvis -> thorax along -y) and facing the camera (body forward = -z), so the
subject's right hip is at -x. World poses (Z up) are brought there by removing their heading: a
rotation about the vertical that puts the horizontal hip vector (right_hip - left_hip) on -x.
"""

from __future__ import annotations

import numpy as np

SIZES = (1, 5, 10, 20, 50)
MAX_POSES = 20000
"""Training poses clustered at most (a subsample keeps k-means fast)."""
POOL = 256
"""Random training poses stored with a prior (``hypotheses[-1]``)."""
RIGHT_HIP, LEFT_HIP = 1, 4


def canonicalise(world: np.ndarray) -> np.ndarray:
    """World poses ``(N, 17, 3)`` (Z up) to the canonical camera-axes frame, ``(N, 17, 3)``.

    Examples
    --------
    >>> pose = np.zeros((1, 17, 3)); pose[0, 1] = [0, 0.1, 0]; pose[0, 4] = [0, -0.1, 0]
    >>> pose[0, 8] = [0, 0, 0.5]
    >>> c = canonicalise(pose)[0]
    >>> c[1].round(3).tolist(), c[8].round(3).tolist()
    ([-0.1, 0.0, 0.0], [0.0, -0.5, 0.0])
    """
    world = np.asarray(world, dtype=np.float64)
    rel = world - world[:, :1]
    hip = rel[:, RIGHT_HIP] - rel[:, LEFT_HIP]
    hip[:, 2] = 0
    right = hip / np.maximum(np.linalg.norm(hip, axis=-1, keepdims=True), 1e-9)
    up = np.broadcast_to(np.array([0.0, 0.0, 1.0]), right.shape)
    forward = np.cross(up, right)  # the body faces up x right (right = forward x up)
    # canonical x = -right, y = -up, z = -forward
    R = -np.stack([right, up, forward], axis=1)  # (N, 3, 3), rows are the new axes
    return np.einsum("nij,nkj->nki", R, rel)


def kmeans_hypotheses(
    world: np.ndarray, sizes=SIZES, *, seed: int = 0, max_poses: int = MAX_POSES
) -> dict[int, np.ndarray]:
    """k-means centres of canonicalised training poses, ``{S: (S, 17, 3) float32}``.

    Parameters
    ----------
    world : ndarray, shape (N, 17, 3)
        Training poses, world frame, Z up, metres.
    sizes : iterable of int
        Numbers of centres; sizes above the number of poses are skipped (fewer poses than
        centres cannot be clustered).
    seed : int
        Seeds the subsample and scikit-learn's KMeans.
    max_poses : int
        Cluster at most this many poses (an evenly random subsample) to keep it fast.
    """
    from sklearn.cluster import KMeans

    canon = canonicalise(world)
    rng = np.random.default_rng(seed)
    if len(canon) > max_poses:
        canon = canon[np.sort(rng.choice(len(canon), max_poses, replace=False))]
    flat = canon.reshape(len(canon), -1)
    out = {}
    for S in (s for s in sizes if s <= len(flat)):
        if S == 1:
            centres = flat.mean(0, keepdims=True)
        else:
            km = KMeans(n_clusters=S, random_state=seed, n_init=4).fit(flat)
            # order clusters by size (largest first) so the first centres are the commonest poses
            order = np.argsort(-np.bincount(km.labels_, minlength=S), kind="stable")
            centres = km.cluster_centers_[order]
        c = centres.reshape(S, -1, 3)
        out[int(S)] = (c - c[:, :1]).astype(np.float32)
    return out


def random_hypotheses(world: np.ndarray, S: int, *, seed: int = 0) -> np.ndarray:
    """``S`` random training poses, canonicalised (the paper's Table 7 alternative), (S, 17, 3)."""
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(world), S, replace=len(world) < S)
    return canonicalise(np.asarray(world)[idx]).astype(np.float32)


def training_hypotheses(
    world: np.ndarray, *, weights: np.ndarray | None = None, seed: int = 0
) -> dict[int, np.ndarray]:
    """The initial poses a prior stores: k-means centres ``{S: (S, 17, 3)}`` for :data:`SIZES`
    and :data:`POOL` random training poses under key ``-1``, all canonicalised.

    Parameters
    ----------
    world : ndarray, shape (N, 17, 3)
        Training poses, world frame, Z up, metres.
    weights : ndarray, shape (N,), optional
        Sampling probability of each pose, e.g. the training's source weights
        (:func:`zedo_xr.prior.train.source_weights`): both sets are then computed on
        :data:`MAX_POSES` poses drawn with these weights (with replacement), so a source has the
        share of the start poses that it has of the training batches. With balanced sources this
        puts crawling and lying centres (from small sources) in the pool that one hypothesis
        starts from (``benchmarks/results/generalization.md``). Default: every pose alike.
    seed : int
        Seeds the draw, the subsample and k-means.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> world = rng.normal(size=(300, 17, 3))
    >>> stored = training_hypotheses(world, weights=np.r_[np.zeros(200), np.ones(100)])
    >>> sorted(stored), stored[-1].shape
    ([-1, 1, 5, 10, 20, 50], (256, 17, 3))
    """
    world = np.asarray(world)
    if weights is not None:
        w = np.asarray(weights, dtype=np.float64)
        if w.shape != world.shape[:1] or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
            raise ValueError(
                f"weights: expected {world.shape[0]} finite non-negative numbers with a positive sum, "
                f"got shape {w.shape}"
            )
        rng = np.random.default_rng(seed)
        world = world[rng.choice(len(world), MAX_POSES, replace=True, p=w / w.sum())]
    stored = kmeans_hypotheses(world, seed=seed)
    stored[-1] = random_hypotheses(world, POOL, seed=seed)
    return stored


def canonicalise_camera(poses: np.ndarray) -> np.ndarray:
    """Canonicalise root-relative camera-frame poses (y down), e.g. samples of a prior.

    Camera-frame poses are mapped to a Z-up world (``(x, z, -y)``), then to the canonical frame.
    The body's vertical is then the camera's, so a sample seen from above stays tilted.
    """
    p = np.asarray(poses, dtype=np.float64)
    world = np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)
    return canonicalise(world)


def farthest_point_order(candidates: np.ndarray, chosen: np.ndarray, count: int) -> np.ndarray:
    """Indices of ``count`` candidates picked greedily farthest from ``chosen`` and each other.

    Deterministic (ties go to the lowest index): each pick is the candidate whose nearest
    already-chosen pose is farthest away (mean per-joint distance), so the added poses cover
    what the chosen ones miss. ``candidates`` (M, J, 3), ``chosen`` (K, J, 3), ``count <= M``.
    """
    flat = candidates.reshape(len(candidates), -1, 3).astype(np.float64)
    if len(chosen):
        ref = chosen.reshape(len(chosen), -1, 3).astype(np.float64)
        nearest = np.linalg.norm(flat[:, None] - ref[None], axis=-1).mean(-1).min(1)
    else:
        nearest = np.full(len(flat), np.inf)
    picks = []
    for _ in range(count):
        i = int(np.argmax(nearest))
        picks.append(i)
        nearest = np.minimum(nearest, np.linalg.norm(flat - flat[i], axis=-1).mean(-1))
        nearest[i] = -np.inf
    return np.asarray(picks, dtype=int)


def any_size(stored: dict[int, np.ndarray], S: int) -> tuple[np.ndarray, int]:
    """``S`` k-means initial poses from the stored sets, for any ``S >= 1`` (deterministic).

    - ``S`` stored: that set.
    - ``S`` below the largest stored size: the first ``S`` centres of the smallest stored set
      with at least ``S`` centres (stored sets are ordered by cluster size, largest first, so
      these are the ``S`` commonest poses of that clustering).
    - ``S`` above it: the largest set, then poses of the stored pool of training poses
      (``stored[-1]``) in :func:`farthest_point_order` from it.

    Returns the poses ``(n, J, 3)`` and how many are still missing (``S - n``; more than the
    largest set plus the pool holds), which the caller fills otherwise.
    """
    sizes = sorted(k for k in stored if k > 0)
    if not sizes:
        raise ValueError("hypotheses: this prior stores no k-means initial poses")
    if S in stored:
        return np.asarray(stored[S]), 0
    larger = [k for k in sizes if k > S]
    if larger:
        return np.asarray(stored[larger[0]][:S]), 0
    base = np.asarray(stored[sizes[-1]])
    pool = np.asarray(stored.get(-1, np.zeros((0, *base.shape[1:]), base.dtype)))
    extra = pool[farthest_point_order(pool, base, min(len(pool), S - len(base)))]
    out = np.concatenate([base, extra.astype(base.dtype)])
    return out, S - len(out)
