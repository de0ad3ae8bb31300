"""Reference-data rules: partners, sharing agreements and their status, crime-reduction schemes and members.

The disclosure rule engine reads this register through `get_organisation`, `find_recipient`, `get_agreement`,
`agreements_for`, `get_scheme`, `scheme_member` and `list_members`. Screens and imports change it through the
create / update functions here, which validate exactly as an import row is validated (kit.tabular.RowReader)
and record every change in the ledger: new rows are collections, changed rows alterations (field digests).

A recipient id is an organisation id or a scheme member id, so the two registers never share an id.
Members who are individuals are personal data: showing or exporting a members register is a consultation.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from custodes.agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementReview,
    Organisation,
    Scheme,
    SchemeMember,
)
from custodes.agreements.schemas import (
    AGREEMENT_KINDS,
    DATA_CATEGORIES,
    DEFAULT_REVIEW_REMINDER_DAYS,
    LAWFUL_BASIS_WORDS,
    MANUAL_STATUSES,
    MAX_LAWFUL_BASIS,
    MEMBER_STATUSES,
    ORGANISATION_KINDS,
    PURPOSES,
    REVIEW_OUTCOMES,
    SUGGESTED_LAWFUL_BASES,
    AgreementView,
    DocumentInfo,
    ImportSummary,
    MemberView,
    OrganisationView,
    RecipientView,
    ReviewView,
    SchemeView,
    StoredDocument,
)
from custodes.identity import service as identity
from custodes.identity.permissions import Permission, Role
from custodes.identity.schemas import Principal
from custodes.kit.db import Base, utcnow
from custodes.kit.tabular import BatchRejected, RowProblem, RowReader, SourceRow, where_first
from custodes.kit.timefmt import LONDON
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.registers import (
    KEY_CHUNK,
    change_record,
    keyed_changes,
    rows_by_key,
    session_digest_key,
    store_register,
)
from custodes.workforce import service as workforce

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
AREA_PATTERN = r"[A-Z0-9]{1,8}"
AREA_FORM = "an area code such as NORTH (up to 8 capital letters or digits)"


def _id_form(example: str) -> str:
    return (
        f"an identifier such as {example} (up to 32 letters, digits, _ or -, starting with a letter or digit)"
    )


MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
MAX_REASON = 2000
# The signed copy of an agreement is a PDF or a Word document (the form says so): each is recognised by its
# file name's ending and by its first bytes, and stored with its own media type. Anything else (a text file,
# a picture, a page saved from a browser) is refused, so the register never says a signed copy is held when
# it is not.
PDF_TYPE = "application/pdf"
DOC_TYPE = "application/msword"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DOCUMENT_KINDS = {".pdf": PDF_TYPE, ".docx": DOCX_TYPE, ".doc": DOC_TYPE}
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # the container of a Word 97-2003 .doc
# What a refused file is, in words, by its ending.
FILE_KINDS = {
    ".txt": "a text file",
    ".csv": "a spreadsheet file",
    ".xls": "a spreadsheet",
    ".xlsx": "a spreadsheet",
    ".ods": "a spreadsheet",
    ".odt": "an OpenDocument file",
    ".rtf": "a rich-text file",
    ".htm": "a web page",
    ".html": "a web page",
    ".png": "a picture",
    ".jpg": "a picture",
    ".jpeg": "a picture",
    ".gif": "a picture",
    ".tif": "a picture",
    ".tiff": "a picture",
    ".heic": "a picture",
    ".zip": "a zip archive",
    ".eml": "an email",
    ".msg": "an email",
}
REGISTER_JUSTIFICATION = "scheme register"

Parser = Callable[[RowReader], dict[str, Any]]
_Row = TypeVar("_Row", bound=Base)


class AgreementsError(Exception):
    """A change refused. `problems` are (field, problem) pairs, for a form to show beside its fields."""

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{field}: {problem}" for field, problem in self.problems))


def today() -> date:
    """The day in London, which is the day an agreement's dates mean."""
    return datetime.now(LONDON).date()


def _join(items: Iterable[str]) -> str:
    return ";".join(dict.fromkeys(items))  # de-duplicated, order kept


def _split(text: str | None) -> tuple[str, ...]:
    return tuple(item for item in (text or "").split(";") if item)


# --------------------------------------------------------------------------- parsing (imports and forms)


def _optional(cells: RowReader, record: dict[str, Any], column: str, value: Any) -> None:
    """An optional column is only stored when the row has it: an import without it leaves it alone."""
    if column in cells.row.values:
        record[column] = value


def parse_organisation(cells: RowReader) -> dict[str, Any]:
    record: dict[str, Any] = {
        "org_id": cells.text("org_id", required=True, pattern=ID_PATTERN, form=_id_form("ORG1")),
        "name": cells.text("name", required=True),
        "kind": cells.choice("kind", ORGANISATION_KINDS, required=True),
        "competent_authority": cells.boolean("competent_authority", required=True),
    }
    _optional(cells, record, "contact", cells.text("contact", max_length=500))
    _optional(cells, record, "secure_channel", cells.text("secure_channel", max_length=500))
    return record


def parse_agreement(cells: RowReader) -> dict[str, Any]:
    parties = cells.items("parties", required=True)
    for party in parties:
        if not re.fullmatch(ID_PATTERN, party):
            cells.problem("parties", f"{party!r} is not an organisation id")
    bases = cells.items("lawful_bases", required=True)
    for basis in bases:
        # A configured code (CDA1998_s115), or a basis in words as the agreement gives it ("Children Act
        # 2004 s.10"): the disclosure rules never read these (a disclosure names its own basis, from the
        # configured codes), so words cannot let anything through.
        if len(basis) > MAX_LAWFUL_BASIS:
            cells.problem(
                "lawful_bases",
                f"{basis[:40]!r}… is longer than {MAX_LAWFUL_BASIS} characters: give the Act and section",
            )
        elif not _printable_text(basis) or "\n" in basis or "\r" in basis:
            cells.problem("lawful_bases", f"{basis!r} must be plain text on one line")
    start = cells.date("start_date", required=True)
    review = cells.date("review_date")
    end = cells.date("end_date")
    if review is None and "review_date" not in _bad_columns(cells):
        # Without one an agreement would never fall due for review (ICO data sharing code: review regularly).
        cells.problem("review_date", "is required: give the date the agreement is next to be reviewed")
    if start and review and review < start:
        cells.problem("review_date", "is before the start date")
    if start and end and end < start:
        cells.problem("end_date", "is before the start date")
    return {
        "agreement_id": cells.text(
            "agreement_id", required=True, pattern=ID_PATTERN, form=_id_form("ISA-2024-01")
        ),
        "title": cells.text("title", required=True),
        "kind": cells.choice("kind", AGREEMENT_KINDS, required=True),
        "parties": tuple(dict.fromkeys(parties)),
        "purposes": _join(cells.items("purposes", required=True, allowed=PURPOSES)),
        "data_categories": _join(cells.items("data_categories", required=True, allowed=DATA_CATEGORIES)),
        "lawful_bases": _join(bases),
        "start_date": start,
        "review_date": review,
        "end_date": end,
    }


