"""`mediawatch demo` from a wheel installed into a fresh venv, away from the checkout.

The wheel is built from a copy of the package sources (so the checkout gets no ``build/``
folder and nothing outside the packages can leak in), installed with the repository's
constraints into a new virtual environment, and its ``mediawatch demo`` is run in an empty
working directory: the sample newsroom must come from package data, and the demo's
``python -m scheduler.cli`` children from the installed package.

It needs PyPI for the dependencies, as ``make`` does. pip revalidates every index page it
uses even when its cache holds the files, so the dependencies are kept as wheels in a
wheelhouse (``$XDG_CACHE_HOME/mediawatch-tests/wheels``, default ``~/.cache/...``) and
installed from it with ``--no-index``: about 15 s instead of 45 s. When the wheelhouse
lacks something (first run, a new pin in constraints.txt, another Python), pip fills it
from the index and the install is retried.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from scheduler.newsroom.stories import STORIES

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "scheduler" / "newsroom" / "site"
SOURCES = ("archive", "crawler", "scheduler", "pyproject.toml", "README.md")


def _run(args: Sequence[str | Path], *, env: dict[str, str], timeout: float,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True,
                            check=False, env=env, timeout=timeout, cwd=cwd)
    assert result.returncode == 0, f"{args}\n{result.stdout}\n{result.stderr}"
    return result


def _wheelhouse() -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "mediawatch-tests" / "wheels"


def _install(python: Path, wheel: Path, env: dict[str, str]) -> None:
    """Install ``wheel`` and its pinned dependencies into ``python``'s environment."""
    wheels = _wheelhouse()
    install: list[str | Path] = [
        python, "-m", "pip", "install", "--quiet", "--no-compile", "--no-index",
        "--find-links", wheels, "-c", ROOT / "constraints.txt", wheel]
    first = subprocess.run([str(a) for a in install], capture_output=True, text=True,
                           env=env, timeout=900, check=False)
    if first.returncode == 0:
        return
    _run([python, "-m", "pip", "wheel", "--quiet", "-c", ROOT / "constraints.txt", "-w",
          wheels, wheel], env=env, timeout=1800)
    for stale in wheels.glob("mediawatch-*.whl"):  # ours is installed from its own file
        stale.unlink()
    _run(install, env=env, timeout=900)


def _clean_env() -> dict[str, str]:
    """This environment without anything pointing back at the checkout or its venv.

    Bytecode writing is allowed again: the install skips compiling (``--no-compile``, the
    slowest part of it), so the demo's first child compiles what the later ones reuse."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE"}
    return {k: v for k, v in os.environ.items()
            if k not in drop and not k.startswith("MEDIAWATCH_")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mediawatch wheel, built from a copy of the sources."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    # Build isolation: pip fetches the build backend pyproject.toml asks for (setuptools>=68),
    # as any release build would; the project venv's own setuptools may be older.
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", tmp / "dist", src],
         env=_clean_env(), timeout=600)
    (built,) = (tmp / "dist").glob("mediawatch-*.whl")
    return built


def test_wheel_holds_every_newsroom_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    site_files = {p.relative_to(ROOT).as_posix() for p in SITE.rglob("*") if p.is_file()}
    assert site_files, "no sample-newsroom files in the checkout?"
    assert site_files <= names, sorted(site_files - names)
    # The kinds that a too-narrow glob loses first: a deeper folder, robots.txt, CSS, XML.
    for name in ("northwind/amp/s400-idlib.html", "robots.txt", "northwind/main.css",
                 "anatolia/broken.xml", "northwind/ru/oborona.html"):
        assert f"scheduler/newsroom/site/{name}" in names
    assert "scheduler/newsroom/server.py" in names
    assert {"archive/web/templates/base.html", "scheduler/cli.py"} <= names
    assert not [n for n in names if n.startswith("tests/")]


#: The stories naming Idlib in any script (the demo's search).
IDLIB = {"s400", "aa_wire_s400", "ru_s400", "names_en", "names_ru", "names_tr"}


def test_demo_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    env = _clean_env()
    _run([sys.executable, "-m", "venv", venv], env=env, timeout=120)
    _install(venv / "bin" / "python", wheel, env)
    empty = tmp_path / "cwd"
    empty.mkdir()
    where = _run([venv / "bin" / "python", "-c", "import scheduler; print(scheduler.__file__)"],
                 cwd=empty, env=env, timeout=60)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout  # not the checkout

    data = tmp_path / "data"
    result = _run([venv / "bin" / "mediawatch", "--data", data, "demo", "--port", "0"],
                  cwd=empty, env=env, timeout=600)
    out = result.stdout
    assert "== crawl 1 (newsroom edition 1)" in out
    assert "== crawl 2 (newsroom edition 2)" in out
    search = out.split("== mediawatch search 'Idlib'", 1)[1].split("== mediawatch show", 1)[0]
    assert "Turkish FM Says Idlib Escalation Will Not Derail S-400" in search
    assert "Idlib tension will not affect S-400 deal" in search
    # Names match in every script: the Russian and Turkish coverage (Идлиб, İdlib) too.
    idlib = sum(s["key"] in IDLIB for s in STORIES)
    assert f"{idlib} matches (showing {idlib})" in result.stderr
    versions = out.split("Versions:", 1)[1].split("Captures:", 1)[0].split("\n")
    assert [line.split()[0] for line in versions if line.strip()] == ["v1", "v2"]
    assert "Presidents Open Geneva Summit With Low Expectations" in versions[1]
    assert "Geneva Summit Ends With Deal to Launch Strategic Stability Dialogue" in versions[2]
    assert list((data / "warcs").glob("northwind-*.warc.gz"))
    assert list(empty.iterdir()) == []  # everything went to --data
