"""Pose-space augmentation for training the prior: poses that no training source shows.

Everything works on batched torch tensors ``(B, 17, 3)`` (H36M joint order) on the poses' device,
and draws its randomness from a caller's seeded :class:`torch.Generator`, so a training step is
reproducible from ``(seed, step)`` alone.

Augmentations (each behind its own setting of :class:`Augmentation`, all off by default):

- :func:`repose` (``kinematic``): re-pose the legs, the arms and the spine in a joint-angle
  representation, within human ranges of motion (:data:`RANGES`), keeping every bone length. A
  standing pose can become seated, crouched, kneeling or lunging; when the hips flex, the whole
  body may lean forward (the torso balancing over the feet).
- :func:`recombine` (``recombine``): the lower body of one pose with the upper body of another,
  joined at the first pose's pelvis frame, the donor's upper body scaled to the first pose's trunk.
- :func:`jitter_joint_definitions` (``joint_jitter``): move the spine, neck, head and shoulder
  joints as the sources' different joint definitions do (see :data:`DEFINITION_SPREAD`).
- :func:`bone_length_factors` + :func:`scale_bones` (``bone_length_std``): symmetric log-normal
  bone lengths.
- :func:`plausible`: the checks every augmented pose must pass (no limb through the trunk, left
  limbs stay on the left, bone lengths kept); :func:`augment` returns the input pose wherever an
  augmented one fails them, so nothing implausible reaches training.
- :func:`camera_views`: world poses seen through random cameras of the evaluation distribution.

Cost: about 40 ms per batch of 256 poses with kinematic, recombination and joint jitter on
(measured on one thread of the shared 2-core CPU that trains the priors here), against
0.17 s for a training step of a width-512 network on that CPU when idle (the augmentations are
many small tensor operations on ``(B, 3)`` vectors).

Frames. World poses are Z up. Body frames are built per pose from its joints: ``right`` (the hip
or shoulder line, towards the subject's right), ``up`` (pelvis -> thorax, made orthogonal to
``right``) and ``forward = up x right``, so they follow the pose whatever its heading or tilt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from zedo_xr.camera import quaternion_matrix, rotate_about, world_to_camera

Tensor = torch.Tensor

# H36M joint indices
PELVIS, R_HIP, R_KNEE, R_ANKLE, L_HIP, L_KNEE, L_ANKLE = 0, 1, 2, 3, 4, 5, 6
SPINE, THORAX, NECK, HEAD = 7, 8, 9, 10
L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST = 11, 12, 13, 14, 15, 16
UPPER = (SPINE, THORAX, NECK, HEAD, L_SHOULDER, L_ELBOW, L_WRIST, R_SHOULDER, R_ELBOW, R_WRIST)
ABOVE_SPINE = UPPER[1:]
LEGS = ((R_HIP, R_KNEE, R_ANKLE, 1.0), (L_HIP, L_KNEE, L_ANKLE, -1.0))
ARMS = ((R_SHOULDER, R_ELBOW, R_WRIST, 1.0), (L_SHOULDER, L_ELBOW, L_WRIST, -1.0))

RANGES: dict[str, tuple[float, float]] = {
    "hip_flexion": (-30.0, 120.0),
    "hip_abduction": (-10.0, 45.0),
    "hip_rotation": (-45.0, 45.0),
    "knee_flexion": (0.0, 150.0),
    "shoulder_elevation": (0.0, 160.0),
    "shoulder_plane": (-40.0, 130.0),
    "shoulder_extension_elevation": (0.0, 60.0),
    "shoulder_internal_rotation": (-90.0, 70.0),
    "elbow_flexion": (0.0, 150.0),
    "trunk_flexion": (-25.0, 60.0),
    "trunk_lateral_bend": (-30.0, 30.0),
    "trunk_rotation": (-40.0, 40.0),
}
"""Sampled joint angles, degrees (``(low, high)``; negative = the opposite motion).

Source: the normal ranges of joint motion of the American Academy of Orthopaedic Surgeons,
*Joint Motion: Method of Measuring and Recording* (AAOS, 1965; reprinted in Greene & Heckman,
*The Clinical Measurement of Joint Motion*, AAOS 1994), neutral-zero convention:

