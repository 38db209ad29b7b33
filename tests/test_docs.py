"""Every CLI command and every config key is documented in the README (as sqlite-utils does)."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.config.sources import _SOURCE_KEYS, SELECTOR_FIELDS, CrawlSettings
from scheduler.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_command_is_documented(command: str) -> None:
    assert f"`mediawatch {command}" in README


@pytest.mark.parametrize("command", sorted(main.commands))
def test_command_options_are_documented(command: str) -> None:
    for param in main.commands[command].params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert opt in README, f"{command} {opt} is not in the README"


@pytest.mark.parametrize("key", sorted(_SOURCE_KEYS | set(CrawlSettings.__slots__)))
def test_config_key_is_documented(key: str) -> None:
    assert f"\n{key} = " in README or f"[{key}" in README or f"[source.{key}]" in README


@pytest.mark.parametrize("field", sorted(SELECTOR_FIELDS))
def test_selector_field_is_documented(field: str) -> None:
    assert field in README.split("## Sources", 1)[1]
