"""Documentation tests (Datasette's habit): a setting or command that is not documented fails."""

from __future__ import annotations

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


def test_every_command_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    commands = _commands(typer.main.get_command(app))
    assert len(commands) >= 10
    missing = [command for command in commands if f"`{command}" not in text]
    assert not missing, f"undocumented commands: {missing}"


def test_readme_first_screen_gives_the_two_commands() -> None:
    first_screen = "\n".join((DOCS.parent / "README.md").read_text().splitlines()[:15])
    assert "scripts/demo" in first_screen and "scripts/test" in first_screen
    assert "scripts/test" in (DOCS.parent / ".ci" / "run").read_text()