def parse_scheme(cells: RowReader) -> dict[str, Any]:
    manager = cells.text("manager_name")
    vetted_until = cells.date("manager_vetted_until")
    if vetted_until is not None and manager is None and "manager_name" not in _bad_columns(cells):
        cells.problem("manager_name", "give the scheme manager's name with their security check date")
    return {
        "scheme_id": cells.text("scheme_id", required=True, pattern=ID_PATTERN, form=_id_form("SHOPWATCH")),
        "name": cells.text("name", required=True),
        "area_code": cells.text("area_code", max_length=8, pattern=AREA_PATTERN, form=AREA_FORM),
        "recognised": cells.boolean("recognised", required=True),
        "manager_name": manager,
        "manager_vetted_until": vetted_until,
    }


def parse_member(cells: RowReader) -> dict[str, Any]:
    record: dict[str, Any] = {
        "member_id": cells.text("member_id", required=True, pattern=ID_PATTERN, form=_id_form("M1")),
        "scheme_id": cells.text("scheme_id", required=True, pattern=ID_PATTERN, form=_id_form("SHOPWATCH")),
        "name": cells.text("name", required=True),
        "registered_on": cells.date("registered_on", required=True),
        "undertaking_signed_on": cells.date("undertaking_signed_on"),
        "status": cells.choice("status", MEMBER_STATUSES, required=True),
    }
    # A registration or undertaking dated later has not happened yet (K10 6.2.1, 8.2.1): stored, it would
    # count today. Record it on the day.
    now = today()
    if record["registered_on"] is not None and record["registered_on"] > now:
        cells.problem("registered_on", f"is in the future (today is {now.isoformat()})")
    if record["undertaking_signed_on"] is not None and record["undertaking_signed_on"] > now:
        cells.problem("undertaking_signed_on", f"is in the future (today is {now.isoformat()})")
    _optional(cells, record, "org_id", cells.text("org_id", pattern=ID_PATTERN, form=_id_form("ORG1")))
    return record


def _bad_columns(cells: RowReader) -> set[str]:
    return {problem.column for problem in cells.problems}


def _existing(session: Session, column: Any, wanted: Iterable[str]) -> set[str]:
    ids = sorted({ident for ident in wanted if ident})
    return set(session.scalars(select(column).where(column.in_(ids)))) if ids else set()


def _read_rows(
    rows: Sequence[SourceRow], parse: Parser, key: str
) -> tuple[list[tuple[SourceRow, dict[str, Any]]], list[RowProblem]]:
    """Every row parsed; problems include ids repeated within the batch."""
    parsed: list[tuple[SourceRow, dict[str, Any]]] = []
    problems: list[RowProblem] = []
    seen: dict[str, SourceRow] = {}
    for row in rows:
        cells = RowReader(row)
        record = parse(cells)
        ident = record.get(key)
        if ident is not None:
            if ident in seen:
                cells.problem(key, f"{ident} already appears on {where_first(seen[ident], row)}")
            else:
                seen[ident] = row
        problems += cells.problems
        parsed.append((row, record))
    return parsed, problems


def _cross_check(
    session: Session, kind: str, parsed: list[tuple[SourceRow, dict[str, Any]]]
) -> list[RowProblem]:
    """References to other registers, and recipient ids unique across organisations and members."""
    problems: list[RowProblem] = []

    def problem(row: SourceRow, column: str, message: str) -> None:
        problems.append(RowProblem(row.file, row.line, column, message))

    records = [record for _, record in parsed]
    if kind == "organisation":
        clash = _existing(session, SchemeMember.member_id, (r["org_id"] for r in records if r["org_id"]))
        for row, record in parsed:
            if record["org_id"] in clash:
                problem(row, "org_id", f"{record['org_id']} is already a scheme member's id")
    elif kind == "agreement":
        known = _existing(session, Organisation.org_id, (p for r in records for p in r["parties"]))
        for row, record in parsed:
            for party in record["parties"]:
                if re.fullmatch(ID_PATTERN, party) and party not in known:
                    problem(row, "parties", f"{party} is not in the partner register")
    elif kind == "scheme_member":
        schemes = _existing(session, Scheme.scheme_id, (r["scheme_id"] for r in records if r["scheme_id"]))
        orgs = _existing(session, Organisation.org_id, (r.get("org_id") or "" for r in records))
        clash = _existing(session, Organisation.org_id, (r["member_id"] for r in records if r["member_id"]))
        for row, record in parsed:
            if record["scheme_id"] and record["scheme_id"] not in schemes:
                problem(row, "scheme_id", f"{record['scheme_id']} is not in the scheme register")
            if record.get("org_id") and record["org_id"] not in orgs:
                problem(row, "org_id", f"{record['org_id']} is not in the partner register")
            if record["member_id"] in clash:
                problem(row, "member_id", f"{record['member_id']} is already an organisation's id")
    return problems


def _validated(
    session: Session, rows: Sequence[SourceRow], kind: str, parse: Parser, key: str
) -> list[dict[str, Any]]:
    """Every problem of every row, the references of the rows that parsed included, so that one run names
    them all; any problem rejects the whole batch."""
    parsed, problems = _read_rows(rows, parse, key)
    problems += _cross_check(session, kind, parsed)
    if problems:
        raise BatchRejected(sorted(problems, key=lambda p: (p.file, p.line)))
    return [record for _, record in parsed]


