"""Joint sets, bones, left/right pairs, and name-based mappings between skeletons.

The canonical skeleton is the 17-joint Human3.6M set in the VideoPose3D order, the joint labels
of the data model (:data:`zedo_xr.schema.H36M_JOINTS`, re-exported here).
Other skeletons are converted to it by joint *names*, never by position: every H36M joint is
defined by a recipe over source joint names (a single joint, or the mean of several), and a
joint that the source lacks gets confidence 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import xarray as xr

# The joint labels are part of the data model, so they live in `schema`; they are re-exported
# here beside the H36M tree, pairs and the other skeletons.
from zedo_xr.schema import COORD, H36M_JOINTS, UV, SchemaError, joint_coord, labels

H36M_PARENTS: tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 9, 8, 11, 12, 8, 14, 15)
"""Parent index of every H36M joint (-1 for the pelvis, the root)."""

H36M_BONES: tuple[tuple[int, int], ...] = tuple(
    (parent, child) for child, parent in enumerate(H36M_PARENTS) if parent >= 0
)
"""The 16 (parent, child) index pairs of the H36M tree."""

# Left/right: one rule, :func:`twin`, names a joint's mirror image in every naming style; the
# pairs, the flip permutation and the H36M index lists below are all derived from it.


def side(name: str) -> str | None:
    """``"left"``, ``"right"`` or None for a joint name in any of the known naming styles.

    Understands ``left_*``/``right_*`` (COCO, MediaPipe, SMPL, LSP, 3DHP, H36M), OpenPose's
    ``L*``/``R*`` (``LShoulder``) and MediaPipe's ``mouth_left``/``mouth_right``.

    Examples
    --------
    >>> side("left_knee"), side("RShoulder"), side("MidHip"), side("mouth_left")
    ('left', 'right', None, 'left')
    """
    lower = name.lower()
    for s in ("left", "right"):
        if lower.startswith(s + "_") or lower.endswith("_" + s):
            return s
    if len(name) > 1 and name[0] in "LR" and name[1].isupper():
        return "left" if name[0] == "L" else "right"
    return None


def twin(name: str) -> str | None:
    """The mirror-image name of a sided joint (its side marker swapped, case kept), else None.

    Examples
    --------
    >>> twin("left_knee"), twin("RShoulder"), twin("mouth_left"), twin("LEFT_HIP"), twin("pelvis")
    ('right_knee', 'LShoulder', 'mouth_right', 'RIGHT_HIP', None)
    """
    this = side(name)
    if this is None:
        return None
    other = "right" if this == "left" else "left"
    n = len(this)
    if name.lower().startswith(this + "_"):
        return _like(other, name[:n]) + name[n:]
    if name.lower().endswith("_" + this):
        return name[:-n] + _like(other, name[-n:])
    return ("R" if name[0] == "L" else "L") + name[1:]  # OpenPose's LShoulder / RShoulder


def _like(word: str, model: str) -> str:
    """``word`` in the letter case of ``model`` (``left``, ``Left`` or ``LEFT``)."""
    if model.isupper():
        return word.upper()
    return word.capitalize() if model[0].isupper() else word


def _pairs(joints: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(left, right) pairs among ``joints``, in joint order of the left one."""
    present = set(joints)
    return tuple((j, t) for j in joints if side(j) == "left" and (t := twin(j)) is not None and t in present)


def flip_permutation(joints: tuple[str, ...] = H36M_JOINTS) -> np.ndarray:
    """Index permutation that swaps every left joint with its right twin (see :func:`twin`).

    Examples
    --------
    >>> perm = flip_permutation()
    >>> [H36M_JOINTS[i] for i in perm[:4]]
    ['pelvis', 'left_hip', 'left_knee', 'left_ankle']
    """
    index = {name: i for i, name in enumerate(joints)}
    perm = np.arange(len(joints))
    for left, right in _pairs(tuple(joints)):
        perm[index[left]], perm[index[right]] = index[right], index[left]
    return perm


