"""A BVH (Biovision hierarchy) parser and forward kinematics.

Honours the per-joint ``CHANNELS`` count and order (e.g. the Bandai-Namco files give *every*
joint 6 channels), the rotation order of each joint's channel list, and ``End Site`` offsets.
Position channels replace the matching ``OFFSET`` components (the usual reading for roots; for
joints whose position channels repeat their offset it changes nothing).

Forward kinematics: local rotation ``R = R_a1 . R_a2 . R_a3`` in the listed order (intrinsic),
``R_global = R_parent_global . R``, ``p = p_parent + R_parent_global . t_local``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from zedo_xr.camera import axis_rotation, on_numpy

_POSITION = {"Xposition": 0, "Yposition": 1, "Zposition": 2}
_ROTATION = {"Xrotation": "x", "Yrotation": "y", "Zrotation": "z"}


@dataclass(frozen=True)
class BVHJoint:
    """One joint: name, parent index (-1 for a root), offset, channels, end-site offset."""

    name: str
    parent: int
    offset: np.ndarray
    channels: tuple[str, ...]
    channel_start: int
    end_site: np.ndarray | None = None

    @property
    def rotation_order(self) -> str:
        """Rotation axes in channel order, e.g. ``"zxy"``."""
        return "".join(_ROTATION[c] for c in self.channels if c in _ROTATION)


@dataclass(frozen=True)
class BVH:
    """A parsed BVH file.

    Attributes
    ----------
    joints
        Joints in file (depth-first) order; a parent always precedes its children.
    motion : ndarray, shape (frames, channels)
        Channel values of every frame (positions in file units, rotations in degrees).
    frame_time
        Seconds per frame.
    """

    joints: tuple[BVHJoint, ...]
    motion: np.ndarray
    frame_time: float
    path: str = field(default="")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(j.name for j in self.joints)

    @property
    def parents(self) -> np.ndarray:
        return np.array([j.parent for j in self.joints])

    @property
    def offsets(self) -> np.ndarray:
        return np.stack([j.offset for j in self.joints])

    @property
    def n_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"joint: {name!r} not in the BVH joints {list(self.names)}") from None

    def channel_values(self, joint: str, channel: str) -> np.ndarray:
        """Values of one channel (e.g. ``"Zrotation"``) of one joint over all frames."""
        j = self.joints[self.index(joint)]
        if channel not in j.channels:
            raise KeyError(f"channel: joint {joint!r} has channels {j.channels}, not {channel!r}")
        return self.motion[:, j.channel_start + j.channels.index(channel)]

    def forward_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        """Global joint positions and rotations of every frame.

        Returns
        -------
        positions : ndarray, shape (frames, joints, 3)
            In file units and axes.
        rotations : ndarray, shape (frames, joints, 3, 3)
            Global rotation of every joint's frame.
        """
        T, J = self.n_frames, len(self.joints)
        positions = np.empty((T, J, 3))
        rotations = np.empty((T, J, 3, 3))
        for i, joint in enumerate(self.joints):
            values = self.motion[:, joint.channel_start : joint.channel_start + len(joint.channels)]
            t_local = np.broadcast_to(joint.offset, (T, 3)).copy()
            R_local = np.broadcast_to(np.eye(3), (T, 3, 3))
            for k, channel in enumerate(joint.channels):
                if channel in _POSITION:
                    t_local[:, _POSITION[channel]] = values[:, k]
                else:
                    angle = np.radians(values[:, k])
                    R_local = R_local @ on_numpy(axis_rotation, _ROTATION[channel], angle)
            if joint.parent < 0:
                positions[:, i] = t_local
                rotations[:, i] = R_local
            else:
                R_parent = rotations[:, joint.parent]
                positions[:, i] = positions[:, joint.parent] + np.einsum(
                    "tij,tj->ti", R_parent, t_local
                )
                rotations[:, i] = R_parent @ R_local
        return positions, rotations

    def end_site_positions(
        self, positions: np.ndarray, rotations: np.ndarray
    ) -> dict[str, np.ndarray]:
        """Global end-site positions ``{joint name: (frames, 3)}`` from FK results."""
        return {
            j.name: positions[:, i] + np.einsum("tij,j->ti", rotations[:, i], j.end_site)
            for i, j in enumerate(self.joints)
            if j.end_site is not None
        }


class BVHError(ValueError):
    """A malformed BVH file."""


def _parse_hierarchy(tokens: list[str], path: str) -> tuple[list[BVHJoint], int]:
    joints: list[BVHJoint] = []
    stack: list[int] = []  # indices of open joints; -2 marks an open End Site
    pending: dict | None = None
    n_channels = 0
    i = 0
    if not tokens or tokens[0] != "HIERARCHY":
        raise BVHError(f"{path}: expected 'HIERARCHY' at the start")
    i = 1
    end_offset: np.ndarray | None = None
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            if tok == "JOINT" and not stack:
                raise BVHError(f"{path}: JOINT {tokens[i + 1]} outside any ROOT")
            pending = {"name": tokens[i + 1], "parent": stack[-1] if stack else -1}
            i += 2
        elif tok == "End":
            if tokens[i + 1] != "Site":
                raise BVHError(f"{path}: expected 'End Site', got 'End {tokens[i + 1]}'")
            pending = {"end_site": True}
            i += 2
        elif tok == "{":
            if pending is None:
                raise BVHError(f"{path}: '{{' without a joint")
            if pending.get("end_site"):
                stack.append(-2)
            else:
                stack.append(len(joints))
                joints.append(
                    BVHJoint(pending["name"], pending["parent"], np.zeros(3), (), n_channels)
                )
            pending = None
            i += 1
        elif tok == "OFFSET":
            offset = np.array(tokens[i + 1 : i + 4], dtype=float)
            if stack[-1] == -2:
                end_offset = offset
            else:
                j = joints[stack[-1]]
                joints[stack[-1]] = BVHJoint(j.name, j.parent, offset, j.channels, j.channel_start)
            i += 4
        elif tok == "CHANNELS":
            count = int(tokens[i + 1])
            channels = tuple(tokens[i + 2 : i + 2 + count])
            unknown = [c for c in channels if c not in _POSITION and c not in _ROTATION]
            if unknown:
                raise BVHError(f"{path}: unknown channels {unknown}")
            j = joints[stack[-1]]
            joints[stack[-1]] = BVHJoint(j.name, j.parent, j.offset, channels, n_channels)
            n_channels += count
            i += 2 + count
        elif tok == "}":
            closed = stack.pop()
            if closed == -2:
                owner = stack[-1]
                j = joints[owner]
                joints[owner] = BVHJoint(
                    j.name, j.parent, j.offset, j.channels, j.channel_start, end_offset
                )
            i += 1
            if not stack:
                return joints, i
        else:
            raise BVHError(f"{path}: unexpected token {tok!r} in HIERARCHY")
    raise BVHError(f"{path}: unterminated HIERARCHY")


def parse_bvh(text: str, path: str = "<string>") -> BVH:
    """Parse BVH text (see :func:`read_bvh`)."""
    head, sep, motion_text = text.partition("MOTION")
    if not sep:
        raise BVHError(f"{path}: no MOTION section")
    joints, _ = _parse_hierarchy(head.split(), path)
    lines = motion_text.strip().splitlines()
    header = {}
    for line in lines[:2]:
        key, _, value = line.partition(":")
        header[key.strip().lower()] = value.strip()
    if "frames" not in header or "frame time" not in header:
        raise BVHError(f"{path}: expected 'Frames:' and 'Frame Time:' after MOTION")
    n_frames, frame_time = int(header["frames"]), float(header["frame time"])
    n_channels = sum(len(j.channels) for j in joints)
    values = np.array(" ".join(lines[2:]).split(), dtype=float)
    if values.size != n_frames * n_channels:
        raise BVHError(
            f"{path}: expected {n_frames} frames x {n_channels} channels = "
            f"{n_frames * n_channels} values, got {values.size}"
        )
    return BVH(tuple(joints), values.reshape(n_frames, n_channels), frame_time, path)


def read_bvh(path: str | Path) -> BVH:
    """Read a BVH file: hierarchy, offsets, per-joint channels, end sites and motion.

    Examples
    --------
    >>> bvh = read_bvh("tests/fixtures/tiny.bvh")  # doctest: +SKIP
    >>> positions, rotations = bvh.forward_kinematics()  # doctest: +SKIP
    """
    return parse_bvh(Path(path).read_text(), str(path))
