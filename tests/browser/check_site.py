"""Headless Chromium check of the built documentation site (not part of the pytest run).

Opens ``docs/_build/html`` from disk (``file://``, as a user who built it offline would) and
checks that

1. the home page, the quickstart and the API page load with their styles (the theme's CSS is
   applied: the navigation sidebar is laid out beside the article) and list every toc page;
2. the quickstart's plotly figure draws (a ``.js-plotly-plot`` with a WebGL canvas) and the
   viewer's traces are there;
3. the API page shows the documented functions;
4. no page requests anything from the network and none logs a JavaScript error.

Screenshots go to ``--out``: look at them. Exit status 0 when every check passes. Needs Chromium
and the Python ``playwright`` package (its browsers are never downloaded).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from headless import Checks, chromium_page

PAGES = {"home": "index.html", "quickstart": "notebooks/quickstart.html", "api": "api.html"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=Path("docs/_build/html"))
    parser.add_argument("--out", type=Path, help="folder for screenshots (default: a temp dir)")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)

    out = args.out or Path(tempfile.mkdtemp(prefix="zedo-site-check-"))
    out.mkdir(parents=True, exist_ok=True)
    check = Checks()

    with chromium_page(args.chromium, {"width": 1400, "height": 900}) as log:
        page = log.page
        for name, rel in PAGES.items():
            path = (args.site / rel).resolve()
            check(path.exists(), f"{name}: {rel} exists")
            if not path.exists():
                continue
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            page.wait_for_timeout(1500)
            layout = page.evaluate(
                """() => { const nav = document.querySelector('.bd-sidebar-primary');
                  const main = document.querySelector('main, .bd-main');
                  const r = e => e ? e.getBoundingClientRect() : null;
                  return {nav: r(nav), main: r(main), title: document.title,
                          links: Array.from(document.querySelectorAll(
                            '.bd-sidebar-primary a')).map(a => a.textContent.trim()),
                          h1: (document.querySelector('h1') || {}).textContent}; }"""
            )
            styled = (
                layout["nav"] is not None
                and layout["main"] is not None
                and (layout["nav"]["x"] + layout["nav"]["width"] <= layout["main"]["x"] + 5)
            )
            check(styled, f"{name}: themed (sidebar beside the article): {layout['h1']!r}")
            check(
                len(layout["links"]) >= 10,
                f"{name}: navigation lists the pages ({len(layout['links'])} links)",
            )
            if name == "quickstart":
                figures = page.locator(".js-plotly-plot")
                check(figures.count() >= 1, "quickstart: a plotly figure is on the page")
                if not figures.count():
                    page.screenshot(path=str(out / f"{name}.png"))
                    continue
                figure = figures.first
                figure.scroll_into_view_if_needed()
                page.wait_for_timeout(2500)
                info = page.evaluate(
                    """() => { const gd = document.querySelector('.js-plotly-plot');
                      return {traces: gd.data.length, frames: (gd._transitionData._frames
                              || []).length,
                              canvases: gd.querySelectorAll('.gl-container canvas').length}; }"""
                )
                print(f"quickstart figure: {info}")
                check(
                    info["traces"] >= 5 and info["canvases"] >= 1,
                    "quickstart: the viewer figure draws (traces and a WebGL canvas)",
                )
                figure.screenshot(path=str(out / "quickstart_figure.png"))
            if name == "api":
                text = page.inner_text("body")
                check(
                    all(f in text for f in ("zedo_xr.lift", "zedo_xr.plot", "zedo_xr.evaluate")),
                    "api: lift, plot and evaluate are documented",
                )
            page.screenshot(path=str(out / f"{name}.png"))

    check(not log.remote, f"no network requests ({log.remote[:3]})")
    # The theme reports an unset colour mode (empty localStorage on file://) as an error.
    real_errors = log.real_errors(benign=("Got invalid theme mode",))
    check(not real_errors, f"no JavaScript errors ({real_errors[:3]})")
    print(f"screenshots in {out}")
    return check.status


if __name__ == "__main__":
    sys.exit(main())