H36M_LEFT: tuple[int, ...] = tuple(H36M_JOINTS.index(a) for a, _ in _pairs(H36M_JOINTS))
"""Indices of the 6 left H36M joints, in joint order: (4, 5, 6, 11, 12, 13)."""
H36M_RIGHT: tuple[int, ...] = tuple(H36M_JOINTS.index(b) for _, b in _pairs(H36M_JOINTS))
"""Indices of their right twins, pair by pair with :data:`H36M_LEFT`: (1, 2, 3, 14, 15, 16)."""

_BONE_OF_CHILD = {child: i for i, (_, child) in enumerate(H36M_BONES)}
H36M_MIRRORED_BONES: tuple[tuple[int, int], ...] = tuple(
    (_BONE_OF_CHILD[a], _BONE_OF_CHILD[b]) for a, b in zip(H36M_LEFT, H36M_RIGHT, strict=True)
)
"""(left, right) index pairs into :data:`H36M_BONES` of the 6 mirrored limb bones."""


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
    notes
        Why the non-obvious recipes are what they are (shown to users, e.g. in the docs).
    """

    name: str
    joints: tuple[str, ...]
    to_h36m: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: str = ""

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


H36M = Skeleton("h36m17", H36M_JOINTS, {name: (name,) for name in H36M_JOINTS}, "The canonical skeleton.")


# --------------------------------------------------------------------------------------------
# Other skeletons. Joint names are each format's documented names, in its documented order.
# Recipes that are not a plain one-to-one match say why in a comment.
# --------------------------------------------------------------------------------------------

_HIPS = ("left_hip", "right_hip")
_SHOULDERS = ("left_shoulder", "right_shoulder")
_LIMBS = (
    "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
)  # fmt: skip


def _same_names(*names: str) -> dict[str, tuple[str, ...]]:
    return {name: (name,) for name in names}


COCO17_JOINTS: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)  # fmt: skip
"""COCO person keypoints (``categories[0]['keypoints']`` of the COCO annotations)."""

# The torso-only recipes shared by skeletons with hips, shoulders and a nose but no torso joints:
# pelvis = mid-hip, thorax = mid-shoulder, spine = centre of the four torso corners (the mean of
# the pelvis and thorax recipes), neck/nose = nose. The H36M head top has no counterpart among
# eyes and ears (it sits ~10 cm above them), so it stays missing rather than being guessed.
_TORSO_FROM_CORNERS: dict[str, tuple[str, ...]] = {
    "pelvis": _HIPS,
    "spine": _HIPS + _SHOULDERS,
    "thorax": _SHOULDERS,
    "neck": ("nose",),
}

_CORNERS_NOTE = (
    "pelvis = mean(hips); thorax = mean(shoulders); spine = mean(hips, shoulders); "
    "neck/nose = nose; head top missing (no joint above the eyes and ears)."
)
COCO17 = Skeleton("coco17", COCO17_JOINTS, {**_same_names(*_LIMBS), **_TORSO_FROM_CORNERS}, _CORNERS_NOTE)

MEDIAPIPE33_JOINTS: tuple[str, ...] = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer",
    "right_eye_inner", "right_eye", "right_eye_outer", "left_ear", "right_ear",
    "mouth_left", "mouth_right", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_pinky", "right_pinky", "left_index", "right_index",
    "left_thumb", "right_thumb", "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle", "left_heel", "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip
"""MediaPipe Pose landmarks 0-32 (``PoseLandmark`` enum names, lower case)."""

# Same choices as COCO-17 (MediaPipe's hips, shoulders and nose play the same roles).
MEDIAPIPE33 = Skeleton(
    "mediapipe33",
    MEDIAPIPE33_JOINTS,
    {**_same_names(*_LIMBS), **_TORSO_FROM_CORNERS},
    _CORNERS_NOTE,
)

OPENPOSE25_JOINTS: tuple[str, ...] = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle",
    "REye", "LEye", "REar", "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe",
    "RHeel",
)  # fmt: skip
"""OpenPose BODY_25 keypoints, names as in OpenPose's ``poseParameters`` (output doc)."""