# --------------------------------------------------------------------------- storing


def _member_subjects(record: Mapping[str, Any]) -> tuple[str, ...]:
    """A member who is an individual (no organisation) is a person whose data this is."""
    return () if record.get("org_id") else (str(record["member_id"]),)


def _store(session: Session, kind: str, records: list[dict[str, Any]], actor: str) -> ImportSummary:
    if kind == "agreement":
        return _store_agreements(session, records, actor)
    model, key, subjects = _REGISTERS[kind]
    return store_register(session, model, records, kind=kind, key=key, actor=actor, subjects=subjects)


def _store_agreements(session: Session, records: list[dict[str, Any]], actor: str) -> ImportSummary:
    """store_register's contract, with the parties (a link table) compared and digested like a field."""
    ids = [record["agreement_id"] for record in records]
    existing = rows_by_key(session, Agreement, "agreement_id", ids)
    current: dict[str, set[str]] = defaultdict(set)
    links: dict[str, list[AgreementParty]] = defaultdict(list)
    for start in range(0, len(ids), KEY_CHUNK):  # PostgreSQL takes at most 65,535 parameters a statement
        chunk = ids[start : start + KEY_CHUNK]
        for link in session.scalars(select(AgreementParty).where(AgreementParty.agreement_id.in_(chunk))):
            current[link.agreement_id].add(link.org_id)
            links[link.agreement_id].append(link)
    now = utcnow()
    created = updated = unchanged = 0
    for record in records:
        agreement_id = record["agreement_id"]
        values = {k: v for k, v in record.items() if k not in ("agreement_id", "parties")}
        parties = set(record["parties"])
        row = existing.get(agreement_id)
        if row is None:
            session.add(Agreement(agreement_id=agreement_id, created_at=now, updated_at=now, **values))
            session.flush()  # the parties refer to the agreement
            session.add_all(AgreementParty(agreement_id=agreement_id, org_id=org) for org in sorted(parties))
            detail: dict[str, Any] = {"fields": sorted([*values, "parties"])}
            op, created = Op.COLLECTION, created + 1
        else:
            changes = keyed_changes(session, row, values, kind="agreement", object_id=agreement_id)
            old = current[agreement_id]
            if old != parties:
                changes["parties"] = change_record(
                    session_digest_key(session),
                    "agreement",
                    agreement_id,
                    "parties",
                    ";".join(sorted(old)),
                    ";".join(sorted(parties)),
                )
            if not changes:
                unchanged += 1
                continue
            for name, value in values.items():
                setattr(row, name, value)
            for link in links[agreement_id]:
                if link.org_id not in parties:
                    session.delete(link)
            session.add_all(
                AgreementParty(agreement_id=agreement_id, org_id=org) for org in sorted(parties - old)
            )
            row.updated_at = now
            detail, op, updated = {"changes": changes}, Op.ALTERATION, updated + 1
        ledger.record(
            session,
            EntryDraft(actor=actor, op=op, object_type="agreement", object_id=agreement_id, detail=detail),
        )
    return ImportSummary("agreement", created, updated, unchanged)


_REGISTERS: dict[str, tuple[type[Base], str, Callable[[Mapping[str, Any]], tuple[str, ...]]]] = {
    "organisation": (Organisation, "org_id", lambda record: ()),
    "scheme": (Scheme, "scheme_id", lambda record: ()),
    "scheme_member": (SchemeMember, "member_id", _member_subjects),
}
_PARSERS: dict[str, tuple[Parser, str]] = {
    "organisation": (parse_organisation, "org_id"),
    "agreement": (parse_agreement, "agreement_id"),
    "scheme": (parse_scheme, "scheme_id"),
    "scheme_member": (parse_member, "member_id"),
}


