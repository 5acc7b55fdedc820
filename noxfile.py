"""Sessions: ``nox -s tests`` (default), ``lint``, ``docs``, ``bench``, ``demo``,
``movement_latest``, ``fuzz``.

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


def _convert_shared_cmu(session: nox.Session) -> None:
    """Where the development data sits beside the checkout, convert its pickled CMU file once.

    ``io.load_cmu`` never unpickles; notebooks and benchmarks that read the CMU subset need the
    plain-array conversion that ``scripts/convert_cmu_npz.py`` writes to the user's cache.
    """
    from pathlib import Path

    src = Path(__file__).resolve().parent.parent / "shared" / "data" / "cmu" / "cmu_h36m17.npz"
    if src.is_file():
        session.run("python", "scripts/convert_cmu_npz.py", str(src))


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """Run the fast test suite (``-m slow`` or ``--device cuda`` can be passed after ``--``).

    movement is installed so that the interop tests run on real movement objects (on Python
    3.11 pip resolves movement 0.15, with the plural dim names ``keypoints``/``individuals``).
    """
    _install(session, "viz", "movement", groups=("test",))
    session.run("pytest", *session.posargs)


@nox.session(python=PYTHON, default=False)
def fuzz(session: nox.Session) -> None:
    """Generated ``lift`` calls and metamorphic properties (``tests/estimator/lift_cases.py``).

    10,000 generated datasets plus 100 cases per metamorphic property by default; prints the
    counts of success / clear error / unclear crash / silent garbage and fails unless the last
    two are 0. Arguments after ``--`` replace the defaults (e.g. ``--examples 20000 --seed 1``).
    """
    _install(session, groups=("test",))
    args = session.posargs or ["--examples", "10000", "--metamorphic", "100"]
    session.run("python", "-m", "tests.estimator.lift_cases", *args, env={"OMP_NUM_THREADS": "1"})


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
    session.run("pytest", "tests/io/test_movement_interop.py", "tests/io/test_keypoints.py", *session.posargs)


LINTED = ("zedo_xr", "tests", "benchmarks", "scripts", "docs/_scripts", "noxfile.py")


@nox.session(python=PYTHON, default=False)
def lint(session: nox.Session) -> None:
    """Format check, ruff (C901 complexity <= 15 in the package) and mypy, scripts included.

    ``ruff format --check`` and ``ruff check`` cover the package, tests, benchmarks, scripts and
    the docs' build scripts; mypy checks the package (``[tool.mypy]`` in pyproject.toml).
    """
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
    """Build the documentation site as browsable HTML, offline, executing every notebook.

    Steps: regenerate ``docs/api.md`` and the results tables; ``sphinx-build`` with MyST-NB and
    the book theme (``docs/conf.py``; the pages and the toc are those of ``docs/myst.yml``) writes
    ``docs/_build/html`` -- open ``docs/_build/html/index.html``. Every notebook is executed and
    any error fails the build; ``docs/_scripts/check_site.py`` then checks the pages. Then, in
    headless Chromium, the site (screenshots of the home page, the quickstart and its figure, the
    API page) and the exported 3D viewer (``tests/browser``); screenshots in
    ``docs/_build/browser``. Without Chromium (``apt-get install -y chromium``) the browser
    checks are skipped, and the session says so; ``-- no-browser`` skips them too.
    """
    import shutil
    from pathlib import Path

    _install(session, "docs", "movement", groups=("test",))  # pytest: the viewer check's fixtures
    _convert_shared_cmu(session)
    session.install("playwright")  # the browser check drives /usr/bin/chromium; never downloads one
    root = Path(__file__).resolve().parent
    build = root / "docs" / "_build"
    session.run("python", "docs/_scripts/gen_api.py")
    session.run("python", "docs/_scripts/gen_results.py")  # results.md tables from benchmarks/results
    # Sphinx resolves the docs/notebooks symlink to paths outside its source folder, which breaks
    # links between pages: build from a copy with the notebooks copied in (warnings name it).
    for stale in ("html", "src", ".doctrees", "jupyter_execute"):
        shutil.rmtree(build / stale, ignore_errors=True)
    shutil.copytree(root / "docs", build / "src", ignore=shutil.ignore_patterns("_build"))
    # Pages name repository files relative to their folder (docs/guide -> ../../tests): the
    # copy sits one level deeper, so the repository's folders are linked in beside it.
    for item in root.iterdir():
        link = build / item.name
        wanted = item.is_dir() and not item.name.startswith(".") and item.name != "docs"
        if wanted and not link.exists():
            link.symlink_to(item, target_is_directory=True)
    session.run(
        "sphinx-build",
        "-b",
        "html",
        "-W",
        "--keep-going",
        "-q",
        "-d",
        str(build / ".doctrees"),
        str(build / "src"),
        str(build / "html"),
        env={"OMP_NUM_THREADS": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    )
    session.run("python", "docs/_scripts/check_site.py", str(build / "html"))
    session.log(f"site: {build / 'html' / 'index.html'}")

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if "no-browser" in session.posargs:
        session.warn("browser checks skipped (no-browser)")
        return
    if not Path(chromium).exists():
        session.warn(
            "browser checks SKIPPED: Chromium not found (apt-get install -y chromium); the site is built"
        )
        return
    out = build / "browser"
    shutil.rmtree(out, ignore_errors=True)
    session.run(
        "python",
        "tests/browser/check_site.py",
        "--chromium",
        chromium,
        "--site",
        str(build / "html"),
        "--out",
        str(out / "site"),
    )
    session.run(
        "python", "tests/browser/check_viewer.py", "--chromium", chromium, "--out", str(out / "synthetic")
    )
    if (root / "zedo_xr" / "prior" / "default").is_dir():
        # The same check on a viewer of real output: the demo clip lifted by the bundled prior.
        session.run("zedo", "demo", "--frames", "12", "-S", "5", "--no-progress", "--out", str(out / "demo"))
        session.run(
            "python",
            "tests/browser/check_viewer.py",
            "--chromium",
            chromium,
            "--html",
            str(out / "demo" / "demo.html"),
            "--out",
            str(out / "demo"),
        )
    session.log(f"screenshots in {out}")
