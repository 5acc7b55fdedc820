"""Sessions: ``nox -s tests`` (default), ``lint``, ``docs``, ``bench``, ``demo``, ``movement_latest``.

The venv backend with pip is deliberate: pip on this machine finds the local CPU wheel of
torch 2.13.0, whereas uv ignores the machine's pip settings and would pull a multi-GB CUDA build.
"""

from __future__ import annotations

import contextlib
import subprocess

import nox

nox.options.default_venv_backend = "venv"
nox.options.download_python = "never"
nox.options.sessions = ["tests"]

PYTHON = "3.11"
TORCH = "torch==2.13.0"  # the CPU wheel; a bare `torch` would pull a CUDA build
PROJECT = nox.project.load_toml("pyproject.toml")


def _install(session: nox.Session, *extras: str, groups: tuple[str, ...] = ()) -> None:
    session.install("--upgrade", "pip")
    session.install(TORCH)
    spec = ".[" + ",".join(extras) + "]" if extras else "."
    deps = [d for g in groups for d in nox.project.dependency_groups(PROJECT, g)]
    session.install("-e", spec, *deps)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the fast test suite (``-m slow`` or ``--device cuda`` can be passed after ``--``).

    movement is installed so that the interop tests run on real movement objects (on Python
    3.11 pip resolves movement 0.15, with the plural dim names ``keypoints``/``individuals``).
    """
    _install(session, "viz", "movement", groups=("test",))
    session.run("pytest", *session.posargs)


def _python(version: str) -> str:
    """``version`` if ``python<version>`` runs, else pyenv's interpreter of that version.

    pyenv's shims hide the versions that are not selected (``pyenv global``), so nox would not
    find an installed 3.12; its absolute path works, and nox still never downloads Python.
    """
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        if subprocess.run([f"python{version}", "--version"], capture_output=True).returncode == 0:
            return version
        prefix = subprocess.run(["pyenv", "prefix", version], capture_output=True, text=True)
        if prefix.returncode == 0:
            return f"{prefix.stdout.strip()}/bin/python{version}"
    return version


@nox.session(python=_python("3.12"), default=False)
def movement_latest(session: nox.Session) -> None:
    """The movement interop on the newest movement (>= 0.17 needs Python 3.12: singular dims).

    Opt-in (``nox -s movement_latest``): on Python 3.12 the registry offers only a CUDA build of
    torch, so this session installs the package without torch (``--no-deps`` plus its other
    dependencies) and runs only the conversions, which never import torch.
    """
    deps = [d for d in PROJECT["project"]["dependencies"] if not d.startswith("torch")]
    session.install("--upgrade", "pip")
    session.install(*deps, "movement", *nox.project.dependency_groups(PROJECT, "test"))
    session.install("--no-deps", "-e", ".")
    session.run("python", "-c", "import movement; print('movement', movement.__version__)")
    session.run("pytest", "tests/io/test_movement_interop.py", "tests/io/test_keypoints.py",
                *session.posargs)


LINTED = ("zedo_xr", "tests", "benchmarks", "scripts", "docs/_scripts", "noxfile.py")


@nox.session(python=PYTHON, default=False)
def lint(session: nox.Session) -> None:
    """``ruff format --check``, ``ruff check`` (pyproject's rules, C901 complexity <= 15 in the
    package) and mypy, over the package and every script beside it."""
    _install(session, groups=("lint",))
    session.run("ruff", "format", "--check", *LINTED)
    session.run("ruff", "check", *LINTED)
    session.run("mypy")


@nox.session(python=PYTHON, default=False)
def demo(session: nox.Session) -> None:
    """Install the package and run ``zedo demo`` on the bundled clip."""
    _install(session, "viz")
    session.run("zedo", "demo", *session.posargs)


@nox.session(python=PYTHON, default=False)
def bench(session: nox.Session) -> None:
    """Accuracy and speed benchmarks; results go to benchmarks/results/."""
    _install(session, "viz")
    session.run("python", "-m", "benchmarks.run", *session.posargs)


@nox.session(python=PYTHON, default=False)
def docs(session: nox.Session) -> None:
    """Build the jupyter-book site offline, executing every notebook (strict), and check it.

    Steps: regenerate ``docs/api.md`` from the docstrings; ``jupyter book build --site --execute
    --strict`` with an offline stub of the book-theme template (``docs/_ci/stub-theme``, copied
    where mystmd caches the real one and removed afterwards) and a private Jupyter config
    (``allow_root``) and runtime dir; check every page's content JSON for missing pages and error
    outputs; stop any Jupyter server or kernel the build left behind; then open the exported 3D
    viewer in headless Chromium (``tests/browser/check_viewer.py``, screenshots in
    ``docs/_build/browser``). Arguments after ``--``: ``html`` builds the real HTML site instead
    of the stub one (downloads the theme: needs network); ``no-browser`` skips Chromium.
    """
    import contextlib
    import os
    import shutil
    import signal
    from pathlib import Path

    _install(session, "docs", "movement", groups=("test",))  # pytest: the viewer check's fixtures
    session.install("playwright")  # the browser check drives /usr/bin/chromium; never downloads one
    html = "html" in session.posargs
    browser = "no-browser" not in session.posargs
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if browser and not Path(chromium).exists():
        session.error("the viewer check needs Chromium: apt-get install -y chromium "
                      "(or pass -- no-browser)")

    root = Path(__file__).resolve().parent
    build = root / "docs" / "_build"
    session.run("python", "docs/_scripts/gen_api.py")
    session.run("python", "docs/_scripts/gen_results.py")  # results.md tables from benchmarks/results

    # Private Jupyter dirs: mystmd starts `python -m jupyter_server`, which refuses to run as root
    # without allow_root, and reuses any server listed in the runtime dir, so a fresh one means
    # only our own servers are reused or cleaned up.
    jupyter = Path(session.create_tmp()).resolve() / "jupyter"
    shutil.rmtree(jupyter, ignore_errors=True)
    (jupyter / "config").mkdir(parents=True)
    (jupyter / "config" / "jupyter_server_config.json").write_text(
        '{"ServerApp": {"allow_root": true, "open_browser": false}}\n')
    env = {
        "JUPYTER_CONFIG_DIR": str(jupyter / "config"),
        "JUPYTER_RUNTIME_DIR": str(jupyter / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"),
    }
    # Execute every notebook afresh: a cached result would hide a break in the package.
    for stale in ("execute", "site", "html", "templates"):
        shutil.rmtree(build / stale, ignore_errors=True)
    theme = build / "templates" / "site" / "myst" / "book-theme"
    if not html:
        theme.mkdir(parents=True)
        shutil.copy(root / "docs" / "_ci" / "stub-theme" / "template.yml", theme)

    def stop_leftovers() -> None:
        """Stop Jupyter servers and kernels of our private runtime dir (by pid, ours only)."""
        mine = str(jupyter)
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                environ = (proc / "environ").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if int(proc.name) != os.getpid() and (mine in cmdline or mine in environ) and (
                "jupyter" in cmdline or "ipykernel" in cmdline
            ):
                session.warn(f"stopping leftover Jupyter process {proc.name}: {cmdline[:120]}")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(proc.name), signal.SIGTERM)

    try:
        with session.chdir("docs"):
            session.run("jupyter", "book", "build", "--html" if html else "--site", "--execute",
                        "--strict", "--ci", env=env)
    finally:
        stop_leftovers()
        if not html:
            shutil.rmtree(build / "templates", ignore_errors=True)
    expect = []
    if (root / "docs" / "notebooks" / "quickstart.md").exists():
        expect = ["--expect-mime", "notebooks/quickstart=application/vnd.plotly.v1+json"]
    session.run("python", "docs/_scripts/check_site.py", *expect)

    if browser:
        out = build / "browser"
        shutil.rmtree(out, ignore_errors=True)
        session.run("python", "tests/browser/check_viewer.py", "--chromium", chromium,
                    "--out", str(out / "synthetic"))
        if (root / "zedo_xr" / "prior" / "default").is_dir():
            # The same check on a viewer of real output: the demo clip lifted by the bundled prior.
            session.run("zedo", "demo", "--frames", "12", "-S", "5", "--no-progress",
                        "--out", str(out / "demo"))
            session.run("python", "tests/browser/check_viewer.py", "--chromium", chromium,
                        "--html", str(out / "demo" / "demo.html"), "--out", str(out / "demo"))
        session.log(f"screenshots in {out}")