def _import(session: Session, kind: str, name: str, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    parse, key = _PARSERS[kind]
    summary = _store(session, kind, _validated(session, rows, kind, parse, key), actor)
    return ImportSummary(name, summary.created, summary.updated, summary.unchanged)


def import_organisations(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """`custodes import organisations`: all rows or none (BatchRejected naming every problem)."""
    return _import(session, "organisation", "organisations", rows, actor)


def import_agreements(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """`custodes import agreements`: parties must already be in the partner register."""
    return _import(session, "agreement", "agreements", rows, actor)


def import_schemes(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    return _import(session, "scheme", "schemes", rows, actor)


def import_scheme_members(session: Session, rows: Sequence[SourceRow], actor: str) -> ImportSummary:
    """`custodes import scheme-members`: schemes and member organisations must already be registered."""
    return _import(session, "scheme_member", "scheme-members", rows, actor)


# --------------------------------------------------------------------------- screens: create and update


def _from_form(
    session: Session, kind: str, values: Mapping[str, str], *, exists: bool, key_value: str | None = None
) -> dict[str, Any]:
    """Validate a form's cells exactly as an import row; raise AgreementsError with every problem."""
    parse, key = _PARSERS[kind]
    cells = dict(values)
    if key_value is not None:
        cells[key] = key_value
    row = SourceRow("form", 1, {name: value.strip() for name, value in cells.items()})
    parsed, problems = _read_rows([row], parse, key)
    problems += _cross_check(session, kind, parsed)
    record = parsed[0][1]
    model, label = _model(kind), kind.replace("_", " ")
    if not problems and (session.get(model, record[key]) is not None) != exists:
        message = f"there is no {label} {record[key]}" if exists else f"{record[key]} is already registered"
        problems.append(RowProblem("form", 1, key, message))
    if problems:
        raise AgreementsError([(p.column, p.problem) for p in problems])
    return record


def _model(kind: str) -> type[Base]:
    return _REGISTERS[kind][0] if kind != "agreement" else Agreement


def _create(session: Session, kind: str, values: Mapping[str, str], actor: str) -> str:
    record = _from_form(session, kind, values, exists=False)
    _store(session, kind, [record], actor)
    return str(record[_PARSERS[kind][1]])


def _locked(session: Session, model: type[_Row], key_value: str) -> _Row | None:
    """The row with this primary key, locked (PostgreSQL `FOR UPDATE`; SQLite's write lock is already held)
    and read afresh, or None: a change's checks then see what a concurrent change committed, not a copy
    loaded earlier in the same session (by the page a screen showed first, say), and the two run one after
    the other instead of the second writing over the first."""
    (key,) = inspect(model).primary_key
    query = select(model).where(key == key_value).with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).one_or_none()


def _update(session: Session, kind: str, key_value: str, values: Mapping[str, str], actor: str) -> bool:
    _locked(session, _model(kind), key_value)  # compared with (and changed) as it now stands
    record = _from_form(session, kind, values, exists=True, key_value=key_value)
    return _store(session, kind, [record], actor).updated == 1


def create_organisation(session: Session, values: Mapping[str, str], actor: str) -> str:
    """Add a partner from a form's cells (the import columns). Returns its id; AgreementsError if refused."""
    return _create(session, "organisation", values, actor)


def update_organisation(session: Session, org_id: str, values: Mapping[str, str], actor: str) -> bool:
    """Change a partner; True if anything changed (an alteration entry is recorded)."""
    return _update(session, "organisation", org_id, values, actor)


def _day_words(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def _past_review(values: Mapping[str, str], was: date | None) -> list[tuple[str, str]]:
    """A review date typed on a form must not already have passed: stored, it would make the agreement
    "Review overdue" (not relied on) at once. One left as it stood (an overdue agreement whose title is
    corrected) is not re-checked: recording a review is what moves it. Read from what was typed, so that it
    is named with the form's other problems."""
    now = today()
    try:
        review = date.fromisoformat(values.get("review_date", "").strip())
    except ValueError:
        return []  # empty or not a date: the form's own check names it
    if review >= now or review == was:
        return []
    return [
        (
            "review_date",
            f"{_day_words(review)} is in the past (today is {_day_words(now)}): past it the agreement is "
            'not relied on. Give the date of its next review; to record a review just held, use "Record a '
            "review\" on the agreement's page",
        )
    ]


def _agreement_from_form(
    session: Session, values: Mapping[str, str], *, exists: bool, key_value: str | None, past: list[Any]
) -> dict[str, Any]:
    try:
        record = _from_form(session, "agreement", values, exists=exists, key_value=key_value)
    except AgreementsError as error:
        raise AgreementsError([*error.problems, *past]) from None
    if past:
        raise AgreementsError(past)
    return record


def create_agreement(
    session: Session, values: Mapping[str, str], actor: str, *, by: Principal | None = None
) -> str:
    """`values["parties"]` etc. are `;`-separated, as in an import file. Someone at a screen (`by`) may not
    give a review date already past; imports and the system (`by` None) may, as the register stands."""
    past = _past_review(values, None) if by is not None else []
    record = _agreement_from_form(session, values, exists=False, key_value=None, past=past)
    _store(session, "agreement", [record], actor)
    return str(record["agreement_id"])


def update_agreement(
    session: Session,
    agreement_id: str,
    values: Mapping[str, str],
    actor: str,
    *,
    by: Principal | None = None,
) -> bool:
    row = _locked(session, Agreement, agreement_id)
    was = row.review_date if row is not None else None
    past = _past_review(values, was) if by is not None else []
    record = _agreement_from_form(session, values, exists=True, key_value=agreement_id, past=past)
    return _store(session, "agreement", [record], actor).updated == 1


# --------------------------------------------------------------------------- recording a review


def _review_date(value: str, field: str, what: str) -> date | None:
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise AgreementsError([(field, f"{text!r} is not a date: give {what}")]) from None


def record_review(
    session: Session,
    agreement_id: str,
    values: Mapping[str, str],
    actor: str,
    *,
    on: date | None = None,
) -> ReviewView:
    """The DPU reviewed the agreement: `values` has `reviewed_on` (not in the future), `outcome` (continue,
    continue_with_changes, end), `note` (required for a change or an end: what and why) and
    `next_review_date` (after the review and not past; not asked when the agreement ends).

    Continuing sets the agreement's review date to the next review; ending sets its end date to the day of
    the review (unless it already ends earlier). The review is kept in `agreement_review`, shown as the
    agreement's history, and the change of the agreement with it is one ledger entry."""
    now = on or today()
    row = _locked(session, Agreement, agreement_id)
    if row is None:
        raise AgreementsError([("agreement_id", f"there is no agreement {agreement_id}")])
    problems: list[tuple[str, str]] = []
    if row.manual_status == "withdrawn":
        problems.append(("outcome", "the agreement has been withdrawn: record a new agreement instead"))
    reviewed_on: date | None = None
    next_review: date | None = None
    try:
        reviewed_on = _review_date(values.get("reviewed_on", ""), "reviewed_on", "the day it was reviewed")
        if reviewed_on is None:
            problems.append(("reviewed_on", "is required: give the day the agreement was reviewed"))
        elif reviewed_on > now:
            problems.append(("reviewed_on", f"is in the future (today is {_day_words(now)})"))
    except AgreementsError as error:
        problems += error.problems
    outcome = values.get("outcome", "").strip()
    if outcome not in REVIEW_OUTCOMES:
        problems.append(("outcome", "choose what the review decided: " + ", ".join(REVIEW_OUTCOMES.values())))
    note = values.get("note", "").strip()
    if len(note) > MAX_REASON or not _printable_text(note):
        problems.append(("note", f"must be plain text of at most {MAX_REASON} characters"))
    elif not note and outcome in ("continue_with_changes", "end"):
        problems.append(("note", "say what is to change" if outcome != "end" else "say why it is to end"))
    if outcome != "end":
        try:
            next_review = _review_date(
                values.get("next_review_date", ""), "next_review_date", "the date of the next review"
            )
            if next_review is None:
                problems.append(("next_review_date", "is required: give the date of the next review"))
            elif reviewed_on is not None and next_review <= reviewed_on:
                problems.append(("next_review_date", "must be after the date reviewed"))
            elif next_review < now:
                problems.append(("next_review_date", f"is in the past (today is {_day_words(now)})"))
        except AgreementsError as error:
            problems += error.problems
    if outcome == "end" and reviewed_on is not None and reviewed_on < row.start_date:
        problems.append(
            ("reviewed_on", f"is before the agreement's start date ({_day_words(row.start_date)})")
        )
    if problems:
        raise AgreementsError(problems)
    assert reviewed_on is not None
    if outcome == "end":
        ends = min(reviewed_on, row.end_date) if row.end_date is not None else reviewed_on
        changed: dict[str, date | None] = {"end_date": ends}
    else:
        changed = {"review_date": next_review}
    changes = keyed_changes(session, row, changed, kind="agreement", object_id=agreement_id)
    for name, value in changed.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(
        AgreementReview(
            agreement_id=agreement_id,
            reviewed_on=reviewed_on,
            outcome=outcome,
            note=note or None,
            next_review_date=next_review,
            reviewed_by=actor,
            recorded_at=row.updated_at,
        )
    )
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ALTERATION,
            object_type="agreement",
            object_id=agreement_id,
            detail={
                "changes": changes,
                "review": {
                    "reviewed_on": reviewed_on.isoformat(),
                    "outcome": outcome,
                    "next_review_date": next_review.isoformat() if next_review else None,
                    "note": bool(note),  # the note's words stay in the register, not the ledger
                },
            },
        ),
    )
    return ReviewView(agreement_id, reviewed_on, outcome, note or None, next_review, actor)


def reviews_of(session: Session, agreement_id: str) -> list[ReviewView]:
    """The agreement's recorded reviews, latest first."""
    rows = session.scalars(
        select(AgreementReview)
        .where(AgreementReview.agreement_id == agreement_id)
        .order_by(AgreementReview.reviewed_on.desc(), AgreementReview.review_id.desc())
    )
    return [
        ReviewView(r.agreement_id, r.reviewed_on, r.outcome, r.note, r.next_review_date, r.reviewed_by)
        for r in rows
    ]


# --------------------------------------------------------------------------- who may change a scheme register
#
# K10 7.1–7.2: the Area Intelligence Co-ordinator keeps the registers of their area's schemes, and authorises
# their disclosures (disclosure rules: AUTHORISER_NOT_PERMITTED compares the authoriser's area with the
# scheme's). So a scheme and its members are changed only by an AIC of the scheme's area, or by the DPU; and
# which area a scheme is in, and whether it is recognised, only by the DPU — otherwise an AIC could move a
# scheme into their own area (or recognise one) and then authorise its disclosures. `by` None is an import or
# the system (the CLI, the demo), which these rules do not restrict.


def _is_dpu(by: Principal) -> bool:
    return Role.DPU in by.roles


def area_of(session: Session, by: Principal) -> str | None:
    """The area of the member of staff's record in the staff register (None if none is recorded)."""
    return workforce.discloser_readiness(session, by.staff_id, today()).area_code


def _not_theirs(scheme_id: str, area_code: str | None) -> str:
    if area_code is None:
        return f"{scheme_id} has no area: only the Data Protection Unit may change it"
    return (
        f"only the Area Intelligence Co-ordinator for area {area_code} or the Data Protection Unit may "
        f"change scheme {scheme_id} or its members"
    )


def may_change_scheme(session: Session, by: Principal, scheme: SchemeView) -> bool:
    """Whether `by` may change the scheme and its members register (the DPU, or an AIC of its area)."""
    if _is_dpu(by):
        return True
    return (
        by.can(Permission.SCHEMES_MANAGE)
        and scheme.area_code is not None
        and area_of(session, by) == scheme.area_code
    )


def _check_register_keeper(session: Session, by: Principal | None, scheme_id: str) -> None:
    """Refuse unless `by` may change this scheme's register. The scheme row is locked and read afresh, so a
    change of its area by the DPU meanwhile is seen (and waits for this change, or this for it)."""
    if by is None:
        return
    row = _locked(session, Scheme, scheme_id)
    if row is not None and not may_change_scheme(session, by, _scheme_view(row)):
        raise AgreementsError([("scheme_id", _not_theirs(scheme_id, row.area_code))])


def scheme_areas(session: Session) -> dict[str, str]:
    """The force's areas a scheme may be in, by code, in words: those named in the configuration ("Area
    names") and those in the staff register, "North Division (NA)" (the code alone if not named)."""
    names = identity.area_names(session)
    codes = sorted({*names, *workforce.staff_areas(session)})
    return {code: identity.area_label(names, code) for code in codes}


def _check_area(session: Session, area_code: str | None, was: str | None) -> None:
    """Someone at a screen chooses one of the force's areas; an area left as it stood is not re-checked."""
    if area_code is None or area_code == was:
        return
    if area_code not in scheme_areas(session):
        raise AgreementsError(
            [
                (
                    "area_code",
                    f"{area_code} is not one of the force's areas: choose the area from the list (areas are "
                    "named by an administrator under Configuration, Area names)",
                )
            ]
        )


def create_scheme(
    session: Session, values: Mapping[str, str], actor: str, *, by: Principal | None = None
) -> str:
    """An AIC adds a scheme in their own area, not yet recognised; the DPU any scheme, in one of the force's
    areas (`scheme_areas`). Imports and the system (`by` None) are not restricted."""
    record = _from_form(session, "scheme", values, exists=False)
    if by is not None and _is_dpu(by):
        _check_area(session, record["area_code"], None)
    if by is not None and not _is_dpu(by):
        area = area_of(session, by)
        problems = []
        if area is None or not by.can(Permission.SCHEMES_MANAGE):
            problems.append(
                ("area_code", "your staff record has no area: ask the Data Protection Unit to add the scheme")
            )
        elif record["area_code"] != area:
            problems.append(("area_code", f"you may add schemes in your own area ({area}) only"))
        if record["recognised"]:
            problems.append(
                (
                    "recognised",
                    "only the Data Protection Unit may mark a scheme recognised: add it unrecognised and ask "
                    "them to recognise it",
                )
            )
        if problems:
            raise AgreementsError(problems)
    _store(session, "scheme", [record], actor)
    return str(record["scheme_id"])


def update_scheme(
    session: Session, scheme_id: str, values: Mapping[str, str], actor: str, *, by: Principal | None = None
) -> bool:
    """An AIC of the scheme's area may change its name and manager; its area and recognition are the DPU's."""
    row = _locked(session, Scheme, scheme_id)
    record = _from_form(session, "scheme", values, exists=True, key_value=scheme_id)
    if by is not None and row is not None and _is_dpu(by):
        _check_area(session, record["area_code"], row.area_code)
    if by is not None and row is not None and not _is_dpu(by):
        if not may_change_scheme(session, by, _scheme_view(row)):
            raise AgreementsError([("scheme_id", _not_theirs(scheme_id, row.area_code))])
        problems = []
        if record["area_code"] != row.area_code:
            problems.append(("area_code", "only the Data Protection Unit may move a scheme to another area"))
        if record["recognised"] != row.recognised:
            problems.append(
                ("recognised", "only the Data Protection Unit may change whether a scheme is recognised")
            )
        if problems:
            raise AgreementsError(problems)
    return _store(session, "scheme", [record], actor).updated == 1


def create_member(
    session: Session, scheme_id: str, values: Mapping[str, str], actor: str, *, by: Principal | None = None
) -> str:
    _check_register_keeper(session, by, scheme_id)
    return _create(session, "scheme_member", {**values, "scheme_id": scheme_id}, actor)


def update_member(
    session: Session,
    scheme_id: str,
    member_id: str,
    values: Mapping[str, str],
    actor: str,
    *,
    by: Principal | None = None,
) -> bool:
    _check_register_keeper(session, by, scheme_id)
    row = _locked(session, SchemeMember, member_id)
    if row is None or row.scheme_id != scheme_id:
        raise AgreementsError([("member_id", f"{member_id} is not a member of {scheme_id}")])
    return _update(session, "scheme_member", member_id, {**values, "scheme_id": scheme_id}, actor)


def record_undertaking(
    session: Session,
    scheme_id: str,
    member_id: str,
    signed_on: date,
    actor: str,
    *,
    on: date | None = None,
    by: Principal | None = None,
) -> None:
    """The member has signed the undertaking (Form 3797 role, K10 8.2.1) on `signed_on`."""
    _check_register_keeper(session, by, scheme_id)
    row = _locked(session, SchemeMember, member_id)
    if row is None or row.scheme_id != scheme_id:
        raise AgreementsError([("member_id", f"{member_id} is not a member of {scheme_id}")])
    if signed_on > (on or today()):
        raise AgreementsError([("undertaking_signed_on", "is in the future")])
    changes = keyed_changes(
        session, row, {"undertaking_signed_on": signed_on}, kind="scheme_member", object_id=member_id
    )
    if not changes:
        return
    row.undertaking_signed_on = signed_on
    row.updated_at = utcnow()
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ALTERATION,
            object_type="scheme_member",
            object_id=member_id,
            subjects=_member_subjects({"member_id": member_id, "org_id": row.org_id}),
            detail={"changes": changes},
        ),
    )