# OpenPose's "Neck" is the mid-shoulder point (H36M thorax) and "MidHip" the mid-hip point
# (H36M pelvis); the spine is their mean. Neck/nose = Nose; no head top (as for COCO).
OPENPOSE25 = Skeleton(
    "openpose25",
    OPENPOSE25_JOINTS,
    {
        "pelvis": ("MidHip",),
        "right_hip": ("RHip",),
        "right_knee": ("RKnee",),
        "right_ankle": ("RAnkle",),
        "left_hip": ("LHip",),
        "left_knee": ("LKnee",),
        "left_ankle": ("LAnkle",),
        "spine": ("MidHip", "Neck"),
        "thorax": ("Neck",),
        "neck": ("Nose",),
        "left_shoulder": ("LShoulder",),
        "left_elbow": ("LElbow",),
        "left_wrist": ("LWrist",),
        "right_shoulder": ("RShoulder",),
        "right_elbow": ("RElbow",),
        "right_wrist": ("RWrist",),
    },
    "pelvis = MidHip; thorax = Neck (the mid-shoulder point); spine = mean(MidHip, Neck); "
    "neck/nose = Nose; head top missing.",
)

SMPL24_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
"""SMPL's 24 kinematic joints in SMPL order (``smplx.joint_names``, with SMPL's hands)."""

# SMPL joints are rotation centres, not surface landmarks, so some matches are approximate:
# spine2 sits about a quarter-torso above the pelvis, at H36M's spine; SMPL's neck joint is the
# base of the neck (H36M thorax); SMPL's head joint is the head's rotation centre, at about
# nose height (H36M neck/nose). SMPL has no head-top joint (it needs a mesh vertex): missing.
SMPL24 = Skeleton(
    "smpl24",
    SMPL24_JOINTS,
    {
        **_same_names("pelvis", *_LIMBS),
        "spine": ("spine2",),
        "thorax": ("neck",),
        "neck": ("head",),
    },
    "spine = spine2 (a quarter-torso above the pelvis); thorax = neck (base of the neck); "
    "neck/nose = head (the head's rotation centre, about nose height); head top missing "
    "(SMPL has no head-top joint).",
)

LSP14_JOINTS: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "right_wrist", "right_elbow", "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
    "neck", "head_top",
)  # fmt: skip
"""Leeds Sports Pose joints (README order: "Right ankle" ... "Neck", "Head top")."""

# Pelvis, spine and thorax from hips and shoulders as for COCO. LSP's "neck" point lies at the
# top of the neck under the chin, the closest LSP joint to H36M's neck/nose (a few cm lower).
LSP14 = Skeleton(
    "lsp14",
    LSP14_JOINTS,
    {
        **_same_names(*_LIMBS),
        "pelvis": _HIPS,
        "spine": _HIPS + _SHOULDERS,
        "thorax": _SHOULDERS,
        "neck": ("neck",),
        "head": ("head_top",),
    },
    "pelvis = mean(hips); thorax = mean(shoulders); spine = mean(hips, shoulders); "
    "neck/nose = neck (LSP's upper-neck point, a few cm below the nose); head = head_top.",
)

MPI_INF_3DHP17_JOINTS: tuple[str, ...] = (
    "head_top", "neck", "right_shoulder", "right_elbow", "right_wrist",
    "left_shoulder", "left_elbow", "left_wrist", "right_hip", "right_knee", "right_ankle",
    "left_hip", "left_knee", "left_ankle", "pelvis", "spine", "head",
)  # fmt: skip
"""MPI-INF-3DHP test-set joints (``mpii_get_joint_set('relevant')`` order)."""

