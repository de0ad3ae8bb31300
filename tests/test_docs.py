"""Documentation tests (Datasette's habit): a setting or command that is not documented fails."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from custodes.cli import app
from custodes.settings import Settings

DOCS = Path(__file__).parent.parent / "docs"


def _commands(group: object, prefix: str = "custodes") -> list[str]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            found += _commands(command, path)
        else:
            found.append(path)
    return found


def test_every_setting_is_documented() -> None:
    text = (DOCS / "settings.md").read_text()
    missing = [name for name in Settings.model_fields if f"`{name}`" not in text]
    assert not missing, f"undocumented settings: {missing}"


def _rows(text: str, command: str) -> list[str]:
    """The table rows of docs/cli.md naming the command in full (`custodes ledger verify` is not the row
    of `custodes ledger verify-offline`)."""
    return [line for line in text.splitlines() if re.search(re.escape(f"`{command}") + r"[ `]", line)]


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 10
    missing = [command for command in commands if not _rows(text, command)]
    assert not missing, f"undocumented commands: {missing}"


def test_every_option_is_documented_on_its_command_row() -> None:
    text = (DOCS / "cli.md").read_text()
    missing = []
    for command, options in _options(typer.main.get_command(app)).items():
        rows = _rows(text, command)
        missing += [f"{command} {option}" for option in options if not any(option in row for row in rows)]
    assert not missing, f"options not documented on their command's row of docs/cli.md: {missing}"
    top = "\n".join(text.splitlines()[:6])  # the options of `custodes` itself, before any command
    params = typer.main.get_command(app).params
    assert not [
        o
        for p in params
        for o in p.opts
        if o.startswith("--") and f"`custodes {o}" not in top and f"[{o}" not in top
    ]


def _options(group: object, prefix: str = "custodes") -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for name, command in getattr(group, "commands", {}).items():
        path = f"{prefix} {name}"
        if getattr(command, "commands", None):
            found |= _options(command, path)
        else:
            params = getattr(command, "params", [])
            found[path] = [o for p in params for o in p.opts if o.startswith("--") and o != "--help"]
    return found


def test_readme_first_screen_gives_the_two_commands() -> None:
    first_screen = "\n".join((DOCS.parent / "README.md").read_text().splitlines()[:15])
    assert "scripts/demo" in first_screen and "scripts/test" in first_screen
    assert "scripts/test" in (DOCS.parent / ".ci" / "run").read_text()
