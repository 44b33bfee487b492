"""docs/french-enrichment.md keeps up with the code (English first, then French)."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import typer.main

from webleads.fr.cli import fr_app
from webleads.fr.naf import HEADCOUNT_BANDS
from webleads.fr.stockfile import ErrorReason

PAGE = (Path(__file__).resolve().parent.parent / "docs" / "french-enrichment.md").read_text(
    encoding="utf-8")


def test_english_then_french() -> None:
    english, french = re.split(r"^#{1,3} Français\s*$", PAGE, maxsplit=1, flags=re.MULTILINE)
    assert len(english.strip()) > 2000 and len(french.strip()) > 2000


def test_every_bad_line_reason_is_documented() -> None:
    for reason in typing.get_args(ErrorReason):
        assert f"`{reason}`" in PAGE, reason


def test_every_headcount_band_is_documented() -> None:
    for band in HEADCOUNT_BANDS:
        assert f"`{band}`" in PAGE, band


def test_every_command_and_option_is_documented() -> None:
    commands: dict[str, typing.Any] = typer.main.get_command(fr_app).commands
    assert len(commands) == 4
    for name, command in commands.items():
        assert f"webleads fr {name}" in PAGE, name
        for param in command.params:
            for option in param.opts:
                if option.startswith("--") and option != "--help":
                    assert f"`{option}" in PAGE, (name, option)