# The 3DHP test set annotates the H36M joints under other names: its "neck" is the neck base
# (H36M thorax) and its "head" the head centre (H36M neck/nose), the usual 3DHP<->H36M mapping.
MPI_INF_3DHP17 = Skeleton(
    "mpi_inf_3dhp17",
    MPI_INF_3DHP17_JOINTS,
    {
        **_same_names("pelvis", "spine", *_LIMBS),
        "thorax": ("neck",),
        "neck": ("head",),
        "head": ("head_top",),
    },
    "thorax = neck (3DHP's neck base); neck/nose = head (3DHP's head centre); "
    "head = head_top; the rest by name.",
)

SKELETONS: dict[str, Skeleton] = {
    s.name: s for s in (H36M, COCO17, MEDIAPIPE33, OPENPOSE25, SMPL24, LSP14, MPI_INF_3DHP17)
}
"""Every known skeleton by name."""

_ALIASES = {
    "h36m": "h36m17", "coco": "coco17", "mediapipe": "mediapipe33", "openpose": "openpose25",
    "body25": "openpose25", "smpl": "smpl24", "lsp": "lsp14", "3dhp": "mpi_inf_3dhp17",
    "mpi_inf_3dhp": "mpi_inf_3dhp17",
}  # fmt: skip

# --------------------------------------------------------------------------------------------
# Detector and dataset layouts met in the wild: AlphaPose (Halpe), COCO-WholeBody, and the
# layouts VideoPose3D writes (humaneva15, humaneva20, mpii; its 'coco' layout is COCO-17).
# --------------------------------------------------------------------------------------------

_FEET = (
    "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe", "left_heel", "right_heel",
)  # fmt: skip
HALPE26_JOINTS: tuple[str, ...] = (*COCO17_JOINTS, "head", "neck", "hip", *_FEET)
"""Halpe full-body keypoints 0-25 (AlphaPose's default output): COCO-17, then Head (top),
Neck, Hip (mid-hip) and six foot points, named in COCO's style."""

# Halpe annotates the head top, the neck base and the mid-hip, which are H36M's head, thorax and
# pelvis (the same choices as MotionBERT's in-the-wild pipeline); spine = mean(hip, neck).
_HALPE_RECIPE: dict[str, tuple[str, ...]] = {
    **_same_names(*_LIMBS),
    "pelvis": ("hip",),
    "spine": ("hip", "neck"),
    "thorax": ("neck",),
    "neck": ("nose",),
    "head": ("head",),
}
_HALPE_NOTE = (
    "pelvis = hip; thorax = neck (Halpe's neck base); spine = mean(hip, neck); neck/nose = nose; "
    "head = head (Halpe's head top)."
)
HALPE26 = Skeleton("halpe26", HALPE26_JOINTS, _HALPE_RECIPE, _HALPE_NOTE)

_FACE68 = tuple(f"face_{i}" for i in range(68))
_HANDS21 = tuple(f"{s}_hand_{i}" for s in ("left", "right") for i in range(21))
HALPE136 = Skeleton("halpe136", (*HALPE26_JOINTS, *_FACE68, *_HANDS21), _HALPE_RECIPE, _HALPE_NOTE)
"""Halpe-136 (AlphaPose's full-body model): Halpe-26, 68 face and 2 x 21 hand points."""

COCO_WHOLEBODY133_JOINTS: tuple[str, ...] = (
    *COCO17_JOINTS,
    "left_big_toe", "left_small_toe", "left_heel", "right_big_toe", "right_small_toe",
    "right_heel", *_FACE68, *_HANDS21,
)  # fmt: skip
"""COCO-WholeBody: COCO-17, 6 foot, 68 face and 2 x 21 hand keypoints (its documented order)."""
COCO_WHOLEBODY133 = Skeleton(
    "coco_wholebody133",
    COCO_WHOLEBODY133_JOINTS,
    COCO17.to_h36m,
    "The body is COCO-17 (same recipes); feet, face and hands are not used.",
)

