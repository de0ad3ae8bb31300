"""The audit area: ledger status, verification, entry search, subject access exports (CSV and PDF).

What a viewer is shown of the entries can be narrowed by screens that other modules register on the app at
start-up (`add_screen`): the ledger is the foundation and knows nothing of them; a module that knows some of
its own entries are not for some viewers (monitoring: counter-corruption casework about the viewer, staff
not yet revealed to them) says so for each request. See docs/architecture.md, "Screens on the ledger".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import chain, islice
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.identity.service import display_names, staff_label, staff_labeller
from custodes.kit.db import utcnow
from custodes.kit.pdf import html_to_pdf
from custodes.kit.timefmt import LONDON, london, rfc3339
from custodes.ledger import service as ledger
from custodes.ledger.schemas import CheckpointInfo, EntryFilter, StoredEntry
from custodes.settings import Settings
from custodes.web.deps import Db, reading, require
from custodes.web.exports import csv_download
from custodes.web.forms import date_of_birth_in
from custodes.web.notices import done_redirect
from custodes.web.templating import environment, render

router = APIRouter(prefix="/audit")
Auditor = Annotated[Principal, Depends(require(Permission.LEDGER_VIEW))]
Verifier = Annotated[Principal, Depends(require(Permission.LEDGER_VERIFY))]
Exporter = Annotated[Principal, Depends(require(Permission.LEDGER_EXPORT))]
PAGE = 50
EXPORT_LIMIT = 200_000
SCREEN_BATCH = 500  # entries an export hands a screen's rewrite at a time


@dataclass(frozen=True)
class EntryScreen:
    """What one viewer may see of the ledger, as a module that wrote some of its entries knows it.

    `hidden`: entries whose recorded bytes mention any of these texts (ids, references) are left out of
    every list, count, export and entry page, in the query itself, so totals match what is listed.
    `rewrite`: given the entries about to be shown (a page, or a batch of an export), returns them in the
    same order as this viewer may see them (StoredEntry.screened and .stand_ins set on those it changed)."""

    hidden: frozenset[str] = frozenset()
    rewrite: Callable[[list[StoredEntry]], list[StoredEntry]] | None = None


# Called once per request with the viewer and the people a search names (subject and actor, as typed and
# without an actor's `staff:` prefix): their screen, or None if the module has nothing to withhold.
Screen = Callable[[Session, Settings, Principal, frozenset[str]], EntryScreen | None]


def add_screen(app: FastAPI, screen: Screen) -> None:
    """Register a module's screen on the app (at start-up, by web.app.create_app)."""
    app.state.ledger_screens = (*getattr(app.state, "ledger_screens", ()), screen)


# Given subject ids, the names a module knows those people by, as (surname, forenames) pairs, for the ids it
# knows (the others left out). Not logged: the names are looked for, never shown.
NameLookup = Callable[[Session, Collection[str]], Mapping[str, Sequence[tuple[str, str]]]]


def add_name_lookup(app: FastAPI, lookup: NameLookup) -> None:
    """Register a module's register of people on the app (at start-up, by web.app.create_app): a report on
    one person withholds a text naming another of an entry's people by name, not only by id."""
    app.state.ledger_name_lookups = (*getattr(app.state, "ledger_name_lookups", ()), lookup)


@dataclass(frozen=True)
class PersonFound:
    """A person a search by name found in a module's register: enough to tell people apart, and their id."""

    subject_id: str
    name: str  # as the register holds it, e.g. "SMITH, Adam"
    born: date | None
    lives_in: str  # the town or postcode district, or why it is not shown ("" if not held)


@dataclass(frozen=True)
class PeopleFound:
    people: tuple[PersonFound, ...]
    more: bool  # more people match than are shown


class PersonSearchRefused(ValueError):
    """A search by name that is not run: `problems` gives each field's message (naming the field and rule)."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(" ".join(problems.values()))
        self.problems = dict(problems)


# Finds people by name in a module's register of people, for the auditor who knows a name but not the subject
# id a ledger search needs: (session, actor, surname, forenames, date of birth, reason). The module records
# the search as the consultation it is (with the reason, naming the people shown); PersonSearchRefused if a
# field is wrong.
PersonFinder = Callable[[Session, str, str, str, date | None, str], PeopleFound]


def add_person_finder(app: FastAPI, finder: PersonFinder) -> None:
    """Register the register of people's search by name (at start-up, by web.app.create_app): the audit
    screens' "find a person by name" leads from a name to the subject ids a ledger search takes."""
    app.state.ledger_person_finder = finder


