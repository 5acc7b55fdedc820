"""Joint sets, bones, left/right pairs, and name-based mappings between skeletons.

The canonical skeleton is the 17-joint Human3.6M set in the VideoPose3D order (DESIGN.md §1).
Other skeletons are converted to it by joint *names*, never by position: every H36M joint is
defined by a recipe over source joint names (a single joint, or the mean of several), and a
joint that the source lacks gets confidence 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

H36M_JOINTS: tuple[str, ...] = (
    "pelvis",
    "right_hip",
    "right_knee",
    "right_ankle",
    "left_hip",
    "left_knee",
    "left_ankle",
    "spine",
    "thorax",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_wrist",
    "right_shoulder",
    "right_elbow",
    "right_wrist",
)
"""The 17 Human3.6M joints in order. ``neck`` is H36M's neck/nose joint, ``head`` the head top."""

H36M_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
"""Parent index of every H36M joint (-1 for the pelvis, the root)."""

H36M_BONES: tuple[tuple[int, int], ...] = tuple(
    (parent, child) for child, parent in enumerate(H36M_PARENTS) if parent >= 0
)
"""The 16 (parent, child) index pairs of the H36M tree."""

H36M_LEFT: tuple[int, ...] = (4, 5, 6, 11, 12, 13)
H36M_RIGHT: tuple[int, ...] = (1, 2, 3, 14, 15, 16)


def flip_permutation(joints: tuple[str, ...] = H36M_JOINTS) -> np.ndarray:
    """Index permutation that swaps every ``left_*`` joint with its ``right_*`` twin.

    Examples
    --------
    >>> perm = flip_permutation()
    >>> [H36M_JOINTS[i] for i in perm[:4]]
    ['pelvis', 'left_hip', 'left_knee', 'left_ankle']
    """
    index = {name: i for i, name in enumerate(joints)}
    perm = np.arange(len(joints))
    for name, i in index.items():
        for a, b in (("left_", "right_"), ("right_", "left_")):
            if name.startswith(a) and b + name[len(a) :] in index:
                perm[i] = index[b + name[len(a) :]]
    return perm


@dataclass(frozen=True)
class Skeleton:
    """A named joint set and how each H36M joint is made from its joints.

    Parameters
    ----------
    name
        Short identifier, e.g. ``"coco17"``.
    joints
        Joint names of the source skeleton, in array order.
    to_h36m
        For every H36M joint name the source joints whose mean defines it. H36M joints
        absent from the mapping are missing in this skeleton (confidence 0 after conversion).
    """

    name: str
    joints: tuple[str, ...]
    to_h36m: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown_targets = set(self.to_h36m) - set(H36M_JOINTS)
        if unknown_targets:
            raise ValueError(f"{self.name}: unknown H36M joints in mapping: {sorted(unknown_targets)}")
        sources = {s for recipe in self.to_h36m.values() for s in recipe}
        unknown_sources = sources - set(self.joints)
        if unknown_sources:
            raise ValueError(f"{self.name}: mapping uses joints it lacks: {sorted(unknown_sources)}")

    def conversion_matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """Linear map from this skeleton's joints to H36M.

        Returns
        -------
        weights : ndarray, shape (17, n_source)
            Row ``i`` averages the source joints of H36M joint ``i``.
        present : ndarray of bool, shape (17,)
            False where the skeleton cannot provide the H36M joint.
        """
        index = {name: i for i, name in enumerate(self.joints)}
        weights = np.zeros((len(H36M_JOINTS), len(self.joints)))
        present = np.zeros(len(H36M_JOINTS), dtype=bool)
        for i, target in enumerate(H36M_JOINTS):
            recipe = self.to_h36m.get(target, ())
            for source in recipe:
                weights[i, index[source]] = 1.0 / len(recipe)
            present[i] = bool(recipe)
        return weights, present


H36M = Skeleton("h36m17", H36M_JOINTS, {name: (name,) for name in H36M_JOINTS})