HUMANEVA15_JOINTS: tuple[str, ...] = (
    "pelvis", "thorax", "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist", "left_hip", "left_knee", "left_ankle",
    "right_hip", "right_knee", "right_ankle", "head",
)  # fmt: skip
"""HumanEva-I 15-joint skeleton in VideoPose3D's order (``layout_name 'humaneva15'``)."""

# VideoPose3D's conversion (ConvertHumanEva.m): pelvis = torso distal end, thorax = mean of the
# torso's and the head's proximal ends (the neck base), head = the head's distal end (its top).
# There is no nose-height joint, so H36M's neck/nose stays missing.
HUMANEVA15 = Skeleton(
    "humaneva15",
    HUMANEVA15_JOINTS,
    {
        **_same_names("pelvis", "thorax", *_LIMBS),
        "spine": ("pelvis", "thorax"),
        "head": ("head",),
    },
    "spine = mean(pelvis, thorax); head = head (the head segment's distal end, its top); neck/nose missing.",
)

HUMANEVA20_JOINTS: tuple[str, ...] = (
    "pelvis", "torso_proximal", "head_proximal",
    "left_shoulder", "left_upper_arm_distal", "left_lower_arm_proximal", "left_wrist",
    "right_shoulder", "right_upper_arm_distal", "right_lower_arm_proximal", "right_wrist",
    "left_hip", "left_upper_leg_distal", "left_lower_leg_proximal", "left_ankle",
    "right_hip", "right_upper_leg_distal", "right_lower_leg_proximal", "right_ankle",
    "head_distal",
)  # fmt: skip
"""HumanEva-I 20-joint skeleton in VideoPose3D's order (``layout_name 'humaneva20'``): segment
ends, with elbows and knees as two points each."""

# The 15-joint recipes rebuilt from the segment ends: each elbow or knee is the mean of the two
# segment ends that meet there, the thorax the mean of the torso's and head's proximal ends.
HUMANEVA20 = Skeleton(
    "humaneva20",
    HUMANEVA20_JOINTS,
    {
        **_same_names(
            "pelvis",
            "left_shoulder",
            "left_wrist",
            "right_shoulder",
            "right_wrist",
            "left_hip",
            "left_ankle",
            "right_hip",
            "right_ankle",
        ),
        "left_elbow": ("left_upper_arm_distal", "left_lower_arm_proximal"),
        "right_elbow": ("right_upper_arm_distal", "right_lower_arm_proximal"),
        "left_knee": ("left_upper_leg_distal", "left_lower_leg_proximal"),
        "right_knee": ("right_upper_leg_distal", "right_lower_leg_proximal"),
        "thorax": ("torso_proximal", "head_proximal"),
        "spine": ("pelvis", "torso_proximal"),
        "head": ("head_distal",),
    },
    "elbows/knees = mean of the two segment ends; thorax = mean(torso_proximal, head_proximal); "
    "spine = mean(pelvis, torso_proximal); head = head_distal; neck/nose missing.",
)

MPII16_JOINTS: tuple[str, ...] = (
    "right_ankle", "right_knee", "right_hip", "left_hip", "left_knee", "left_ankle",
    "pelvis", "thorax", "upper_neck", "head_top", "right_wrist", "right_elbow",
    "right_shoulder", "left_shoulder", "left_elbow", "left_wrist",
)  # fmt: skip
"""MPII Human Pose joints 0-15 (VideoPose3D's ``'mpii'`` layout of stacked-hourglass output)."""

# MPII's upper neck, like LSP's neck point, is the closest joint to H36M's neck/nose.
MPII16 = Skeleton(
    "mpii16",
    MPII16_JOINTS,
    {
        **_same_names("pelvis", "thorax", *_LIMBS),
        "spine": ("pelvis", "thorax"),
        "neck": ("upper_neck",),
        "head": ("head_top",),
    },
    "spine = mean(pelvis, thorax); neck/nose = upper_neck (a few cm below the nose); head = head_top.",
)