# The name a module's register of people holds for a subject id, None if it holds none:
# (session, subject id, actor, reason). Showing it is a consultation, which the module records.
PersonNamer = Callable[[Session, str, str, str], str | None]


def add_person_namer(app: FastAPI, namer: PersonNamer) -> None:
    """Register the register of people's name for a subject id (at start-up, by web.app.create_app): a
    subject access report is headed with the name of the person it is for."""
    app.state.ledger_person_namers = (*getattr(app.state, "ledger_person_namers", ()), namer)


@dataclass(frozen=True)
class AccessQuery:
    """Whose accesses in police systems an audit search asks for: to a person's records (`subject_id`), by a
    member of staff (`staff_id`), or both; within the search's dates; covered by a ledger entry numbered below
    `before` (the search's fixed set, so that the list, the CSV and the PDF hold the same accesses)."""

    subject_id: str | None
    staff_id: str | None
    since: datetime | None
    until: datetime | None
    before: int | None
    limit: int
    reason: str


@dataclass(frozen=True)
class AccessFound:
    """One stored access to a record in a police system, and the ledger entry of the batch that holds it (its
    proof: `custodes monitor prove EVENT_ID --batch BATCH`)."""

    at: datetime
    system: str
    staff_id: str
    action: str  # search, view, update, print, export
    record_type: str
    subject_id: str | None
    event_id: str
    batch_id: str
    batch_entry: int  # the ledger index of the batch's `consultation` entry


@dataclass(frozen=True)
class AccessesFound:
    rows: tuple[AccessFound, ...]  # newest first, at most the query's limit
    total: int  # every access matching, of which `rows` are the first
    withheld: str | None = None  # why none are listed to this viewer (then rows and total are empty)


# The accesses a module stores that match an audit search: (session, settings, viewer, query). The module
# records their showing as the consultation it is (the reason, naming the person searched for).
AccessLister = Callable[[Session, Settings, Principal, AccessQuery], AccessesFound]


def add_access_lister(app: FastAPI, lister: AccessLister) -> None:
    """Register the access-event store's search (at start-up, by web.app.create_app): a search by person or
    by member of staff, and the subject access report, list the accesses to police systems that the ledger
    holds only as batches (docs/ledger.md, "Accesses in police systems")."""
    app.state.ledger_access_lister = lister


ACTION_WORDS = {
    "search": "Searched",
    "view": "Viewed",
    "update": "Changed",
    "print": "Printed",
    "export": "Exported",
}


def access_words(access: AccessFound) -> str:
    """What an access did, in words: "Viewed a person record in PNC"."""
    verb = ACTION_WORDS.get(access.action, access.action.capitalize())
    record = access.record_type.replace("_", " ") if access.record_type else ""
    return f"{verb} {'a ' + record + ' record' if record else 'records'} in {access.system}"


def _access_query(form: SearchForm, limit: int) -> AccessQuery | None:
    """The accesses a search asks for: by person or by member of staff; none for a search narrowed to an
    operation (the accesses are not ledger operations) or by a system component."""
    criteria = form.criteria
    actor = criteria.actor or ""
    staff_id = actor.removeprefix("staff:") if actor.startswith("staff:") else None
    if criteria.op or (criteria.subject is None and staff_id is None) or (actor and staff_id is None):
        return None
    return AccessQuery(
        criteria.subject,
        staff_id,
        criteria.since,
        criteria.until,
        criteria.before,
        limit,
        form.values["reason"],
    )


def _accesses(
    request: Request, db: Session, principal: Principal, form: SearchForm, limit: int
) -> AccessesFound | None:
    """The accesses in police systems the search lists (None: the search asks for none, or no module stores
    them); the module records their showing."""
    lister: AccessLister | None = getattr(request.app.state, "ledger_access_lister", None)
    query = _access_query(form, limit)
    if lister is None or query is None:
        return None
    return lister(db, request.app.state.settings, principal, query)


def _subject_name(
    request: Request, db: Session, principal: Principal, subject: str, reason: str
) -> str | None:
    """The name of the person a report is about: as the register of people holds it (recorded there as a
    consultation), or, for a member of staff, their account's name (the report's own consultation names
    them)."""
    for namer in getattr(request.app.state, "ledger_person_namers", ()):
        name = namer(db, subject, principal.actor, reason)
        if name:
            return name
    return display_names(db, [subject]).get(subject)


