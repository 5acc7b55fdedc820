"""Headless Chromium check of the static HTML viewer (not part of the pytest run).

Writes a viewer with :func:`zedo_xr.viz.write_html` for a synthetic lifted clip (or opens the
HTML you pass), loads it in headless Chromium and checks that

1. the plot and a WebGL canvas exist, with the expected traces and animation frames;
2. the 3D scene is not blank (pixels of the screenshot, decoded by the browser itself);
3. it opens on the person: the 2D panel is zoomed to the keypoints (not the whole image) and
   the 3D box has equal metres on every axis;
4. animating to another frame changes ``gd.data[0].x``, the legend names and the scene pixels
   (the second half of the clip has NaN joints: they must show as gaps, not break the plot);
5. a frame without a pose (the last quarter of the synthetic clip) draws and says
   "no pose (not enough visible joints)" in the title;
6. the "camera layout" and "whole image" buttons (real clicks) show the camera and the image;
7. choosing "best" in the hypothesis dropdown (a real click) shows only the best traces;
8. the page logs no JavaScript errors.

Screenshots go to ``--out``; look at them. Exit status 0 when every check passes.

Needs Chromium and the Python ``playwright`` package (its browsers are never downloaded)::

    apt-get install -y chromium
    pip install --target /tmp/pwlib playwright     # or into any venv
    PYTHONPATH=/tmp/pwlib python tests/browser/check_viewer.py --out /tmp/viewer-check
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
from pathlib import Path

from headless import Checks, chromium_page

HERE = Path(__file__).resolve().parent
# Decode a PNG in the page and measure it: share of pixels that are not the white background,
# and how many distinct (quantised) colours it has.
PIXEL_STATS_JS = """async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, c.width, c.height).data;
  let ink = 0; const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    if (d[i] < 235 || d[i + 1] < 235 || d[i + 2] < 235) ink++;
    colours.add((d[i] >> 4) << 8 | (d[i + 1] >> 4) << 4 | (d[i + 2] >> 4));
  }
  return {ink: ink / (d.length / 4), colours: colours.size, width: c.width, height: c.height};
}"""


def make_html(path: Path, n_frame: int, n_hyp: int) -> tuple[int, int]:
    """Write a viewer for a synthetic clip; return (number of traces, number of frames)."""
    sys.path.insert(0, str(HERE.parents[1]))
    import numpy as np

    from tests.viz.conftest import lifted, without_pose
    from zedo_xr import viz

    ds = lifted(n_frame=n_frame, n_hyp=n_hyp)
    # Gaps in the second half: hypothesis 0 loses its left elbow, the input its right knee.
    half = slice(n_frame // 2, None)
    ds["pose3d"].loc[{"frame": ds.frame[half], "hypothesis": 0, "joint": "left_elbow"}] = np.nan
    ds["keypoints"].loc[{"frame": ds.frame[half], "joint": "right_knee"}] = np.nan
    ds = without_pose(ds, slice(n_frame - n_frame // 4, None))  # the lift found no pose here
    fig = viz.plot(ds, title="browser check")
    viz.write_html(fig, path)
    return len(fig.data), len(fig.frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="viewer to open (default: write one)")
    parser.add_argument("--out", type=Path, help="folder for screenshots (default: a temp dir)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--hypotheses", type=int, default=3)
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="zedo-viewer-check-"))
    out.mkdir(parents=True, exist_ok=True)
    expected: tuple[int, int] | None = None
    html = args.html
    if html is None:
        html = out / "viewer.html"
        expected = make_html(html, args.frames, args.hypotheses)

    check = Checks()

    with chromium_page(args.chromium, {"width": 1400, "height": 760}) as log:
        page = log.page
        page.goto(html.resolve().as_uri())
        page.wait_for_selector(".js-plotly-plot .gl-container canvas", timeout=30_000)
        page.wait_for_timeout(1500)  # let the first WebGL frame render

        gd = "document.querySelector('.js-plotly-plot')"
        info = page.evaluate(
            f"() => {{ const gd = {gd}; return {{traces: gd.data.length, "
            "frames: gd._transitionData._frames.length, "
            "canvases: document.querySelectorAll('.gl-container canvas').length, "
            "x0: gd.data[0].x, name0: gd.data[0].name, title: gd.layout.title.text, "
            "slider: gd.layout.sliders[0].steps.length}; }"
        )
        print(f"traces {info['traces']}, frames {info['frames']}, canvases {info['canvases']}")
        check(info["canvases"] >= 1, "a WebGL canvas exists")
        if expected is not None:
            check((info["traces"], info["frames"]) == expected, f"traces/frames == {expected}")
            check(info["slider"] == expected[1], "one slider step per frame")

        opening = page.evaluate(
            f"() => {{ const L = {gd}.layout; return {{u: L.xaxis && L.xaxis.range,"
            " image: L.shapes && L.shapes.length ? L.shapes[0].x1 : null,"
            " ranges: ['xaxis', 'yaxis', 'zaxis'].map(a => L.scene[a].range),"
            " aspect: L.scene.aspectratio}; }"
        )
        widths = [abs(r[1] - r[0]) for r in opening["ranges"]]
        ratios = [opening["aspect"][a] / w for a, w in zip("xyz", widths, strict=True)]
        check(max(ratios) / min(ratios) < 1.001, f"3D axes have equal metres: {widths}")
        check(max(widths) < 3.0, f"3D box fits the person, not the camera: {widths} m")
        if opening["u"] is not None and opening["image"]:
            zoom = abs(opening["u"][1] - opening["u"][0])
            check(
                zoom < 0.6 * opening["image"],
                f"2D panel zoomed to the person: {zoom:.0f} px of a {opening['image']:.0f} px image",
            )
        scene = page.locator("#scene")
        first = out / "viewer_frame0.png"
        page.screenshot(path=str(first))
        shot0 = scene.screenshot(path=str(out / "scene_frame0.png"))
        stats0 = page.evaluate(PIXEL_STATS_JS, base64.b64encode(shot0).decode())
        print(f"scene pixels at frame 0: {stats0}")
        check(stats0["ink"] > 0.01 and stats0["colours"] >= 8, "3D scene is not blank")

        target = info["frames"] // 2
        page.evaluate(
            f"""async () => {{ const gd = {gd};
              const name = gd._transitionData._frames[{target}].name;
              await Plotly.animate(gd, [name], {{frame: {{duration: 0, redraw: true}},
                                   transition: {{duration: 0}}, mode: 'immediate'}}); }}"""
        )
        page.wait_for_timeout(1000)
        after = page.evaluate(
            f"() => {{ const gd = {gd}; return {{x0: gd.data[0].x, name0: gd.data[0].name,"
            " title: gd.layout.title.text}; }"
        )
        check(after["x0"] != info["x0"], f"animating to frame {target} changes gd.data[0].x")
        if expected is not None:
            gaps = page.evaluate(
                f"() => {{ const gd = {gd}; const n = t => t.x.filter(v => v === null).length;"
                " return [n(gd.data[0]), n(gd.data[1]), n(gd.data.find("
                "t => t.name === '2D input'))]; }"
            )
            # 4 gaps between the 5 polylines, plus one per missing joint.
            check(gaps == [5, 4, 5], f"NaN joints are gaps in frame {target}: {gaps}")
        check(after["title"] != info["title"], f"title follows the frame: {after['title']!r}")
        legend = page.evaluate(
            "() => Array.from(document.querySelectorAll('.legendtext')).map(e => e.textContent)"
        )
        print(f"legend: {legend}")
        check(after["name0"] in legend, "legend shows the frame's reprojection error")
        page.screenshot(path=str(out / f"viewer_frame{target}.png"))
        shot1 = scene.screenshot(path=str(out / f"scene_frame{target}.png"))
        check(shot1 != shot0, "the scene is redrawn for the new frame")

        if expected is not None:
            # The last frame has no pose: it must draw, empty, and say why in the title.
            page.evaluate(
                f"""async () => {{ const gd = {gd}; const f = gd._transitionData._frames;
                  await Plotly.animate(gd, [f[f.length - 1].name], {{frame: {{duration: 0,
                                       redraw: true}}, transition: {{duration: 0}},
                                       mode: 'immediate'}}); }}"""
            )
            page.wait_for_timeout(800)
            last = page.evaluate(f"() => {gd}.layout.title.text")
            check("no pose (not enough visible joints)" in last, f"no-pose frame says so: {last!r}")
            page.screenshot(path=str(out / "viewer_no_pose.png"))

        # The view buttons, with real clicks: the camera layout and the whole image.
        page.get_by_text("camera layout").click()
        page.wait_for_timeout(800)
        if page.get_by_text("whole image").count():
            page.get_by_text("whole image").click()
            page.wait_for_timeout(800)
        views = page.evaluate(
            f"() => {{ const L = {gd}.layout; return {{depth: L.scene.yaxis.range,"
            " u: L.xaxis && L.xaxis.range, image: L.shapes && L.shapes.length ?"
            " L.shapes[0].x1 : null}; }"
        )
        check(min(views["depth"]) <= 0.0, f"camera layout shows the camera (z range {views['depth']})")
        if views["u"] is not None and views["image"]:
            check(
                min(views["u"]) <= 0 and max(views["u"]) >= views["image"],
                f"'whole image' shows the image: u range {views['u']}",
            )
        page.screenshot(path=str(out / "viewer_camera_layout.png"))
        page.get_by_text("3D: person").click()
        if page.get_by_text("2D: person").count():
            page.get_by_text("2D: person").click()
        page.wait_for_timeout(500)

        # Choose "best" in the dropdown with real clicks.
        page.locator(".updatemenu-header-group").first.click()
        page.wait_for_timeout(300)
        page.locator(".updatemenu-item-text", has_text="best").first.click()
        page.wait_for_timeout(800)
        visible = page.evaluate(f"() => {{ const gd = {gd}; return gd.data.map(t => [t.name, t.visible]); }}")
        shown = [name for name, vis in visible if vis is not False]
        print(f"visible after choosing 'best': {shown}")
        check(
            all(not name.startswith("hypothesis") and "reprojected hypothesis" not in name for name in shown)
            and any(name.startswith("best") for name in shown),
            "the dropdown's 'best' entry shows only the best hypothesis",
        )
        page.screenshot(path=str(out / "viewer_best.png"))

    real_errors = log.real_errors()
    check(not real_errors, f"no JavaScript errors ({real_errors[:3]})")
    print(f"screenshots in {out}")
    return check.status


if __name__ == "__main__":
    sys.exit(main())