SKELETONS.update({s.name: s for s in (HALPE26, HALPE136, COCO_WHOLEBODY133, HUMANEVA15, HUMANEVA20, MPII16)})
_ALIASES.update(
    {
        "halpe": "halpe26", "alphapose": "halpe26", "wholebody": "coco_wholebody133",
        "coco_wholebody": "coco_wholebody133", "humaneva": "humaneva15", "mpii": "mpii16",
    }
)  # fmt: skip


def get_skeleton(name: str | Skeleton) -> Skeleton:
    """The :class:`Skeleton` called ``name`` (case-insensitive; short aliases such as ``"coco"``).

    Examples
    --------
    >>> get_skeleton("coco17").joints[:3]
    ('nose', 'left_eye', 'right_eye')
    >>> get_skeleton("COCO") is get_skeleton("coco17")
    True
    """
    if isinstance(name, Skeleton):
        return name
    key = str(name).lower().replace("-", "_")
    key = _ALIASES.get(key, key)
    if key not in SKELETONS:
        raise ValueError(
            f"skeleton: unknown name {name!r}; known skeletons are {sorted(SKELETONS)} "
            f"(aliases {sorted(_ALIASES)}), or pass a Skeleton"
        )
    return SKELETONS[key]


def left_right_pairs(skeleton: str | Skeleton = "h36m17") -> tuple[tuple[str, str], ...]:
    """The (left, right) joint-name pairs of a skeleton, in its joint order.

    Examples
    --------
    >>> left_right_pairs()[:2]
    (('left_hip', 'right_hip'), ('left_knee', 'right_knee'))
    >>> left_right_pairs("openpose25")[0]
    ('LShoulder', 'RShoulder')
    """
    return _pairs(get_skeleton(skeleton).joints)


def _joint_names(da, joint_dim: str, skeleton: Skeleton, name: str) -> list[str]:
    if joint_dim not in da.dims:
        raise SchemaError(f"{name}: expected a '{joint_dim}' dim, got dims {tuple(da.dims)}")
    if joint_dim in da.coords:
        names = [str(j) for j in da[joint_dim].values]
        unknown = [j for j in names if j not in skeleton.joints]
        if unknown:
            raise SchemaError(
                f"{name}: joint names {unknown} are not in skeleton {skeleton.name!r}, whose "
                f"joints are {list(skeleton.joints)}"
            )
        return names
    if da.sizes[joint_dim] != len(skeleton.joints):
        raise SchemaError(
            f"{name}: without a '{joint_dim}' coordinate the joints must be the "
            f"{len(skeleton.joints)} of {skeleton.name!r} in order, "
            f"got {da.sizes[joint_dim]} entries"
        )
    return list(skeleton.joints)


