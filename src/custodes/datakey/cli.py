"""`custodes data-key status|rotate|retire` (docs/security.md, "Encryption at rest"; docs/cli.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from custodes.context import CLI_ACTOR, console, fail, progress_bar, settings, unit_of_work
from custodes.datakey import service
from custodes.datakey.service import DataKeyRefused, KeyStatus
from custodes.kit.words import plural

app = typer.Typer(
    help="The data encryption key of the columns encrypted at rest: status, rotate, retire.",
    no_args_is_help=True,
)


@app.command()
def status() -> None:
    """The key ids in the key file and how many stored values are under each (no value is shown). Exits 1
    if some values are under no key of the file."""
    with unit_of_work(checkpoint=False) as session:
        found = service.status(session, settings())
    console.print(f"Data key file: {settings().resolved_data_key_file}")
    for position, key in enumerate(found.key_ids):
        role = "encrypts and decrypts" if position == 0 else "decrypts only (old)"
        console.print(f"  {key.hex()}  {role:<22} {plural(found.values_under(key), 'value')}")
    for column in found.columns:
        under = ", ".join(
            f"{number} under {key.hex() if key else 'no key (not encrypted values)'}"
            for key, number in column.counts.items()
        )
        console.print(f"{column.name}: {under or 'no values'}")
    _fail_if_unreadable(found)


def _fail_if_unreadable(found: KeyStatus) -> None:
    if found.unreadable:
        fail(
            f"Some stored values are under no key of the file: {service.describe(found.unreadable)}. Add the "
            "key they were written with to the file (a line of its own)."
        )


@app.command()
def rotate(
    clear_unreadable: Annotated[
        bool,
        typer.Option(
            "--clear-unreadable",
            help="Clear (set empty) the stored values that do not decrypt with the key their header names "
            "(altered or damaged), each recorded as an erasure in the ledger, instead of refusing. Values "
            "under a key the file lacks are never cleared.",
        ),
    ] = False,
) -> None:
    """Re-encrypt every stored value under a new key, in one transaction, with a ledger entry, and put the
    key first in the key file (the old ones stay below it). Back the key file up before and after."""
    with progress_bar(transient=True) as bar:
        task = bar.add_task("Re-encrypting", total=None)

        def step(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        try:
            with unit_of_work() as session:
                rotation = service.rotate(
                    session, settings(), CLI_ACTOR, step, clear_unreadable=clear_unreadable
                )
        except DataKeyRefused as refused:
            fail(str(refused))
    count = sum(rotation.values.values())
    for cleared in rotation.cleared:
        console.print(f"Cleared (did not decrypt): {cleared}")
    console.print(
        f"New data key {rotation.key_id.hex()} is first in {settings().resolved_data_key_file}; "
        f"{plural(count, 'stored value')} re-encrypted under it."
    )
    console.print(
        f"The old {'key' if len(rotation.previous) == 1 else 'keys'} "
        f"{', '.join(k.hex() for k in rotation.previous)} stay in the file, to decrypt only, "
        "until `custodes data-key retire`. Back up the key file now."
    )


@app.command()
def retire() -> None:
    """Drop the old keys from the key file, keeping the first, once no stored value is under one; refused
    (exit 1), naming the values still under an old key, otherwise."""
    try:
        with unit_of_work() as session:
            retired = service.retire(session, settings(), CLI_ACTOR)
        if retired:  # the file is changed only once the retirement is committed with its ledger entry
            with unit_of_work(checkpoint=False) as session:
                service.drop_retired_keys(session, settings(), retired)
    except DataKeyRefused as refused:
        fail(str(refused))
    if not retired:
        console.print("The key file holds one key: there is nothing to retire.")
        return
    console.print(
        f"Retired {'key' if len(retired) == 1 else 'keys'} {', '.join(k.hex() for k in retired)}: "
        f"{settings().resolved_data_key_file} now "
        "holds the current key alone. Back up the key file now, and destroy the copies holding old keys."
    )
