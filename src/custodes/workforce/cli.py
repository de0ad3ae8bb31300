"""`custodes access-check`: the pre-access gate's decision for one request, as JSON (workforce.md)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from custodes.context import CLI_ACTOR, errors, unit_of_work
from custodes.workforce import gate


def access_check(
    staff: Annotated[str, typer.Option("--staff", metavar="ID", help="Who wants to see the record.")],
    subject: Annotated[
        str | None, typer.Option("--subject", metavar="ID", help="The subject's id in force systems.")
    ] = None,
    surname: Annotated[str | None, typer.Option("--surname", help="The subject's surname.")] = None,
    forenames: Annotated[str | None, typer.Option("--forenames", help="The subject's forenames.")] = None,
    dob: Annotated[
        str | None, typer.Option("--dob", metavar="YYYY-MM-DD", help="The subject's date of birth.")
    ] = None,
    postcode: Annotated[str | None, typer.Option("--postcode", help="The subject's postcode.")] = None,
    purpose: Annotated[str | None, typer.Option("--purpose", help="Why the record is wanted.")] = None,
    case: Annotated[str | None, typer.Option("--case", metavar="REF", help="The case reference.")] = None,
    system: Annotated[
        str | None, typer.Option("--system", metavar="NAME", help=f"One of: {', '.join(gate.SYSTEMS)}.")
    ] = None,
) -> None:
    """Print the decision (allow, refer, deny) with its reasons as JSON; a refer opens a referral.

    Exit 0 whatever the decision; 1 if the request is refused (unknown staff, bad subject details);
    2 for a usage error. Every decision and every refusal is recorded in the ledger."""
    if subject is None and surname is None and forenames is None:
        errors.print("[bold red]Error:[/] give --subject, or --surname and --forenames")
        raise typer.Exit(2)
    data: dict[str, Any] = {"staff_id": staff, "subject_id": subject, "purpose": purpose, "case_ref": case}
    if system is not None:
        data["system"] = system
    if surname is not None or forenames is not None or dob is not None or postcode is not None:
        data["subject"] = {
            "surname": surname,
            "forenames": forenames,
            "date_of_birth": dob,
            "postcode": postcode,
        }
    with unit_of_work() as session:
        result = gate.check(session, gate.GateIndex(), data, CLI_ACTOR)
    if isinstance(result, gate.RequestRefused):
        for field, problem in result.problems:
            errors.print(f"{field}: {problem}", markup=False)
        errors.print("[bold red]Error:[/] the request was refused (and the refusal recorded).")
        raise typer.Exit(1)
    typer.echo(json.dumps(result.as_dict(), ensure_ascii=False))