def to_h36m(points, skeleton: str | Skeleton, confidence=None, *, joint_dim: str = "joint"):
    """Convert points (2D or 3D, any extra dims) of another skeleton to the H36M-17 joints.

    Each H36M joint is the mean of its recipe's source joints (see :class:`Skeleton`). A joint is
    missing (NaN point, confidence 0) when the skeleton has no recipe for it, or when any of its
    sources is missing: absent from ``points``, non-finite, or with confidence 0 or NaN. The
    confidence of a present joint is the minimum over its sources.

    Parameters
    ----------
    points : xarray.DataArray, dims (..., joint, ...)
        Source points; the joint coordinate names the source joints (any subset, any order), or
        is absent and the joint axis is the skeleton's full joint list in order. Spatial dims
        (``uv`` or ``coord``) are the dims that ``confidence`` lacks, or ``uv``/``coord``.
    skeleton : str or Skeleton
        Source skeleton, e.g. ``"coco17"`` (see :data:`SKELETONS`).
    confidence : xarray.DataArray, dims (..., joint), optional
        Source confidences in [0, 1]; default 1 where a point is finite, else 0.
    joint_dim : str
        Name of the joint dim.

    Returns
    -------
    points : xarray.DataArray
        Same dims as the input, with the joint dim holding the 17 H36M joints in order.
    confidence : xarray.DataArray
        Same dims without the spatial dims; 0 for missing joints.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> kp = xr.DataArray(np.random.default_rng(0).uniform(0, 500, (2, 17, 2)),
    ...                   dims=("frame", "joint", "uv"), coords={"joint": list(COCO17_JOINTS)})
    >>> h36m, conf = to_h36m(kp, "coco17")
    >>> h36m.sizes["joint"], conf.sel(joint="head").values.tolist()
    (17, [0.0, 0.0])
    >>> hips = kp.sel(joint=["left_hip", "right_hip"])
    >>> bool(np.allclose(h36m.sel(joint="pelvis"), hips.mean("joint")))
    True
    """
    skel = get_skeleton(skeleton)
    names = _joint_names(points, joint_dim, skel, "points")
    points = points.drop_vars([c for c in points.coords if joint_dim in points[c].dims])
    if confidence is None:
        spatial = [d for d in points.dims if d in (UV, COORD)]
    else:
        conf_names = _joint_names(confidence, joint_dim, skel, "confidence")
        if conf_names != names:
            raise SchemaError(f"confidence: expected the joints of points {names}, got {conf_names}")
        spatial = [d for d in points.dims if d not in confidence.dims]
        confidence = confidence.drop_vars([c for c in confidence.coords if joint_dim in confidence[c].dims])
    valid = np.isfinite(points).all(spatial) if spatial else np.isfinite(points)
    conf = valid.astype(float) if confidence is None else confidence.fillna(0.0).where(valid, 0.0)
    present = conf > 0
    index = {n: i for i, n in enumerate(names)}

    out_points, out_conf = [], []
    template = points.isel({joint_dim: 0}, drop=True)
    for target in H36M_JOINTS:
        recipe = skel.to_h36m.get(target, ())
        if not recipe or any(s not in index for s in recipe):
            out_points.append(xr.full_like(template, np.nan, dtype=float))
            out_conf.append(xr.zeros_like(conf.isel({joint_dim: 0}, drop=True), dtype=float))
            continue
        sel = {joint_dim: [index[s] for s in recipe]}
        good = present.isel(sel).all(joint_dim)
        out_points.append(points.isel(sel).mean(joint_dim, skipna=False).where(good))
        out_conf.append(conf.isel(sel).min(joint_dim).where(good, 0.0))
    coord = {joint_dim: joint_coord()}
    new_points = xr.concat(out_points, dim=joint_dim).assign_coords(coord)
    new_conf = xr.concat(out_conf, dim=joint_dim).assign_coords(coord)
    new_points = new_points.transpose(*points.dims).assign_attrs(points.attrs)
    new_conf = new_conf.transpose(*[d for d in points.dims if d in new_conf.dims])
    new_points.attrs["source_skeleton"] = skel.name
    new_points.name = points.name
    new_conf.name = "confidence"
    return new_points, new_conf


H36M_BONE_NAMES: tuple[str, ...] = tuple(f"{H36M_JOINTS[p]}-{H36M_JOINTS[c]}" for p, c in H36M_BONES)
"""Labels of the 16 H36M bones, ``"parent-child"``, in :data:`H36M_BONES` order."""


