"""Dependencies point one way, checked on what each module really loads (DESIGN.md, "Layout").

Every module of the three packages is imported on its own in a fresh child process and the
test looks at ``sys.modules`` afterwards, so an import hidden two modules deep counts as much
as a direct one. The children are forked from one small Python process that has imported
nothing but the standard library's ``os``, ``sys`` and ``json``: one interpreter start for the
whole check instead of one per module.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("archive", "crawler", "scheduler")
# The pure page objects and the pure rules they and the spider use (DESIGN.md, principle 2).
PURE = ("crawler.pages", "crawler.incremental")
WEB = ("archive.web", "archive.replay")
NEVER_IN_ARCHIVE = {"scrapy", "twisted", "apscheduler", "crawler", "scheduler"}
NEVER_IN_PAGES = {"scrapy", "twisted", "sqlite3", "sqlite_utils", "starlette", "jinja2",
                  "apscheduler", "scheduler"}

_PROBE = r"""
import json, os, sys
for name in sys.stdin.read().split():
    pid = os.fork()
    if pid == 0:
        try:
            __import__(name)
            own = {m for m in sys.modules if m.split(".")[0] in ("archive", "crawler", "scheduler")}
            roots = sorted({m.split(".")[0] for m in sys.modules} | own)
            print(json.dumps([name, roots, None]), flush=True)
        except BaseException as exc:  # report, never hang the parent
            print(json.dumps([name, [], repr(exc)]), flush=True)
        os._exit(0)
    os.waitpid(pid, 0)
"""


def module_names() -> list[str]:
    """Every module of the three packages, dotted."""
    names = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = module_names()


@pytest.fixture(scope="module")
def loaded() -> dict[str, set[str]]:
    """Module name -> the top-level packages (and first-party modules) it loads."""
    result = subprocess.run([sys.executable, "-c", _PROBE], input=" ".join(MODULES),
                            capture_output=True, text=True, cwd=ROOT, timeout=600, check=True)
    out: dict[str, set[str]] = {}
    for line in result.stdout.splitlines():
        name, roots, error = json.loads(line)
        assert error is None, f"importing {name} failed: {error}"
        out[name] = set(roots)
    return out


def _in(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_every_module_was_probed(loaded: dict[str, set[str]]) -> None:
    assert set(loaded) == set(MODULES)
    assert "scrapy" in loaded["crawler.spiders.source"]  # the probe sees real imports


@pytest.mark.parametrize("name", [m for m in MODULES if _in(m, ("archive",))])
def test_archive_never_loads_the_crawler_or_the_scheduler(
        name: str, loaded: dict[str, set[str]]) -> None:
    assert loaded[name].isdisjoint(NEVER_IN_ARCHIVE), sorted(loaded[name] & NEVER_IN_ARCHIVE)


@pytest.mark.parametrize("name", [m for m in MODULES if _in(m, ("crawler",))])
def test_crawler_never_loads_the_scheduler(name: str, loaded: dict[str, set[str]]) -> None:
    assert "scheduler" not in loaded[name]


@pytest.mark.parametrize("name", [m for m in MODULES if _in(m, PURE)])
def test_page_objects_and_rules_are_pure(name: str, loaded: dict[str, set[str]]) -> None:
    assert loaded[name].isdisjoint(NEVER_IN_PAGES), sorted(loaded[name] & NEVER_IN_PAGES)


@pytest.mark.parametrize("name", [m for m in MODULES if not _in(m, WEB)])
def test_only_the_web_and_replay_apps_load_starlette(
        name: str, loaded: dict[str, set[str]]) -> None:
    # The CLI's `serve` imports them inside the command, so the CLI module itself stays light.
    assert loaded[name].isdisjoint({"starlette", "jinja2", "uvicorn"}), name