def set_agreement_status(
    session: Session, agreement_id: str, status: str | None, reason: str, actor: str
) -> None:
    """Suspend or withdraw an agreement (DPU), or lift a suspension (`status` None), with the reason.

    A withdrawn agreement stays withdrawn: sharing again needs a new agreement. The row is locked and read
    afresh before that is checked, so a reinstatement racing a withdrawal waits for it and is then refused.
    """
    row = _locked(session, Agreement, agreement_id)
    if row is None:
        raise AgreementsError([("agreement_id", f"there is no agreement {agreement_id}")])
    reason = reason.strip()
    problems: list[tuple[str, str]] = []
    if status is not None and status not in MANUAL_STATUSES:
        problems.append(("status", f"{status!r} is not one of: {', '.join(MANUAL_STATUSES)}"))
    if not reason:
        problems.append(("reason", "give the reason"))
    elif len(reason) > MAX_REASON or not _printable_text(reason):
        problems.append(("reason", f"must be plain text of at most {MAX_REASON} characters"))
    if row.manual_status == "withdrawn":
        problems.append(("status", "the agreement has been withdrawn; record a new agreement instead"))
    elif row.manual_status == status:
        already = "the agreement already has that status" if status else "the agreement is not suspended"
        problems.append(("status", already))
    if problems:
        raise AgreementsError(problems)
    changes = keyed_changes(
        session,
        row,
        {"manual_status": status, "status_reason": reason},
        kind="agreement",
        object_id=agreement_id,
    )
    row.manual_status, row.status_reason = status, reason
    row.status_set_by, row.status_set_at = actor, utcnow()
    row.updated_at = row.status_set_at
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ALTERATION,
            object_type="agreement",
            object_id=agreement_id,
            detail={"changes": changes, "status": status or "reinstated"},
        ),
    )