def _known_names(request: Request, db: Session, people: Collection[str]) -> ledger.KnownNames:
    found: dict[str, list[tuple[str, str]]] = {}
    for lookup in getattr(request.app.state, "ledger_name_lookups", ()) if people else ():
        for person, names in lookup(db, people).items():
            found.setdefault(person, []).extend(names)
    return ledger.KnownNames(found)


def _screens(
    request: Request, db: Session, principal: Principal, criteria: EntryFilter | None = None
) -> list[EntryScreen]:
    settings = request.app.state.settings
    searched = _people_searched(criteria)
    screens = getattr(request.app.state, "ledger_screens", ())
    found = (screen(db, settings, principal, searched) for screen in screens)
    return [s for s in found if s is not None]


def _people_searched(criteria: EntryFilter | None) -> frozenset[str]:
    if criteria is None:
        return frozenset()
    named = {criteria.subject, criteria.actor, (criteria.actor or "").removeprefix("staff:")}
    return frozenset(name for name in named if name)


def _hidden(screens: Sequence[EntryScreen]) -> frozenset[str]:
    return frozenset().union(*(s.hidden for s in screens))


def _rewrite(screens: Sequence[EntryScreen], rows: list[StoredEntry]) -> list[StoredEntry]:
    for screen in screens:
        if screen.rewrite is not None and rows:
            rows = screen.rewrite(rows)
    return rows


def _shown_people(rows: Sequence[StoredEntry], subject: str | None = None) -> list[str]:
    if subject:  # a report on one person names only them (ledger.subject_view)
        return [subject] if any(subject in row.subjects for row in rows) else []
    return list(dict.fromkeys(person for row in rows for person in row.shown_subjects))


def _subject_view(
    request: Request, db: Session, form: SearchForm, rows: Sequence[StoredEntry]
) -> Callable[[StoredEntry], ledger.SubjectView] | None:
    """For a search by person: how each of `rows` is shown, naming only that person, so that the list, the
    CSV and the PDF can be handed to the person who asked (the other people an entry concerns are counted,
    and a text naming one of them, by id or by name, is withheld)."""
    subject = form.criteria.subject
    if not subject:
        return None
    others = {person for row in rows for person in row.subjects if person != subject}
    names = _known_names(request, db, others)
    return lambda entry: ledger.subject_view(entry, subject, names)


# The operations in words, for the screens (the CSV keeps the recorded codes).
OPERATION_WORDS = {
    "collection": "collection (recorded)",
    "alteration": "alteration (changed)",
    "consultation": "consultation (looked at)",
    "disclosure": "disclosure (shared)",
    "combination": "combination (joined with other data)",
    "erasure": "erasure (deleted)",
    "authorisation": "authorisation",
    "refusal": "refusal",
    "review": "review",
    "correction": "correction",
    "declaration": "declaration",
    "login": "log-in",
    "login_failed": "failed log-in",
    "access_denied": "access refused",
    "configuration": "configuration change",
    "checkpoint": "checkpoint (signed)",
}


def operation_words(op: str) -> str:
    return OPERATION_WORDS.get(op, op.replace("_", " "))


# The records entries are about, in words, by object type (the CSV keeps the recorded codes); a type not
# listed reads as its code in words ("stop_search_month" -> "Stop search month").
RECORD_WORDS = {
    "account": "User account",
    "account_list": "List of user accounts",
    "access_batch": "Batch of access log events",
    "access_check": "Pre-access check",
    "access_event": "Access log event",
    "access_events": "Accesses in police systems",
    "access_ingest": "Access log import",
    "agreement": "Information sharing agreement",
    "agreement_document": "Agreement document",
    "alert": "Monitoring alert",
    "api_token": "API token",
    "case": "Case",
    "config": "Configuration setting",
    "course": "Training course",
    "data_key": "Data encryption key",
    "database_role": "Database role",
    "declaration": "Declaration",
    "declaration_queue": "Declarations to decide",
    "declaration_register": "Declarations register",
    "disclosure": "Disclosure request",
    "disclosure_correction": "Correction",
    "disclosure_corrections": "Corrections and correction notices",
    "investigation": "Investigation",
    "investigation_list": "List of investigations",
    "ledger": "Audit ledger",
    "ledger_entry": "Audit ledger entry",
    "ledger_export": "Audit ledger entries read whole, numbers",
    "ledger_search": "Search of the audit ledger",
    "monitor_run": "Monitoring run",
    "nominal": "Person's record",
    "nominal_search": "Search for a person by name",
    "organisation": "Partner organisation",
    "referral": "Referral",
    "referral_queue": "Referrals to handle",
    "retention_rule": "Retention rule",
    "roster": "Duty roster",
    "route": "Screen",
    "scheme": "Information sharing scheme",
    "scheme_member": "Scheme member",
    "scheme_register": "Schemes register",
    "staff": "Staff record",
    "staff_register": "Staff register",
    "stop_search_month": "Stop and search month",
    "stop_search_publication": "Stop and search publication",
    "stop_search_record": "Stop and search record",
    "stop_search_sample": "Stop and search sample",
    "training": "Training record",
    "training_team": "Team training",
    "vetting": "Vetting record",
    "vetting_backlog": "Vetting backlog",
    "vetting_renewals": "Vetting renewals due",
}