def bone_lengths_tensor(pose):
    """Length of each H36M bone of torch poses, ``(*, 17, 3) -> (*, 16)``, in :data:`H36M_BONES` order.

    The kernel behind training, augmentation and sequence lifting (joints by index, in the
    H36M order); :func:`bone_lengths` is the labelled xarray edge.

    Examples
    --------
    >>> import torch
    >>> pose = torch.zeros(2, 17, 3)
    >>> pose[:, 1, 0] = 0.12  # right hip 12 cm along x
    >>> bone_lengths_tensor(pose)[:, 0]
    tensor([0.1200, 0.1200])
    """
    if tuple(pose.shape[-2:]) != (len(H36M_JOINTS), 3):
        raise ValueError(f"pose: expected shape (*, {len(H36M_JOINTS)}, 3), got {tuple(pose.shape)}")
    # plain index lists, so this module needs no torch import
    parents = [p for p, _ in H36M_BONES]
    children = [c for _, c in H36M_BONES]
    return (pose[..., children, :] - pose[..., parents, :]).norm(dim=-1)


def bone_lengths(pose, *, joint_dim: str = "joint"):
    """Length of each H36M bone, in the units of ``pose``.

    Parameters
    ----------
    pose : xarray.DataArray, dims (..., joint, coord) or (..., joint, uv)
        H36M-labelled joints (the joint coordinate must contain both ends of every bone).

    Returns
    -------
    xarray.DataArray, dims (..., bone)
        Euclidean lengths, labelled by :data:`H36M_BONE_NAMES`, with ``bone_parent`` and
        ``bone_child`` coordinates. NaN where an end is missing.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> pose = xr.DataArray(np.zeros((17, 3)), dims=("joint", "coord"),
    ...                     coords={"joint": list(H36M_JOINTS)})
    >>> pose[1, 0] = 0.12  # right hip 12 cm along x
    >>> float(bone_lengths(pose).sel(bone="pelvis-right_hip"))
    0.12
    """
    if joint_dim not in pose.coords:
        raise SchemaError(f"pose: expected a '{joint_dim}' coordinate with H36M joint names")
    spatial = [d for d in (COORD, UV) if d in pose.dims]
    if len(spatial) != 1:
        raise SchemaError(
            f"pose: expected exactly one of the dims ('{COORD}', '{UV}'), got {tuple(pose.dims)}"
        )
    names = [str(j) for j in pose[joint_dim].values]
    needed = sorted({H36M_JOINTS[i] for bone in H36M_BONES for i in bone} - set(names))
    if needed:
        raise SchemaError(f"pose: bone lengths need joints {needed}, which are missing")
    parents = labels(H36M_JOINTS[p] for p, _ in H36M_BONES)
    children = labels(H36M_JOINTS[c] for _, c in H36M_BONES)
    bone = xr.DataArray(labels(H36M_BONE_NAMES), dims="bone")
    a = pose.sel({joint_dim: xr.DataArray(parents, dims="bone")}, drop=True)
    b = pose.sel({joint_dim: xr.DataArray(children, dims="bone")}, drop=True)
    out = np.sqrt(((b - a) ** 2).sum(spatial[0], skipna=False))
    return out.assign_coords(
        bone=bone.values,
        bone_parent=("bone", parents),
        bone_child=("bone", children),
    ).rename("bone_length")


def skeleton_of(names) -> Skeleton:
    """The known skeleton with the fewest joints that has every joint name in ``names``.

    The smallest one is the intended one: COCO-17 names are also part of Halpe-26 and
    COCO-WholeBody, whose recipes need joints that COCO-17 keypoints lack.

    Examples
    --------
    >>> skeleton_of(["nose", "left_hip", "right_hip"]).name
    'coco17'
    >>> skeleton_of(["pelvis", "thorax"]).name
    'h36m17'
    """
    wanted = {str(n) for n in names}
    matches = [s for s in SKELETONS.values() if wanted <= set(s.joints)]
    if not matches:
        from zedo_xr.schema import SchemaError

        raise SchemaError(
            f"keypoint names: expected the joint names of a known skeleton "
            f"({sorted(SKELETONS)}), got {sorted(wanted)[:8]}{' ...' if len(wanted) > 8 else ''}; "
            "name the skeleton (zedo_xr.io.from_movement(ds, skeleton=...)) or rename the keypoints"
        )
    return min(matches, key=lambda s: (s.name != "h36m17", len(s.joints)))
