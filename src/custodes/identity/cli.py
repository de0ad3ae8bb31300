"""`custodes api-token …` and `custodes account …`."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from custodes.context import CLI_ACTOR, console, fail, settings, unit_of_work
from custodes.identity import service as identity

tokens = typer.Typer(help="Bearer tokens for machine clients.", no_args_is_help=True)
accounts = typer.Typer(help="Staff accounts.", no_args_is_help=True)


@tokens.command("create", context_settings={"allow_extra_args": True})
def create_token(
    context: typer.Context,
    name: Annotated[str, typer.Option("--name", help="Which client uses it.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="Scopes: several after one --scope, or repeat it."),
    ],
    days: Annotated[
        int | None, typer.Option("--days", help="Lifetime in days (default: the api_token_days setting).")
    ] = None,
) -> None:
    """Print a new bearer token (shown once; only its hash is kept). It works at once, until it expires."""
    # `--scope access-check ingest`: the command takes no arguments, so words left over are more scopes.
    scopes = [part for value in [*scope, *context.args] for part in value.replace(",", " ").split()]
    lifetime = days if days is not None else settings().api_token_days
    try:
        with unit_of_work() as session:
            token = identity.create_api_token(session, name, scopes, CLI_ACTOR, days=lifetime)
    except identity.IdentityError as error:
        fail(str(error))
    print(token)


@accounts.command("set-password")
def set_password(
    staff_id: str,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the password from standard input.")] = False,
) -> None:
    """Set a member of staff's password (prompted, or read from standard input)."""
    password = (
        sys.stdin.readline().rstrip("\n")
        if stdin
        else typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    )
    try:
        with unit_of_work() as session:
            identity.set_password(session, staff_id, password, CLI_ACTOR)
    except identity.IdentityError as error:
        fail(str(error))
    console.print(f"Password set for {staff_id}.")