# What was done, as the CSV's `what` column begins ("Looked at: Disclosure NA/007/26").
WHAT_VERBS = {
    "collection": "Recorded",
    "alteration": "Changed",
    "consultation": "Looked at",
    "disclosure": "Shared",
    "combination": "Joined with other data",
    "erasure": "Deleted",
    "authorisation": "Authorised",
    "refusal": "Refused",
    "review": "Reviewed",
    "correction": "Corrected",
    "declaration": "Declared",
    "login": "Logged in",
    "login_failed": "Failed to log in",
    "access_denied": "Refused access to",
    "configuration": "Changed the configuration",
    "checkpoint": "Signed a checkpoint of",
}

# Given object ids of one type, the references their module names them by ("NA/007/26"), for the ids it
# has one for. Not logged: a reference names no one.
References = Callable[[Session, Collection[str]], Mapping[str, str]]


def add_record_references(app: FastAPI, object_type: str, references: References) -> None:
    """Register how a module refers to its records of `object_type` (at start-up, by web.app.create_app), so
    that the audit screens and reports show "Disclosure NA/007/26", not "disclosure 12"."""
    app.state.ledger_references = {**getattr(app.state, "ledger_references", {}), object_type: references}


def record_words(object_type: str, object_id: str | None, reference: str | None = None) -> str:
    """An entry's record in words: "Disclosure NA/007/26" (its module's reference), "Disclosure request 12"
    without one, "Search for a person by name"."""
    if object_type == "disclosure" and reference:
        return f"Disclosure {reference}"
    noun = RECORD_WORDS.get(object_type) or object_type.replace("_", " ").capitalize()
    return f"{noun} {reference or object_id}" if object_id else noun


def _record_labeller(
    request: Request, db: Session, rows: Sequence[StoredEntry]
) -> Callable[[StoredEntry], str]:
    """How the Record column reads for `rows`: in words, with the references their modules give."""
    found: dict[tuple[str, str], str] = {}
    for object_type, references in getattr(request.app.state, "ledger_references", {}).items():
        ids = {row.object_id for row in rows if row.object_type == object_type and row.object_id}
        if ids:
            found.update(((object_type, i), ref) for i, ref in references(db, ids).items())

    def record(entry: StoredEntry) -> str:
        reference = found.get((entry.object_type, entry.object_id or ""))
        return record_words(entry.object_type, entry.object_id, reference)

    return record


def what_was_done(entry: StoredEntry, record: str, detail: Mapping[str, Any] | None) -> str:
    """The CSV's `what`: the operation and the record in words, and, from the detail when it is shown, the
    action recorded and the names of the fields changed (never their values)."""
    words = f"{WHAT_VERBS.get(entry.op, operation_words(entry.op).capitalize())}: {record}"
    if detail:
        action = detail.get("action")
        if isinstance(action, str) and action:
            words += f" ({action})"
        changes = detail.get("changes")
        if isinstance(changes, dict) and changes:
            words += "; fields changed: " + ", ".join(str(field) for field in changes)
    return words


def _staff_names(
    db: Session, rows: Sequence[StoredEntry], screens: Sequence[EntryScreen]
) -> Mapping[str, str]:
    """The account names of the members of staff who did what `rows` record (a colleague's name is not a
    subject's data: not logged). None where a screen applies (counter-corruption casework pseudonymises
    staff there)."""
    if screens:
        return {}
    return display_names(
        db, {row.actor.removeprefix("staff:") for row in rows if row.actor.startswith("staff:")}
    )


def _who(names: Mapping[str, str]) -> Callable[[str], str]:
    """How the Who column reads, on the screens and in the PDF: 'Tunde Mills (S12778)' for a member of
    staff, as every other screen shows them (`identity.service.staff_label`; the number alone without a
    name), 'system: demo' for a component."""

    def who(actor: str) -> str:
        kind, _, name = actor.partition(":")
        if kind == "staff":
            return staff_label(names, name)
        return f"{kind}: {name}" if name else actor

    return who


