"""A BVH (Biovision hierarchy) parser and forward kinematics.

Honours the per-joint ``CHANNELS`` count and order (e.g. the Bandai-Namco files give *every*
joint 6 channels), the rotation order of each joint's channel list, and ``End Site`` offsets.
Position channels replace the matching ``OFFSET`` components (the usual reading for roots; for
joints whose position channels repeat their offset it changes nothing).

Forward kinematics: local rotation ``R = R_a1 . R_a2 . R_a3`` in the listed order (intrinsic),
``R_global = R_parent_global . R``, ``p = p_parent + R_parent_global . t_local``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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
                positions[:, i] = positions[:, joint.parent] + np.einsum("tij,tj->ti", R_parent, t_local)
                rotations[:, i] = R_parent @ R_local
        return positions, rotations

    def end_site_positions(self, positions: np.ndarray, rotations: np.ndarray) -> dict[str, np.ndarray]:
        """Global end-site positions ``{joint name: (frames, 3)}`` from FK results."""
        return {
            j.name: positions[:, i] + np.einsum("tij,j->ti", rotations[:, i], j.end_site)
            for i, j in enumerate(self.joints)
            if j.end_site is not None
        }


class BVHError(ValueError):
    """A malformed BVH file."""


_END_SITE = -2  # marks an open End Site on the stack of open joints


@dataclass
class _HierarchyParser:
    """The HIERARCHY section, one small handler per keyword (a recursive-descent reading)."""

    tokens: list[str]
    path: str
    joints: list[BVHJoint] = field(default_factory=list)
    stack: list[int] = field(default_factory=list)  # indices of open joints, or _END_SITE
    pending: dict | None = None  # the ROOT/JOINT/End Site announced, waiting for its '{'
    n_channels: int = 0
    end_offset: np.ndarray | None = None
    i: int = 1

    def parse(self) -> tuple[list[BVHJoint], int]:
        if not self.tokens or self.tokens[0] != "HIERARCHY":
            raise BVHError(f"{self.path}: expected 'HIERARCHY' at the start")
        handlers = {
            "ROOT": self._joint,
            "JOINT": self._joint,
            "End": self._end_site,
            "{": self._open,
            "OFFSET": self._offset,
            "CHANNELS": self._channels,
            "}": self._close,
        }
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            if tok not in handlers:
                raise BVHError(f"{self.path}: unexpected token {tok!r} in HIERARCHY")
            handlers[tok]()
            if tok == "}" and not self.stack:
                return self.joints, self.i
        raise BVHError(f"{self.path}: unterminated HIERARCHY")

    def _update(self, index: int, **changes) -> None:
        self.joints[index] = replace(self.joints[index], **changes)

    def _joint(self) -> None:
        kind, name = self.tokens[self.i], self.tokens[self.i + 1]
        if kind == "JOINT" and not self.stack:
            raise BVHError(f"{self.path}: JOINT {name} outside any ROOT")
        self.pending = {"name": name, "parent": self.stack[-1] if self.stack else -1}
        self.i += 2

    def _end_site(self) -> None:
        if self.tokens[self.i + 1] != "Site":
            raise BVHError(f"{self.path}: expected 'End Site', got 'End {self.tokens[self.i + 1]}'")
        self.pending = {"end_site": True}
        self.i += 2

    def _open(self) -> None:
        if self.pending is None:
            raise BVHError(f"{self.path}: '{{' without a joint")
        if self.pending.get("end_site"):
            self.stack.append(_END_SITE)
        else:
            self.stack.append(len(self.joints))
            name, parent = self.pending["name"], self.pending["parent"]
            self.joints.append(BVHJoint(name, parent, np.zeros(3), (), self.n_channels))
        self.pending = None
        self.i += 1

    def _offset(self) -> None:
        offset = np.array(self.tokens[self.i + 1 : self.i + 4], dtype=float)
        if self.stack[-1] == _END_SITE:
            self.end_offset = offset
        else:
            self._update(self.stack[-1], offset=offset)
        self.i += 4

    def _channels(self) -> None:
        count = int(self.tokens[self.i + 1])
        channels = tuple(self.tokens[self.i + 2 : self.i + 2 + count])
        unknown = [c for c in channels if c not in _POSITION and c not in _ROTATION]
        if unknown:
            raise BVHError(f"{self.path}: unknown channels {unknown}")
        self._update(self.stack[-1], channels=channels, channel_start=self.n_channels)
        self.n_channels += count
        self.i += 2 + count

    def _close(self) -> None:
        if self.stack.pop() == _END_SITE:
            self._update(self.stack[-1], end_site=self.end_offset)
        self.i += 1


def _parse_hierarchy(tokens: list[str], path: str) -> tuple[list[BVHJoint], int]:
    """Joints of a HIERARCHY section (split into tokens) and the index after its last '}'."""
    return _HierarchyParser(tokens, path).parse()


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
