"""Dependencies point one way: scheduler -> crawler -> archive (DESIGN.md, principle 3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PURE_PAGE_MODULES = ["crawler/pages.py", "crawler/dates.py", "crawler/encoding.py"]


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", sorted((ROOT / "archive").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_archive_imports_no_crawler_scrapy_or_scheduler(path: Path) -> None:
    assert imported_roots(path).isdisjoint(
        {"scrapy", "twisted", "apscheduler", "crawler", "scheduler"})


@pytest.mark.parametrize("path", sorted((ROOT / "crawler").rglob("*.py")),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_crawler_does_not_import_scheduler(path: Path) -> None:
    assert "scheduler" not in imported_roots(path)


@pytest.mark.parametrize("name", PURE_PAGE_MODULES)
def test_page_objects_are_pure(name: str) -> None:
    path = ROOT / name
    assert path.exists(), f"{name} is listed as a pure module but is missing"
    assert imported_roots(path).isdisjoint(
        {"scrapy", "twisted", "sqlite3", "sqlite_utils", "requests", "urllib3", "socket"})