@router.get("")
def audit_home(request: Request, db: Db, _auditor: Auditor) -> Any:
    settings = request.app.state.settings
    verification = ledger.latest_verification(db)
    return render(
        request,
        "audit.html",
        title="Audit ledger",
        status=ledger.status(db, settings),
        verification=verification,
        who=staff_labeller(db, [verification.by if verification else None]),
        now=utcnow(),
    )


@router.post("/verify")
def run_verification(request: Request, db: Db, principal: Verifier) -> Any:
    # Verification reads the whole log: in a read-only unit of work of its own, so that it holds no write
    # lock (SQLite), after ending the request's, which checking the sign-in began (BEGIN IMMEDIATE). The
    # record of the run is a short write in the request's next transaction.
    with reading(request, db) as reader:
        report = ledger.verify(reader, request.app.state.settings)
    ledger.record_verification(db, report, principal.staff_id)
    message = (
        f"Verified {report.size:,} entries: intact."
        if report.intact
        else f"Verification found a fault at entry {report.fault.index if report.fault else '?'}."
    )
    return done_redirect("/audit", message)


class SearchForm:
    """The search form's fields, parsed leniently: a bad field becomes a problem shown beside the form."""

    def __init__(self, request: Request) -> None:
        params = request.query_params
        self.values = {
            key: params.get(key, "").strip()
            for key in ("subject", "actor", "op", "since", "until", "reason", "upto")
        }
        self.problems: list[str] = []
        self.name_search: str | None = None  # a search by name for what was typed as the person (a name)
        self.wrong: dict[str, str] = {}  # field -> its problem, shown at the field
        actor = self.values["actor"]
        if actor and ":" not in actor:
            actor = f"staff:{actor}"
        op = self.values["op"]
        if op and op not in ledger.operations():
            self._problem("op", f"Operation: {op!r} is not one of the ledger's operations")
            op = ""
        self.criteria = EntryFilter(
            subject=self.values["subject"] or None,
            actor=actor or None,
            op=op or None,
            since=self._day("since", "From"),
            until=self._day("until", "To", next_day=True),
            before=self._upto(),
        )
        try:
            self.page = max(1, int(params.get("page", "1")))
        except ValueError:
            self.page = 1

    def _day(self, key: str, label: str, next_day: bool = False) -> datetime | None:
        text = self.values[key]
        if not text:
            return None
        try:
            day = date.fromisoformat(text)
        except ValueError:
            self._problem(key, f"{label}: {text!r} is not a date")
            return None
        day = day + timedelta(days=1) if next_day else day
        return datetime(day.year, day.month, day.day, tzinfo=LONDON)

    def _upto(self) -> int | None:
        """The ledger's size when the search was made (carried in its export and page links): the entries
        recorded since, among them the search's and the exports' own, are not part of it."""
        text = self.values["upto"]
        if not text:
            return None
        if not text.isdigit():
            self._problem("upto", f"Entries up to: {text!r} is not an entry number")
            return None
        return int(text)

    def fix_set(self, size: int) -> None:
        """Hold the search to the entries there were when it was made (up to `size`), in its links too."""
        if self.criteria.before is None or self.criteria.before > size:
            self.criteria = replace(self.criteria, before=size)
            self.values["upto"] = str(size)

    def _problem(self, field: str, message: str) -> None:
        self.problems.append(message)
        self.wrong[field] = message

    def query_string(self) -> str:
        return urlencode({k: v for k, v in self.values.items() if v})


def _search_allowed(form: SearchForm) -> bool:
    """False (with a problem on the form) if the form is wrong or the reason is missing."""
    try:  # checked even when another field is wrong: every problem is shown at once
        ledger.check_search_reason(form.criteria, form.values["reason"])
    except ledger.LedgerError as error:
        form._problem("reason", "Reason for this search: " + str(error))
    return not form.problems


def looks_like_name(text: str) -> bool:
    """Whether a value typed as a subject id reads as a person's name: letters and no digit ("Adam Smith",
    "SMITH, Adam"). Subject ids carry a number (N2001, S1001)."""
    return any(c.isalpha() for c in text) and not any(c.isdigit() for c in text)


def name_parts(text: str) -> tuple[str, str]:
    """(surname, forenames) of a name as typed: "Smith, Adam" and "SMITH Adam" give the surname first,
    otherwise it is the last word ("Adam Smith"). A guess, shown in a form the auditor can correct."""
    if "," in text:
        surname, _, forenames = text.partition(",")
        return " ".join(surname.split()), " ".join(forenames.split())
    words = text.split()
    if len(words) > 1 and words[0].isupper() and not words[-1].isupper():
        return words[0], " ".join(words[1:])
    return (words[-1], " ".join(words[:-1])) if words else ("", "")