def _printable_text(text: str) -> bool:
    return all(char.isprintable() or char in "\r\n\t" for char in text)


# --------------------------------------------------------------------------- the agreement document


def _safe_filename(name: str) -> str:
    base = PureWindowsPath(PurePosixPath(name or "").name).name
    base = "".join(char for char in base if char.isprintable() and char not in '"\\/')
    return base.strip()[-255:] or "agreement"


def _is_docx(content: bytes) -> bool:
    """A Word (.docx) file: a zip archive holding the document under word/."""
    if not content.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            return any(name.startswith("word/") for name in archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False


def _document_type(filename: str, content: bytes) -> str:
    """The media type of a signed PDF or Word copy, checked by its ending and its first bytes; else
    AgreementsError saying what the file is."""
    ending = PurePosixPath(filename.lower()).suffix
    expected = DOCUMENT_KINDS.get(ending)
    fits = {
        PDF_TYPE: content.startswith(b"%PDF-"),
        DOCX_TYPE: _is_docx(content),
        DOC_TYPE: content.startswith(OLE_MAGIC),
    }
    if expected is not None and fits[expected]:
        return expected
    if expected is not None:
        kind = "PDF" if expected == PDF_TYPE else "Word document"
        problem = f"{filename} is named as a {kind} but is not one (its contents are not a {kind})"
    elif ending:
        problem = f"{filename} is {FILE_KINDS.get(ending, f'a {ending} file')}"
    else:
        problem = f"{filename} has no .pdf, .docx or .doc ending"
    raise AgreementsError([("document", f"{problem} — upload the signed PDF or Word copy.")])


def attach_document(
    session: Session, agreement_id: str, filename: str, content_type: str, content: bytes, actor: str
) -> DocumentInfo:
    """Store (or replace) the agreement's document; its SHA-256 goes in the ledger. Only a PDF or Word
    document is accepted (by its ending and first bytes, `_document_type`); `content_type` as the browser
    gave it is not relied on: the type stored is the one recognised.

    The agreement's row is locked first, so two uploads at once run one after the other: the second
    replaces the first (and its entry names the first's SHA-256) instead of both inserting."""
    if _locked(session, Agreement, agreement_id) is None:
        raise AgreementsError([("agreement_id", f"there is no agreement {agreement_id}")])
    if not content:
        raise AgreementsError([("document", "choose a file to upload (it was empty or missing)")])
    if len(content) > MAX_DOCUMENT_BYTES:
        raise AgreementsError([("document", f"is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB")])
    safe_name = _safe_filename(filename)
    info = DocumentInfo(
        filename=safe_name,
        content_type=_document_type(safe_name, content),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
    )
    row = _locked(session, AgreementDocument, agreement_id)
    old = _document_info(row) if row is not None else None
    values = {
        "filename": info.filename,
        "content_type": info.content_type,
        "size": info.size,
        "sha256": info.sha256,
        "content": content,
        "uploaded_by": actor,
        "uploaded_at": utcnow(),
    }
    if row is None:
        session.add(AgreementDocument(agreement_id=agreement_id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COLLECTION if old is None else Op.ALTERATION,
            object_type="agreement_document",
            object_id=agreement_id,
            detail={
                "sha256": info.sha256,
                "size": info.size,
                "content_type": info.content_type,
                **({"replaced_sha256": old.sha256} if old else {}),
            },
        ),
    )
    return info


def get_document(session: Session, agreement_id: str) -> StoredDocument | None:
    row = session.get(AgreementDocument, agreement_id)
    return StoredDocument(_document_info(row), row.content) if row is not None else None


def _document_info(row: AgreementDocument) -> DocumentInfo:
    return DocumentInfo(row.filename, row.content_type, row.size, row.sha256)


# --------------------------------------------------------------------------- reading: organisations


def _organisation_view(row: Organisation) -> OrganisationView:
    return OrganisationView(
        org_id=row.org_id,
        name=row.name,
        kind=row.kind,
        competent_authority=row.competent_authority,
        contact=row.contact,
        secure_channel=row.secure_channel,
    )


def get_organisation(session: Session, org_id: str) -> OrganisationView | None:
    row = session.get(Organisation, org_id)
    return _organisation_view(row) if row is not None else None


def list_organisations(session: Session) -> list[OrganisationView]:
    rows = session.scalars(select(Organisation).order_by(Organisation.name, Organisation.org_id))
    return [_organisation_view(row) for row in rows]


def find_recipient(session: Session, recipient_id: str) -> RecipientView | None:
    """A partner organisation or a scheme member, by id (the two registers never share an id).

    A member that is an organisation is a competent authority if its organisation is one; an individual
    member never is.
    """
    org = session.get(Organisation, recipient_id)
    if org is not None:
        return RecipientView(
            recipient_id=org.org_id,
            kind="organisation",
            name=org.name,
            competent_authority=org.competent_authority,
            org_id=org.org_id,
            scheme_id=None,
            member_status=None,
            undertaking_signed_on=None,
        )
    member = session.get(SchemeMember, recipient_id)
    if member is None:
        return None
    member_org = session.get(Organisation, member.org_id) if member.org_id else None
    return RecipientView(
        recipient_id=member.member_id,
        kind="scheme_member",
        name=member.name,
        competent_authority=bool(member_org and member_org.competent_authority),
        org_id=member.org_id,
        scheme_id=member.scheme_id,
        member_status=member.status,
        undertaking_signed_on=member.undertaking_signed_on,
        registered_on=member.registered_on,
    )


# --------------------------------------------------------------------------- reading: agreements


def _agreement_views(session: Session, rows: Sequence[Agreement]) -> list[AgreementView]:
    """Views with their parties and document details, in three queries whatever the number of rows."""
    ids = [row.agreement_id for row in rows]
    if not ids:
        return []
    parties: dict[str, list[str]] = defaultdict(list)
    for link in session.scalars(
        select(AgreementParty).where(AgreementParty.agreement_id.in_(ids)).order_by(AgreementParty.org_id)
    ):
        parties[link.agreement_id].append(link.org_id)
    documents = {
        found.agreement_id: DocumentInfo(found.filename, found.content_type, found.size, found.sha256)
        for found in session.execute(
            select(
                AgreementDocument.agreement_id,
                AgreementDocument.filename,
                AgreementDocument.content_type,
                AgreementDocument.size,
                AgreementDocument.sha256,
            ).where(AgreementDocument.agreement_id.in_(ids))
        )
    }
    return [
        AgreementView(
            agreement_id=row.agreement_id,
            title=row.title,
            kind=row.kind,
            parties=tuple(parties[row.agreement_id]),
            purposes=_split(row.purposes),
            data_categories=_split(row.data_categories),
            lawful_bases=_split(row.lawful_bases),
            start_date=row.start_date,
            review_date=row.review_date,
            end_date=row.end_date,
            manual_status=row.manual_status,
            status_reason=row.status_reason,
            document=documents.get(row.agreement_id),
        )
        for row in rows
    ]


def get_agreement(session: Session, agreement_id: str) -> AgreementView | None:
    row = session.get(Agreement, agreement_id)
    return _agreement_views(session, [row])[0] if row is not None else None


def list_agreements(session: Session) -> list[AgreementView]:
    rows = list(session.scalars(select(Agreement).order_by(Agreement.title, Agreement.agreement_id)))
    return _agreement_views(session, rows)


def agreements_for(session: Session, org_id: str) -> list[AgreementView]:
    """Every agreement naming the organisation as a party, whatever its status (callers ask status_on)."""
    rows = list(
        session.scalars(
            select(Agreement)
            .join(AgreementParty, AgreementParty.agreement_id == Agreement.agreement_id)
            .where(AgreementParty.org_id == org_id)
            .order_by(Agreement.title, Agreement.agreement_id)
        )
    )
    return _agreement_views(session, rows)


def review_reminders(
    session: Session, today: date, within_days: int = DEFAULT_REVIEW_REMINDER_DAYS
) -> list[AgreementView]:
    """Agreements still to be relied on whose review date falls from `today` to `within_days` ahead.

    Those already past their review date are not reminders: their status is `review_overdue`.
    """
    last = today + timedelta(days=within_days)
    rows = list(
        session.scalars(
            select(Agreement)
            .where(Agreement.review_date >= today, Agreement.review_date <= last)
            .order_by(Agreement.review_date, Agreement.agreement_id)
        )
    )
    views = _agreement_views(session, rows)
    return [view for view in views if view.status_on(today) in ("in_force", "not_started")]


def lawful_basis_words(session: Session) -> dict[str, str]:
    """Lawful basis codes in words: the known codes', and those configured (`lawful_basis_names`)."""
    return {**LAWFUL_BASIS_WORDS, **identity.lawful_basis_names(session)}


def lawful_basis_codes(session: Session) -> list[str]:
    """The codes an agreement form offers: the force's configured vocabulary (`lawful_bases`, which a
    disclosure names its basis from), then the suggested ones not in it."""
    configured = [code.strip() for code in identity.config_value(session, "lawful_bases").split(";")]
    return list(dict.fromkeys(code for code in (*configured, *SUGGESTED_LAWFUL_BASES) if code))


def agreement_changed_at(session: Session, agreement_id: str) -> datetime | None:
    """When the agreement's record last changed (an import, its edit page, or a status the DPU set).

    Every change sets `updated_at`, so an end date read now has stood unchanged at least since then.
    """
    row = session.get(Agreement, agreement_id)
    return row.updated_at if row is not None else None


# --------------------------------------------------------------------------- reading: schemes and members


def _scheme_view(row: Scheme) -> SchemeView:
    return SchemeView(
        scheme_id=row.scheme_id,
        name=row.name,
        area_code=row.area_code,
        recognised=row.recognised,
        manager_name=row.manager_name,
        manager_vetted_until=row.manager_vetted_until,
    )


def _member_view(row: SchemeMember) -> MemberView:
    return MemberView(
        member_id=row.member_id,
        scheme_id=row.scheme_id,
        name=row.name,
        org_id=row.org_id,
        registered_on=row.registered_on,
        undertaking_signed_on=row.undertaking_signed_on,
        status=row.status,
    )


def get_scheme(session: Session, scheme_id: str) -> SchemeView | None:
    row = session.get(Scheme, scheme_id)
    return _scheme_view(row) if row is not None else None


def scheme_unrecognised_since(session: Session, scheme_id: str) -> datetime | None:
    """Since when (at the latest) the scheme has not been recognised; None if it is, or is not registered.

    `recognised` is rewritten by every scheme import, so one import with a data error can clear it. The
    moment is the scheme's `updated_at`: every change to a scheme (an import or its edit page, through
    `store_register`) sets it, so a scheme not recognised now has been not recognised at least since then. A
    change to another field since moves it later, never earlier: a grace period counted from it is never cut
    short (the ledger's alteration entries say which fields changed, but only as digests, and only once
    committed).
    """
    row = session.get(Scheme, scheme_id)
    return row.updated_at if row is not None and not row.recognised else None


def list_schemes(session: Session) -> list[SchemeView]:
    rows = session.scalars(select(Scheme).order_by(Scheme.name, Scheme.scheme_id))
    return [_scheme_view(row) for row in rows]


def scheme_member(session: Session, scheme_id: str, member_id: str) -> MemberView | None:
    """The member, if registered with this scheme (whatever their status: callers ask `.current`)."""
    row = session.get(SchemeMember, member_id)
    return _member_view(row) if row is not None and row.scheme_id == scheme_id else None


def list_members(session: Session, scheme_id: str) -> list[MemberView]:
    rows = session.scalars(
        select(SchemeMember)
        .where(SchemeMember.scheme_id == scheme_id)
        .order_by(SchemeMember.name, SchemeMember.member_id)
    )
    return [_member_view(row) for row in rows]


def member_counts(session: Session) -> dict[str, tuple[int, int]]:
    """Per scheme: (active members, all members). Counts only, so no one's details are consulted."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    query = select(SchemeMember.scheme_id, SchemeMember.status, func.count()).group_by(
        SchemeMember.scheme_id, SchemeMember.status
    )
    for scheme_id, status, number in session.execute(query):
        counts[scheme_id][1] += number
        if status == "active":
            counts[scheme_id][0] += number
    return {scheme_id: (active, total) for scheme_id, (active, total) in counts.items()}


def memberships_of(session: Session, org_id: str) -> list[MemberView]:
    """The scheme registrations of a partner organisation."""
    rows = session.scalars(
        select(SchemeMember).where(SchemeMember.org_id == org_id).order_by(SchemeMember.scheme_id)
    )
    return [_member_view(row) for row in rows]


def view_members_register(
    session: Session,
    scheme_id: str | None,
    *,
    actor: str,
    justification: str = REGISTER_JUSTIFICATION,
) -> dict[str, list[MemberView]]:
    """Members of one scheme (or of every scheme, `scheme_id` None) for a screen or an export, by scheme.

    Members who are individuals are people, so showing the register is a consultation of their data.
    """
    query = select(SchemeMember).order_by(SchemeMember.scheme_id, SchemeMember.name, SchemeMember.member_id)
    if scheme_id is not None:
        query = query.where(SchemeMember.scheme_id == scheme_id)
    register: dict[str, list[MemberView]] = defaultdict(list)
    for row in session.scalars(query):
        register[row.scheme_id].append(_member_view(row))
    people = tuple(m.member_id for members in register.values() for m in members if m.individual)
    ledger.record_consultation(
        session,
        actor=actor,
        object_type="scheme_register",
        object_id=scheme_id,
        subjects=people,
        justification=justification,
    )
    return dict(register)


def view_member(
    session: Session,
    scheme_id: str,
    member_id: str,
    *,
    actor: str,
    justification: str = REGISTER_JUSTIFICATION,
) -> MemberView | None:
    """One member's record for a screen; showing it is a consultation (an individual member is a person)."""
    member = scheme_member(session, scheme_id, member_id)
    if member is not None:
        ledger.record_consultation(
            session,
            actor=actor,
            object_type="scheme_member",
            object_id=member_id,
            subjects=(member_id,) if member.individual else (),
            justification=justification,
        )
    return member
