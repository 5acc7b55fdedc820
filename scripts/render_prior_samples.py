"""Render a grid of poses sampled from a prior to a PNG, with numpy and zlib only.

Each cell shows one sample from the front (camera x right, y down) and, to its right, from the
side (camera z right, y down). Right limbs red, left limbs blue, spine/head grey.

Usage: ``python scripts/render_prior_samples.py --prior default --n 16 --out samples.png``
"""

from __future__ import annotations

import argparse
import struct
import zlib
from pathlib import Path

import numpy as np

RIGHT, LEFT = (214, 39, 40), (31, 119, 180)
GREY = (90, 90, 90)


def write_png(path: str | Path, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) uint8 image as a PNG (no dependencies beyond zlib)."""
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].tobytes() for y in range(h))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)


def draw_line(img: np.ndarray, p: np.ndarray, q: np.ndarray, color, radius: float = 1.6) -> None:
    n = int(np.ceil(np.abs(q - p).max())) * 2 + 2
    pts = p[None] + (q - p)[None] * np.linspace(0, 1, n)[:, None]
    r = int(np.ceil(radius))
    for dx in range(-r, r + 1):
        for dy in range(-r, r + 1):
            if dx * dx + dy * dy > radius * radius:
                continue
            xy = np.round(pts + np.array([dx, dy])).astype(int)
            ok = (xy[:, 0] >= 0) & (xy[:, 0] < img.shape[1]) & (xy[:, 1] >= 0) & (xy[:, 1] < img.shape[0])
            img[xy[ok, 1], xy[ok, 0]] = color


def render_pose(img: np.ndarray, pose2d: np.ndarray) -> None:
    from zedo_xr.skeleton import H36M_BONES, H36M_JOINTS

    for parent, child in H36M_BONES:
        name = H36M_JOINTS[child]
        color = RIGHT if name.startswith("right") else LEFT if name.startswith("left") else GREY
        draw_line(img, pose2d[parent], pose2d[child], color)


def grid(poses: np.ndarray, cols: int = 4, cell: int = 150, metres: float = 2.2) -> np.ndarray:
    """Poses (N, 17, 3), root-relative camera frame -> an RGB grid image."""
    rows = int(np.ceil(len(poses) / cols))
    W, H = cols * 2 * cell, rows * cell
    img = np.full((H, W, 3), 255, np.uint8)
    scale = cell / metres
    for i, pose in enumerate(poses):
        r, c = divmod(i, cols)
        ox, oy = c * 2 * cell, r * cell
        for view, axis in enumerate((0, 2)):
            # draw into the cell's own canvas so an implausible sample cannot spill over
            canvas = np.full((cell, cell, 3), 255, np.uint8)
            p2 = np.stack([pose[:, axis], pose[:, 1]], -1) * scale + cell / 2
            if np.isfinite(p2).all() and np.abs(p2).max() < 100 * cell:
                render_pose(canvas, p2)
            if view == 1:
                canvas[8 : cell - 8, 0] = 220  # separator
            img[oy : oy + cell, ox + view * cell : ox + (view + 1) * cell] = canvas
        img[oy + cell - 1, ox : ox + 2 * cell] = 200
        img[oy : oy + cell, ox + 2 * cell - 1] = 200
    return img


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prior", default="default")
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="prior_samples.png")
    args = ap.parse_args()
    from zedo_xr.prior import load_prior

    prior = load_prior(args.prior)
    samples = prior.sample(args.n, steps=args.steps, seed=args.seed).numpy()
    write_png(args.out, grid(samples))
    print(args.out)


if __name__ == "__main__":
    main()