def _name_given(form: SearchForm) -> None:
    """The person was given by name, and no entry has that as its subject id: say so at the field and lead
    to the search by name, rather than show an empty report (that could be handed, empty, to someone whose
    data is held)."""
    typed = form.values["subject"]
    surname, forenames = name_parts(typed)
    form.name_search = "/audit/people?" + urlencode(
        {"surname": surname, "forenames": forenames, "reason": form.values["reason"]}
    )
    form._problem(
        "subject",
        f"Person: give a subject id such as N2001, not a name. {typed!r} is not the subject id of any entry; "
        "to find someone's subject id by name, use \u201cFind a person by name\u201d.",
    )


@router.get("/entries")
def entries(request: Request, db: Db, principal: Auditor) -> Any:
    form = SearchForm(request)
    if not _search_allowed(form):
        return _search_page(request, form, subject_view=_subject_view(request, db, form, []))
    with reading(request, db) as reader:  # no write lock held while the search runs (docs/ledger.md)
        form.fix_set(ledger.size(reader))
        screens = _screens(request, reader, principal, form.criteria)
        criteria = replace(form.criteria, hidden=_hidden(screens))
        total = ledger.count(reader, criteria)
        named = total == 0 and form.criteria.subject is not None and looks_like_name(form.criteria.subject)
        rows = [] if named else ledger.search(reader, criteria, limit=PAGE, offset=(form.page - 1) * PAGE)
        rows = _rewrite(screens, rows)
        names = _staff_names(reader, rows, screens)
        subject_view = _subject_view(request, reader, form, rows)
        record = _record_labeller(request, reader, rows)
    if named:
        # Nothing was shown and the search is not recorded: its consultation would put the typed name, in
        # words, in the ledger (a search by name records keyed digests of what was typed instead).
        _name_given(form)
        return _search_page(request, form)
    # The page names people: its consultation names them (this page's, not every match: one page's cost),
    # recorded in the request's unit of work, committed before the page is sent.
    shown = _shown_people(rows, form.criteria.subject)
    ledger.record_search(db, principal.actor, form.criteria, form.values["reason"], shown)
    # The accesses to police systems the search asks for: their first page, their showing recorded by the
    # module that stores them, in the same unit of work.
    accesses = _accesses(request, db, principal, form, PAGE)
    if accesses is not None and accesses.rows and not screens:
        names = {**names, **display_names(db, {access.staff_id for access in accesses.rows})}
    return _search_page(
        request,
        form,
        rows,
        total,
        can_export=principal.can(Permission.LEDGER_EXPORT),
        who=_who(names),
        subject_view=subject_view,
        record=record,
        accesses=accesses,
    )


@router.get("/people")
def find_person(request: Request, db: Db, principal: Auditor) -> Any:
    """Find a person's subject id by name (and date of birth) in the register of people, to search the ledger
    for them: each person found links to the ledger search by their id, with the same reason. The register's
    module records the search (the reason, the people shown, keyed digests of what was typed)."""
    keys = ("surname", "forenames", "date_of_birth", "reason")
    values = {key: (request.query_params.get(key) or "").strip()[:200] for key in keys}
    finder: PersonFinder | None = getattr(request.app.state, "ledger_person_finder", None)
    if finder is None:
        raise HTTPException(404, "There is no register of people to search by name.")
    if not any(values.values()):
        return _people_page(request, values)  # the empty form: nothing searched, nothing shown
    errors: dict[str, str] = {}
    born = date_of_birth_in(values, errors)
    if errors:
        return _people_page(request, values, errors=errors, status=400)
    try:
        found = finder(db, principal.actor, values["surname"], values["forenames"], born, values["reason"])
    except PersonSearchRefused as error:
        return _people_page(request, values, errors=error.problems, status=400)
    return _people_page(request, values, found)