- hip: flexion 120, extension 30, abduction 45, adduction 30, internal and external rotation 45.
  Adduction is cut to 10 here so that re-posed legs never cross (crossed legs exist in the data;
  the augmentation does not invent them, so ``left stays left`` can be checked).
- knee: flexion 135 (active). 150 is allowed because passive flexion (kneeling, sitting on the
  heels, a deep squat) goes past the active range; never hyperextension.
- shoulder: flexion 180, extension 60, abduction 180, internal rotation 70, external rotation 90.
  Parametrised as an elevation of the upper arm from hanging (0-160, capped below 180 where the
  rotation that carries the elbow's bending direction becomes singular) in a plane of elevation
  (0 = abduction in the frontal plane, 90 = flexion forward, 130 = across the body, -40 = behind
  the frontal plane, where elevation stops at the 60 of extension).
- elbow: flexion 150, never hyperextension.
- thoracolumbar spine: flexion 80, extension 25, lateral bending 35, rotation 45. The H36M trunk
  has one joint (``spine``), so a bend there stands for the whole spine; flexion is sampled to 60
  (the hips add the rest when bending over) and lateral bending to 30.
"""

POSTURE: dict[str, tuple[float, float]] = {"hip_flexion": (30.0, 120.0), "knee_per_hip": (0.8, 1.3)}
"""The seated and crouched postures of :func:`_legs`: hip flexion (degrees) and the knee's
flexion as a multiple of it. Sitting on a chair is about 90/90 (ratio 1), a deep squat 120/150
(1.25), sitting on a high stool or perching 30-60 with the knees a little less bent (0.8)."""

DEFINITION_SPREAD = {"spine": 0.10, "neck": 0.40, "head": 0.30, "shoulders": 0.15, "hips": 0.35}
"""Joint-definition jitter at ``joint_jitter=1``, from the training sources' medians:

- ``spine``: its position along pelvis -> thorax, as a fraction of that length, moves by up to
  +-0.10 (sources: 0.49 cmu_iclone, 0.51-0.55 CMU/DeepMimic/climbing, 0.67 HDM05);
- ``neck``: the thorax -> neck vector scales by ``exp(+-0.40)`` (7.8 cm cmu_iclone to 17.5 cm HDM05);
- ``head``: the neck -> head vector scales by ``exp(+-0.30)`` (9 cm HDM05/CMU to 16 cm cmu_iclone);
- ``shoulders``: thorax -> shoulder vectors scale by ``exp(+-0.15)`` (16-23 cm), arms follow;
- ``hips``: pelvis -> hip vectors scale by ``exp(+-0.35)`` (hip joint centres 13 cm apart in
  Bandai-1, 17-20 cm in CMU/DeepMimic/climbing/cmu_iclone, 28 cm in HDM05), legs follow.
"""

TORSO_RADIUS = 0.5
"""Trunk radius for :func:`plausible`, as a fraction of the hip width (hip joint to hip joint).

A capsule of that radius around pelvis -> thorax stands for the trunk; about 9 cm for adults,
so a hand resting on the belly (10-12 cm in front of the spine line) is still allowed."""


@dataclass(frozen=True)
class Augmentation:
    """Which pose-space augmentations training applies (all off: the poses as recorded).

    Attributes
    ----------
    kinematic : float
        Probability that each part (legs, arms, trunk) of a pose is re-posed by :func:`repose`.
    recombine : float
        Probability that a pose's upper body is replaced by another pose's (:func:`recombine`).
    joint_jitter : float
        Scale of :func:`jitter_joint_definitions` (1 = the spread between the sources).
    bone_length_std : float
        Log-normal std of the symmetric bone-length factors (:func:`bone_length_factors`).
    """

    kinematic: float = 0.0
    recombine: float = 0.0
    joint_jitter: float = 0.0
    bone_length_std: float = 0.0

    def __post_init__(self) -> None:
        for name in ("kinematic", "recombine"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name}: expected a probability in [0, 1], got {value!r}")
        for name in ("joint_jitter", "bone_length_std"):
            value = getattr(self, name)
            if not value >= 0.0:
                raise ValueError(f"{name}: expected a number >= 0, got {value!r}")

    @property
    def in_world(self) -> bool:
        """Whether any augmentation of world poses (before the camera) is on."""
        return self.kinematic > 0 or self.recombine > 0 or self.joint_jitter > 0


# ----------------------------------------------------------------------------- vector helpers


def _unit(v: Tensor) -> Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-9)


def _dot(a: Tensor, b: Tensor) -> Tensor:
    return (a * b).sum(-1, keepdim=True)


def _rotate(v: Tensor, axis: Tensor, angle: Tensor) -> Tensor:
    """:func:`zedo_xr.camera.rotate_about` batch first: ``v`` (B, ..., 3), ``axis`` (B, 3), ``angle`` (B,)."""
    shape = (-1,) + (1,) * (v.ndim - 2)
    return rotate_about(v, axis.reshape((*shape, 3)), angle.reshape(shape))


def _carry(v: Tensor, start: Tensor, end: Tensor) -> Tensor:
    """Apply the smallest rotation taking unit ``start`` to unit ``end`` to ``v`` (all (B, 3))."""
    k = torch.cross(start, end, dim=-1)
    c = _dot(start, end).clamp_min(-1 + 1e-4)
    kv = torch.cross(k, v, dim=-1)
    return v + kv + torch.cross(k, kv, dim=-1) / (1 + c)


def body_frame(pose: Tensor, right: int, left: int, low: int = PELVIS, high: int = THORAX):
    """Per-pose ``(right, up, forward)`` unit vectors, each (B, 3).

    ``right`` points from joint ``left`` to joint ``right``; ``up`` is ``low -> high`` made
    orthogonal to it; ``forward = up x right`` (the way the subject faces).
    """
    r = _unit(pose[:, right] - pose[:, left])
    up = pose[:, high] - pose[:, low]
    u = _unit(up - _dot(up, r) * r)
    return r, u, torch.cross(u, r, dim=-1)


def _uniform(n: int, name: str, generator: torch.Generator, like: Tensor) -> Tensor:
    lo, hi = RANGES[name]
    u = torch.rand(n, generator=generator, device=like.device, dtype=like.dtype)
    return torch.deg2rad(lo + (hi - lo) * u)


# ----------------------------------------------------------------------------- limbs


def _limb(pose: Tensor, joints, proximal: Tensor, bend_side: Tensor, twist: Tensor, bend: Tensor) -> Tensor:
    """Place one limb: its upper bone along ``proximal``, the lower bent by ``bend`` radians.

    ``bend_side`` (orthogonal to ``proximal``) is where the lower bone bends to at zero axial
    rotation of the limb (backwards for a knee, forwards for an elbow); it is turned about the
    upper bone by ``twist`` first. Bending only ever goes towards that side, so knees and elbows
    never bend the wrong way. Bone lengths are kept.
    """
    root, mid, end = joints[:3]
    upper = (pose[:, mid] - pose[:, root]).norm(dim=-1, keepdim=True)
    lower = (pose[:, end] - pose[:, mid]).norm(dim=-1, keepdim=True)
    side = _rotate(bend_side, proximal, twist)
    distal = torch.cos(bend)[:, None] * proximal + torch.sin(bend)[:, None] * side
    out = pose.clone()
    out[:, mid] = pose[:, root] + upper * proximal
    out[:, end] = out[:, mid] + lower * distal
    return out


def set_leg(
    pose: Tensor, leg: int, hip_flexion: Tensor, abduction: Tensor, rotation: Tensor, knee_flexion: Tensor
) -> Tensor:
    """Place one leg (``leg`` 0: right, 1: left) at the given joint angles (radians, each (B,)).

    Angles are in the pelvis frame (:func:`body_frame`): hip flexion moves the thigh from
    hanging along ``-up`` towards ``forward``, abduction away from the midline, the hip's axial
    rotation (external for a positive angle) swings the bent shin sideways, and the knee bends
    the shin backwards. Bone lengths and the hip joint stay.

    Examples
    --------
    >>> import math, torch
    >>> from zedo_xr.prior.augment import set_leg
    >>> pose = torch.zeros(1, 17, 3); pose[0, 8, 2] = 0.5          # thorax above the pelvis
    >>> pose[0, 1, 0], pose[0, 4, 0] = 0.1, -0.1                    # right hip at +x
    >>> pose[0, 2], pose[0, 3] = torch.tensor([0.1, 0, -0.4]), torch.tensor([0.1, 0, -0.8])
    >>> right_angle, zero = torch.tensor([math.pi / 2]), torch.zeros(1)
    >>> seated = set_leg(pose, 0, right_angle, zero, zero, right_angle)
    >>> [round(float(v), 3) for v in seated[0, 2]], [round(float(v), 3) for v in seated[0, 3]]
    ([0.1, 0.4, 0.0], [0.1, 0.4, -0.4])
    """
    joints = LEGS[leg]
    side = joints[3]
    r, u, f = body_frame(pose, R_HIP, L_HIP)
    cos_h, sin_h = torch.cos(hip_flexion)[:, None], torch.sin(hip_flexion)[:, None]
    # abduction in the frontal plane, then flexion about the hip axis (``right``): the thigh
    # ends at cos(a) (-up cos(h) + forward sin(h)) + sin(a) side, and the knee's bending side
    # (backwards, -forward, when hanging) turns with the flexion only
    sagittal = -u * cos_h + f * sin_h
    proximal = torch.cos(abduction)[:, None] * sagittal + torch.sin(abduction)[:, None] * side * r
    backwards = -f * cos_h - u * sin_h
    return _limb(pose, joints, proximal, backwards, side * rotation, knee_flexion)


def _legs(pose: Tensor, generator: torch.Generator) -> Tensor:
    """Both legs re-posed at random joint angles.

    Half of the poses take a *posture* (:data:`POSTURE`): both legs flexed alike at the hip,
    the knee tied to it (sitting on a chair, on the floor with knees up, crouching, squatting),
    each leg within +-10 degrees of the shared angles. Drawing hip and knee independently would
    make such postures rare (a seated hip-knee pair is ~2 % of the uniform square); the tie
    makes them the half they are of everyday life off the feet. The other half draw each leg on
    its own over :data:`RANGES` (lunges, steps, kicks, kneeling).
    """
    B, dev, dt = pose.shape[0], pose.device, pose.dtype

    def rand() -> Tensor:
        return torch.rand(B, generator=generator, device=dev, dtype=dt)

    shared = rand() < 0.5
    lo, hi = POSTURE["hip_flexion"]
    hip = math.radians(lo) + math.radians(hi - lo) * rand()
    lo, hi = POSTURE["knee_per_hip"]
    knee = hip * (lo + (hi - lo) * rand())
    base = {"hip_flexion": hip, "knee_flexion": knee}
    for leg in (0, 1):
        angles = {}
        for k in ("hip_flexion", "knee_flexion"):
            lo, hi = (math.radians(a) for a in RANGES[k])
            near = math.radians(10) * (2 * rand() - 1)
            angles[k] = torch.where(shared, (base[k] + near).clamp(lo, hi), _uniform(B, k, generator, pose))
        abduction = _uniform(B, "hip_abduction", generator, pose)
        rotation = _uniform(B, "hip_rotation", generator, pose)
        pose = set_leg(pose, leg, angles["hip_flexion"], abduction, rotation, angles["knee_flexion"])
    return pose


def _arms(pose: Tensor, generator: torch.Generator) -> Tensor:
    B = pose.shape[0]
    r, u, f = body_frame(pose, R_SHOULDER, L_SHOULDER, SPINE, THORAX)
    for joints in ARMS:
        side = joints[3]
        plane = _uniform(B, "shoulder_plane", generator, pose)
        elevation = _uniform(B, "shoulder_elevation", generator, pose)
        behind = _uniform(B, "shoulder_extension_elevation", generator, pose)
        elevation = torch.where(plane < 0, behind, elevation)
        twist = _uniform(B, "shoulder_internal_rotation", generator, pose)
        elbow = _uniform(B, "elbow_flexion", generator, pose)
        lateral = torch.cos(plane)[:, None] * side * r + torch.sin(plane)[:, None] * f
        proximal = _unit(-u * torch.cos(elevation)[:, None] + lateral * torch.sin(elevation)[:, None])
        # internal rotation turns the forearm towards the midline: -right for the right arm
        # the elbow's bending side (forwards when the arm hangs) goes with the arm along the
        # plane of elevation: the smallest rotation from hanging to ``proximal``
        pose = _limb(pose, joints, proximal, _unit(_carry(f, -u, proximal)), -side * twist, elbow)
    return pose


def _trunk(pose: Tensor, generator: torch.Generator) -> Tensor:
    """Bend and twist everything above the spine joint about it."""
    B = pose.shape[0]
    r, u, f = body_frame(pose, R_HIP, L_HIP)
    flexion = _uniform(B, "trunk_flexion", generator, pose)
    lateral = _uniform(B, "trunk_lateral_bend", generator, pose)
    twist = _uniform(B, "trunk_rotation", generator, pose)
    centre = pose[:, SPINE : SPINE + 1]
    v = pose[:, list(ABOVE_SPINE)] - centre
    v = _rotate(v, -r, flexion)  # about -right: up tips towards forward
    v = _rotate(v, f, lateral)
    v = _rotate(v, u, twist)
    out = pose.clone()
    out[:, list(ABOVE_SPINE)] = centre + v
    return out


def _lean(pose: Tensor, generator: torch.Generator) -> Tensor:
    """Tip the whole body about the pelvis's horizontal hip axis, as balance asks.

    Half of the poses stand on their feet: the lean puts the centre of mass (the mean joint)
    straight above the feet (the mean ankle), which is what makes a squat lean over its knees.
    The other half are supported (a chair, the floor) and lean forward by U(0, 20) degrees only.
    The lean stays within -20 (back) and where the trunk would pass 80 degrees from the vertical.
    """
    B, dev, dt = pose.shape[0], pose.device, pose.dtype
    r, u, _ = body_frame(pose, R_HIP, L_HIP)
    vertical = torch.zeros_like(u)
    vertical[:, 2] = 1.0
    axis = _unit(r - _dot(r, vertical) * vertical)
    forward = torch.cross(vertical, axis, dim=-1)
    offset = pose.mean(1) - 0.5 * (pose[:, R_ANKLE] + pose[:, L_ANKLE])
    # a lean by ``a`` moves the offset's forward part to A cos(a) + B sin(a): zero at atan2(-A, B)
    balanced = torch.atan2(-_dot(offset, forward)[:, 0], _dot(offset, vertical)[:, 0].clamp_min(1e-3))
    supported = math.radians(20) * torch.rand(B, generator=generator, device=dev, dtype=dt)
    on_feet = torch.rand(B, generator=generator, device=dev, dtype=dt) < 0.5
    tilt = torch.arccos(_dot(u, vertical)[:, 0].clamp(-1, 1))
    angle = torch.where(on_feet, balanced, supported)
    angle = torch.minimum(angle.clamp_min(math.radians(-20)), (math.radians(80) - tilt).clamp_min(0))
    centre = pose[:, PELVIS : PELVIS + 1]
    return centre + _rotate(pose - centre, -axis, angle)


def repose(pose: Tensor, probability: float, generator: torch.Generator) -> Tensor:
    """Re-pose legs, arms and trunk of world poses within human ranges of motion.

    Parameters
    ----------
    pose : Tensor (B, 17, 3)
        World poses, Z up, metres (H36M joints).
    probability : float
        Each part (trunk, arms, legs) of each pose is re-posed with this probability, its joint
        angles drawn uniformly from :data:`RANGES`. Bone lengths are kept exactly.
    generator : torch.Generator
        On the poses' device.

    Returns
    -------
    Tensor (B, 17, 3)
        Re-posed legs come with a forward lean of the body (see :func:`_lean`).

    Examples
    --------
    >>> import torch
    >>> from zedo_xr.prior.augment import repose
    >>> from zedo_xr.skeleton import bone_lengths_tensor as bone_lengths
    >>> g = torch.Generator().manual_seed(0)
    >>> pose = torch.randn(4, 17, 3)
    >>> moved = repose(pose, 1.0, g)
    >>> bool(torch.allclose(bone_lengths(moved), bone_lengths(pose), atol=1e-5))
    True
    """
    B, dev, dt = pose.shape[0], pose.device, pose.dtype
    pick = torch.rand(B, 3, generator=generator, device=dev, dtype=dt) < probability
    out = torch.where(pick[:, 0, None, None], _trunk(pose, generator), pose)
    out = torch.where(pick[:, 1, None, None], _arms(out, generator), out)
    leaned = _lean(_legs(out, generator), generator)
    return torch.where(pick[:, 2, None, None], leaned, out)


# ----------------------------------------------------------------------------- recombination


def _in_frame(v: Tensor, frame) -> Tensor:
    """Coordinates of vectors ``v`` (B, J, 3) in a body frame."""
    return torch.stack([(v * a[:, None]).sum(-1) for a in frame], dim=-1)


def _from_frame(c: Tensor, frame) -> Tensor:
    return sum(c[..., i : i + 1] * a[:, None] for i, a in enumerate(frame))


def recombine(pose: Tensor, probability: float, generator: torch.Generator) -> Tensor:
    """Give poses the upper body of another pose of the batch, joined at the pelvis frame.

    The donor's upper body (spine and above) is expressed in the donor's pelvis frame, scaled so
    that its pelvis -> thorax length becomes the receiver's, and placed in the receiver's pelvis
    frame. So the lower body and the trunk length stay the receiver's, and the arms keep the
    donor's proportions to its trunk.

    Parameters
    ----------
    pose : Tensor (B, 17, 3)
    probability : float
        Share of poses that get a donor (a random permutation of the batch).
    generator : torch.Generator
    """
    B, dev, dt = pose.shape[0], pose.device, pose.dtype
    donor_index = torch.randperm(B, generator=generator, device=dev)
    use = torch.rand(B, generator=generator, device=dev, dtype=dt) < probability
    donor = pose[donor_index]
    upper = list(UPPER)
    local = _in_frame(donor[:, upper] - donor[:, PELVIS : PELVIS + 1], body_frame(donor, R_HIP, L_HIP))
    trunk = (pose[:, THORAX] - pose[:, PELVIS]).norm(dim=-1)
    donor_trunk = (donor[:, THORAX] - donor[:, PELVIS]).norm(dim=-1).clamp_min(1e-6)
    local = local * (trunk / donor_trunk)[:, None, None]
    out = pose.clone()
    out[:, upper] = pose[:, PELVIS : PELVIS + 1] + _from_frame(local, body_frame(pose, R_HIP, L_HIP))
    return torch.where(use[:, None, None], out, pose)


# ----------------------------------------------------------------------------- joint definitions


def jitter_joint_definitions(pose: Tensor, scale: float, generator: torch.Generator) -> Tensor:
    """Move spine, neck, head and shoulder joints as other sources define them.

    Every pose gets its own draws within ``scale`` times :data:`DEFINITION_SPREAD`: the spine
    slides along pelvis -> thorax, the neck and head bones stretch or shrink along their own
    direction (the head follows the neck), the shoulders move along thorax -> shoulder (the arms
    follow rigidly), the hips move along pelvis -> hip (the legs follow rigidly). Limb bones keep
    their lengths.
    """
    B, dev, dt = pose.shape[0], pose.device, pose.dtype
    u = scale * (2 * torch.rand(B, 5, generator=generator, device=dev, dtype=dt) - 1)
    s = DEFINITION_SPREAD
    out = pose.clone()
    out[:, SPINE] = pose[:, SPINE] + (s["spine"] * u[:, 0])[:, None] * (pose[:, THORAX] - pose[:, PELVIS])
    neck = pose[:, THORAX] + torch.exp(s["neck"] * u[:, 1])[:, None] * (pose[:, NECK] - pose[:, THORAX])
    out[:, NECK] = neck
    out[:, HEAD] = neck + torch.exp(s["head"] * u[:, 2])[:, None] * (pose[:, HEAD] - pose[:, NECK])
    factor = torch.exp(s["shoulders"] * u[:, 3])[:, None]
    for shoulder, elbow, wrist, _ in ARMS:
        shift = (factor - 1) * (pose[:, shoulder] - pose[:, THORAX])
        for j in (shoulder, elbow, wrist):
            out[:, j] = pose[:, j] + shift
    factor = torch.exp(s["hips"] * u[:, 4])[:, None]
    for hip, knee, ankle, _ in LEGS:
        shift = (factor - 1) * (pose[:, hip] - pose[:, PELVIS])
        for j in (hip, knee, ankle):
            out[:, j] = pose[:, j] + shift
    return out


# ----------------------------------------------------------------------------- bone lengths


def bone_length_factors(
    batch: int,
    std: float,
    generator: torch.Generator,
    *,
    twin_index: Tensor,
    device=None,
    dtype=torch.float32,
) -> Tensor:
    """Random log-normal length factors ``exp(std * z)`` per joint's parent bone, shape (batch, J).

    A left bone and its right twin (``twin_index``, the left/right flip permutation) get the same
    factor, so augmented skeletons stay symmetric, as people are. Column 0 (the root) is unused.
    """
    z = torch.randn(batch, len(twin_index), generator=generator, device=device, dtype=dtype)
    own = torch.arange(len(twin_index), device=twin_index.device)
    z = z[:, torch.minimum(own, twin_index).to(z.device)]
    return torch.exp(std * z)


def scale_bones(pose: Tensor, factors: Tensor, parents: tuple[int, ...] | None = None) -> Tensor:
    """Multiply every bone's length by a factor, keeping its direction and the root in place.

    Parameters
    ----------
    pose : Tensor (B, J, 3)
    factors : Tensor (B, J)
        ``factors[:, j]`` scales the bone from ``parents[j]`` to ``j``; the root's entry is ignored.
    parents : tuple of int, optional
        Parent index per joint, every parent before its children (default: the H36M tree).

    Returns
    -------
    Tensor (B, J, 3)
        Rebuilt down the tree, so scaling the thigh also moves the shin and foot with the knee.

    Examples
    --------
    >>> import torch
    >>> from zedo_xr.prior.augment import scale_bones
    >>> pose = torch.randn(2, 17, 3)
    >>> same = scale_bones(pose, torch.ones(2, 17))
    >>> bool(torch.allclose(same, pose, atol=1e-6))
    True
    """
    if parents is None:
        from zedo_xr.skeleton import H36M_PARENTS

        parents = H36M_PARENTS
    if pose.ndim != 3 or pose.shape[-1] != 3 or pose.shape[1] != len(parents):
        raise ValueError(f"pose: expected shape (B, {len(parents)}, 3), got {tuple(pose.shape)}")
    if factors.shape != pose.shape[:2]:
        raise ValueError(f"factors: expected shape {tuple(pose.shape[:2])}, got {tuple(factors.shape)}")
    joints = [pose[:, 0]]
    for child, parent in enumerate(parents):
        if parent < 0:
            continue
        if parent >= child:
            raise ValueError(f"parents: expected every parent before its child, got {parent} -> {child}")
        bone = pose[:, child] - pose[:, parent]
        joints.append(joints[parent] + factors[:, child, None] * bone)
    return torch.stack(joints, dim=1)


# ----------------------------------------------------------------------------- plausibility


def _segment_distance(points: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """Distance of points (B, P, 3) to the segments a-b (B, 3), shape (B, P)."""
    ab = (b - a)[:, None]
    t = (_dot(points - a[:, None], ab) / _dot(ab, ab).clamp_min(1e-12)).clamp(0, 1)
    return (points - (a[:, None] + t * ab)).norm(dim=-1)


def plausible(pose: Tensor) -> Tensor:
    """Which poses pass the physical checks of augmented samples, bool (B,).

    - No limb through the trunk: the elbows, wrists, knees and ankles and the midpoints of the
      limb bones stay outside a capsule around pelvis -> thorax of radius
      :data:`TORSO_RADIUS` times the hip width.
    - Left stays left: the left knee and ankle are left of the right ones in the pelvis frame,
      the left elbow left of the right elbow in the shoulder frame (hands may cross, as in
      folded arms).
    - Finite coordinates.
    """
    radius = TORSO_RADIUS * (pose[:, R_HIP] - pose[:, L_HIP]).norm(dim=-1, keepdim=True)
    limbs = [(a, b) for a, b, c, _ in LEGS + ARMS] + [(b, c) for a, b, c, _ in LEGS + ARMS]
    points = torch.cat(
        [
            pose[:, [b for _, b in limbs]],
            0.5 * (pose[:, [a for a, _ in limbs]] + pose[:, [b for _, b in limbs]]),
        ],
        1,
    )
    clear = (_segment_distance(points, pose[:, PELVIS], pose[:, THORAX]) > radius).all(-1)
    r_hip = body_frame(pose, R_HIP, L_HIP)[0]
    r_sh = body_frame(pose, R_SHOULDER, L_SHOULDER, SPINE, THORAX)[0]
    lateral = [
        (_dot(pose[:, a] - pose[:, b], axis) > 0)[:, 0]
        for a, b, axis in ((R_KNEE, L_KNEE, r_hip), (R_ANKLE, L_ANKLE, r_hip), (R_ELBOW, L_ELBOW, r_sh))
    ]
    finite = torch.isfinite(pose).all(-1).all(-1)
    return clear & lateral[0] & lateral[1] & lateral[2] & finite


def augment(world: Tensor, settings: Augmentation, generator: torch.Generator) -> Tensor:
    """Apply the world-frame augmentations of ``settings`` to a batch of world poses.

    Order: joint-definition jitter, recombination, kinematic re-posing. A pose that fails
    :func:`plausible` after them is replaced by its input, so every output is either a recorded
    pose or a plausible new one. Bone-length scaling is done by the trainer on camera-frame
    poses (it commutes with rotations).

    Parameters
    ----------
    world : Tensor (B, 17, 3)
        World poses, Z up, metres.
    settings : Augmentation
    generator : torch.Generator
        On the poses' device; draws are made in a fixed order, only for the settings that are on.

    Returns
    -------
    Tensor (B, 17, 3)
    """
    out = world
    if settings.joint_jitter > 0:
        out = jitter_joint_definitions(out, settings.joint_jitter, generator)
    if settings.recombine > 0:
        out = recombine(out, settings.recombine, generator)
    if settings.kinematic > 0:
        out = repose(out, settings.kinematic, generator)
    if out is world:
        return world
    return torch.where(plausible(out)[:, None, None], out, world)


# ----------------------------------------------------------------------------- cameras


def camera_views(
    world: Tensor,
    generator: torch.Generator,
    *,
    pitch_range: tuple[float, float] = (0.0, 20.0),
    flip: bool = True,
    rotation_probability: float = 0.0,
    flip_index: Tensor | None = None,
) -> Tensor:
    """World poses ``(B, J, 3)`` (Z up) to root-relative camera-frame poses seen by random cameras.

    Any azimuth, looking down by ``pitch ~ U(pitch_range)`` degrees; flipped left/right with
    probability 1/2 (``flip``); rotated by a uniformly random SO(3) rotation with
    ``rotation_probability`` (the paper's RA). The draws come from ``generator`` (on the poses'
    device), in a fixed order.
    """
    B, dev, dt = world.shape[0], world.device, world.dtype
    u = torch.rand(B, 3, generator=generator, device=dev, dtype=dt)
    azimuth = u[:, 0] * (2 * math.pi)
    lo, hi = (math.radians(a) for a in pitch_range)
    pitch = lo + (hi - lo) * u[:, 1]
    R = world_to_camera(azimuth, pitch)
    x = (world - world[:, :1]) @ R.transpose(-1, -2)
    if flip:
        if flip_index is None:
            from zedo_xr.skeleton import flip_permutation

            flip_index = torch.as_tensor(flip_permutation(), device=dev)
        flipped = x[:, flip_index] * torch.tensor([-1.0, 1.0, 1.0], device=dev, dtype=dt)
        x = torch.where((u[:, 2] < 0.5)[:, None, None], flipped, x)
    if rotation_probability > 0:
        q = torch.randn(B, 4, generator=generator, device=dev, dtype=dt)
        Rr = quaternion_matrix(q)
        use = torch.rand(B, generator=generator, device=dev, dtype=dt) < rotation_probability
        x = torch.where(use[:, None, None], x @ Rr.transpose(-1, -2), x)
    return x
