"""What the browser checks share: headless Chromium with a recording page, and a check list.

``check_site.py`` and ``check_viewer.py`` run as scripts (``python tests/browser/check_x.py``), so
they import this file as the top-level module ``headless`` from their own folder. Needs the Python
``playwright`` package; it drives the Chromium given by path and never downloads a browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

# Headless Chromium without a GPU reports its software WebGL fallback as console errors.
BENIGN_ERRORS = ("GL Driver Message", "WebGL")


@dataclass
class Checks:
    """Prints every check as ``ok``/``FAIL`` and keeps the failures for the exit status."""

    failures: list[str] = field(default_factory=list)

    def __call__(self, ok: bool, what: str) -> None:
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            self.failures.append(what)

    @property
    def status(self) -> int:
        """The script's exit status: 0 when every check passed."""
        return 1 if self.failures else 0


@dataclass
class Page:
    """A browser page and what it logged: JavaScript errors and requests to the network."""

    page: Any
    errors: list[str] = field(default_factory=list)
    remote: list[str] = field(default_factory=list)

    def real_errors(self, benign: tuple[str, ...] = ()) -> list[str]:
        """The logged errors, without the known-harmless ones (:data:`BENIGN_ERRORS` + ``benign``)."""
        ignored = BENIGN_ERRORS + benign
        return [e for e in self.errors if not any(b in e for b in ignored)]


@contextmanager
def chromium_page(executable: str, viewport: dict[str, int]) -> Iterator[Page]:
    """A page of a headless Chromium at ``executable`` that records errors and remote requests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport)
            log = Page(page)
            page.on("pageerror", lambda exc: log.errors.append(str(exc)))
            page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
            page.on(
                "request",
                lambda r: log.remote.append(r.url) if r.url.startswith(("http:", "https:")) else None,
            )
            yield log
        finally:
            browser.close()