def _people_page(
    request: Request,
    values: Mapping[str, str],
    found: PeopleFound | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> Any:
    def ledger_search(person: PersonFound) -> str:
        return "/audit/entries?" + urlencode({"subject": person.subject_id, "reason": values["reason"]})

    return render(
        request,
        "people.html",
        status,
        title="Find a person by name",
        values=values,
        found=found,
        errors=errors or {},
        ledger_search=ledger_search,
    )


def _search_page(
    request: Request,
    form: SearchForm,
    rows: list[StoredEntry] | None = None,
    total: int = 0,
    *,
    can_export: bool = False,
    status_code: int = 200,
    who: Callable[[str], str] = str,
    subject_view: Callable[[StoredEntry], ledger.SubjectView] | None = None,
    record: Callable[[StoredEntry], str] | None = None,
    accesses: AccessesFound | None = None,
) -> Any:
    return render(
        request,
        "entries.html",
        status_code,
        title="Search the ledger",
        form=form,
        rows=rows or [],
        total=total,
        accesses=accesses,
        access_words=access_words,
        operations=ledger.operations(),
        pages=max(1, (total + PAGE - 1) // PAGE),
        can_export=can_export,
        subject_view=subject_view,
        who=who,
        op_words=operation_words,
        record=record or (lambda e: record_words(e.object_type, e.object_id)),
    )


@router.get("/entries/{index}")
def entry(request: Request, db: Db, principal: Auditor, index: int) -> Any:
    with reading(request, db) as reader:
        screens = _screens(request, reader, principal)
        found = ledger.get_entry(reader, index, _hidden(screens))
        if found is None:  # absent, or not for this viewer: the same answer
            raise HTTPException(404, f"There is no entry {index}.")
        item = _rewrite(screens, [found])[0]
        checkpoint = ledger.latest_checkpoint(reader)
        covered = checkpoint is not None and index < checkpoint.size
        proof = ledger.prove_inclusion(reader, index, checkpoint.size) if checkpoint and covered else None
        who = _who(_staff_names(reader, [item], screens))
        record = _record_labeller(request, reader, [item])
    ledger.record_entry_view(db, item, principal.actor)
    return render(
        request,
        "entry.html",
        title=f"Entry {index}",
        entry=item,
        who=who,
        op_words=operation_words,
        record=record,
        proof=proof,
        checkpoint=checkpoint,
        body=json.dumps(item.content, indent=2, ensure_ascii=False) if item.content else None,
    )


@dataclass(frozen=True)
class _Export:
    """What an export shows, read in a read-only unit of work (`_read_export`)."""

    rows: list[StoredEntry]
    subject_view: Callable[[StoredEntry], ledger.SubjectView] | None
    checkpoint: CheckpointInfo | None
    names: Mapping[str, str]  # of the staff who did what the rows record (`_staff_names`)
    record: Callable[[StoredEntry], str]  # the Record column in words (`_record_labeller`)
    accesses: AccessesFound | None  # the accesses to police systems the search lists (`_accesses`)


def _read_export(request: Request, db: Db, principal: Principal, form: SearchForm) -> _Export:
    """The entries an export holds (at most EXPORT_LIMIT), screened for the viewer, read in a read-only unit
    of work: an export of 200,000 entries used to hold SQLite's write lock, and so every log-in, disclosure
    and gate decision, until it was done. Then its consultation (the search, naming the people searched
    for), in the request's unit of work: a short write, committed before the file is sent."""
    with reading(request, db) as reader:
        form.fix_set(ledger.size(reader))
        screens = _screens(request, reader, principal, form.criteria)
        matching: Iterator[StoredEntry] = ledger.iter_matching(
            reader, replace(form.criteria, hidden=_hidden(screens))
        )
        rows: list[StoredEntry] = []
        while len(rows) < EXPORT_LIMIT:
            batch = list(islice(matching, min(SCREEN_BATCH, EXPORT_LIMIT - len(rows))))
            if not batch:
                break
            rows += _rewrite(screens, batch)
        view = _subject_view(request, reader, form, rows)
        # A report on one person is theirs to be given: the staff who handled their data are third parties
        # in it, so it shows their numbers and the DPU decides, as for any disclosure, whether to name them.
        names = {} if view is not None else _staff_names(reader, rows, screens)
        record = _record_labeller(request, reader, rows)
        checkpoint = ledger.latest_checkpoint(reader)
    ledger.record_search(db, principal.actor, form.criteria, form.values["reason"])
    # Then the accesses to police systems, every one (up to EXPORT_LIMIT), their showing recorded by the
    # module that stores them. The staff are named as for the entries: by number only in a report on one
    # person, where they are third parties.
    accesses = _accesses(request, db, principal, form, EXPORT_LIMIT)
    if accesses is not None and accesses.rows and view is None and not screens:
        names = {**names, **display_names(db, {access.staff_id for access in accesses.rows})}
    return _Export(rows, view, checkpoint, names, record, accesses)


# The CSV's columns. A report on one person (a search by person: the subject access report) has no
# `actor_name`: it gives the staff by number only (`actor`), they being third parties in a report handed to
# the person it is about (docs/ledger.md, "A report on one person names only them"). One table of two kinds
# of row (`kind`): the ledger's entries, then the accesses to police systems the search lists, each with the
# ledger index of its batch's entry (`batch_entry`), which proves it.
KIND_ENTRY = "ledger entry"
KIND_ACCESS = "police system access"
CSV_COLUMNS = [
    "kind",
    "index",
    "at_utc",
    "at_london",
    "actor",
    "actor_name",
    "op",
    "what",
    "object_type",
    "object_id",
    "subjects",
    "justification",
    "recipients",
    "detail",
    "leaf_hash",
    "batch_entry",
]


@router.get("/export.csv")
def export_csv(request: Request, db: Db, principal: Exporter) -> Any:
    form = SearchForm(request)
    if not _search_allowed(form):
        return _search_page(request, form, status_code=400, subject_view=_subject_view(request, db, form, []))
    export = _read_export(request, db, principal, form)
    found, view, names, record = export.rows, export.subject_view, export.names, export.record
    header = [column for column in CSV_COLUMNS if not (view is not None and column == "actor_name")]

    def row(item: StoredEntry) -> list[Any]:
        people, justification, detail = ";".join(item.subjects), item.justification, item.detail
        shown_detail: dict[str, Any] | None = detail
        if view is not None:
            shown = view(item)
            people, justification, shown_detail = shown.people, shown.justification, shown.detail
            detail = shown.detail if shown.detail is not None else {"withheld": ledger.WITHHELD_FOR_OTHERS}
        actor_name = names.get(item.actor.removeprefix("staff:")) if item.actor.startswith("staff:") else None
        values = {
            "kind": KIND_ENTRY,
            "index": item.index,
            "at_utc": rfc3339(item.at),
            "at_london": london(item.at, True),
            "actor": item.actor,
            "actor_name": actor_name,
            "op": item.op,
            "what": "redacted" if item.content is None else what_was_done(item, record(item), shown_detail),
            "object_type": item.object_type,
            "object_id": item.object_id,
            "subjects": people,
            "justification": justification,
            "recipients": ";".join(item.recipients),
            "detail": json.dumps(detail, ensure_ascii=False) if detail else None,
            "leaf_hash": item.leaf_hash.hex(),
            "batch_entry": None,
        }
        return [values[column] for column in header]

    def access_row(access: AccessFound) -> list[Any]:
        values = {
            "kind": KIND_ACCESS,
            "at_utc": rfc3339(access.at),
            "at_london": london(access.at, True),
            "actor": f"staff:{access.staff_id}",
            "actor_name": names.get(access.staff_id),
            "what": access_words(access),
            "object_type": "access_event",
            "object_id": access.event_id,
            "subjects": access.subject_id,
            "detail": json.dumps(
                {"system": access.system, "action": access.action, "batch": access.batch_id}
            ),
            "batch_entry": access.batch_entry,
        }
        return [values.get(column) for column in header]

    accesses = export.accesses.rows if export.accesses is not None else ()
    rows = chain((row(item) for item in found), (access_row(access) for access in accesses))
    return csv_download("custodes-ledger-entries.csv", header, rows)


@router.get("/export.pdf")
def export_pdf(request: Request, db: Db, principal: Exporter) -> Any:
    form = SearchForm(request)
    if not _search_allowed(form):
        return _search_page(request, form, status_code=400, subject_view=_subject_view(request, db, form, []))
    settings = request.app.state.settings
    export = _read_export(request, db, principal, form)
    subject = form.criteria.subject
    # The report is for the person it is about: their name as the register holds it, its showing recorded
    # (the register's module records it as a consultation, with the search's reason).
    subject_name = _subject_name(request, db, principal, subject, form.values["reason"]) if subject else None
    html = environment.get_template("ledger_report.html").render(
        rows=export.rows,
        form=form,
        principal=principal,
        generated=utcnow(),
        force_name=settings.force_name,
        checkpoint=export.checkpoint,
        verifier_key=ledger.verifier_key(settings),
        subject=subject,
        subject_name=subject_name,
        subject_view=export.subject_view,
        who=_who(export.names),
        op_words=operation_words,
        record=export.record,
        accesses=export.accesses,
        access_words=access_words,
    )
    return Response(
        html_to_pdf(html),
        media_type="application/pdf",
        headers={"content-disposition": 'attachment; filename="custodes-ledger-report.pdf"'},
    )
