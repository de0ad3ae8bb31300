"""The counter-corruption unit's casework: the alert queue, pseudonymised triage, investigations.

The rules, once, for screens and commands:
- members of the unit never see or act on an alert about themselves (they did the accessing, or the person
  looked at is them): such alerts are left out of every list, and every action on one is refused as if it
  did not exist; the same holds for investigations into them or built on such alerts;
- during triage the member of staff is shown as a stable pseudonym (an HMAC of the staff id with the
  installation's secret key) until the viewer reveals who it is with a recorded reason;
- dismissing needs a reason; an investigation groups alerts about one member of staff, takes notes, and is
  closed with one of four outcomes and a reason;
- every view and every decision is a ledger entry (object `alert/<id>` or `investigation/<reference>`).

Services never commit.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, String, and_, case, event, func, literal, not_, or_, select, text
from sqlalchemy.orm import Session

from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.kit.geo import metres_between
from custodes.kit.names import FOLD_LOOSE, FOLD_PATTERN, FOLD_TYPED, PersonKey, rewritten
from custodes.kit.timefmt import london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.monitoring import alerts as alert_rules
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import (
    Alert,
    AlertEvent,
    IdentityReveal,
    Investigation,
    InvestigationNote,
    MonitorRun,
    Nominal,
)
from custodes.monitoring.schemas import AlertStatus, NominalView, Rule
from custodes.settings import Settings
from custodes.workforce import service as workforce
from custodes.workforce.schemas import StaffView, SubjectRef

MAX_TEXT = 4000  # reasons
MAX_NOTE = 10_000
MAX_TITLE = 200
PAGE_SIZE = 50


class InvestigationStatus:
    OPEN = "open"
    CLOSED = "closed"


STATUS_TITLES = {
    AlertStatus.NEW: "New",
    AlertStatus.INVESTIGATING: "Under investigation",
    AlertStatus.DISMISSED: "Dismissed",
    AlertStatus.CLOSED: "Closed",
}
# The rule codes (monitoring.md) in words a sergeant reads at a glance.
RULE_TITLES = {
    "SELF": "Looked up themself",
    "RELATIVE_OR_HOUSEHOLD": "Relative or same household",
    "NEIGHBOUR": "Lives near them",
    "DECLARED_CONFLICT": "Declared conflict",
    "COLLEAGUE": "Another member of staff",
    "PUBLIC_FIGURE": "Public figure",
    "UNEXPLAINED": "No work explains it",
    "CASE_MISMATCH": "Case cited does not fit",
    "REPEATED_INTEREST": "Repeated interest",
    "VOLUME_ANOMALY": "Unusual number of searches",
    "OFF_DUTY": "Off duty",
}
ACTION_TITLES = {
    "search": "Searched",
    "view": "Viewed",
    "update": "Updated",
    "print": "Printed",
    "export": "Exported",
}
OUTCOMES = {
    "no_case_to_answer": "No case to answer",
    "management_advice": "Management advice",
    "misconduct": "Misconduct",
    "criminal": "Criminal",
}


class CaseworkError(ValueError):
    """An action that is not allowed as asked (reason missing, alert already triaged, wrong staff)."""


class FieldProblems(CaseworkError):
    """A form refused for one or more of its fields: `fields` maps each field's name to what is wrong
    with it, every field checked at once (the message joins them, in the form's order)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        super().__init__(" ".join(fields.values()))
        self.fields = dict(fields)


class NotFound(CaseworkError):
    """No such alert or investigation for this viewer: absent, or about the viewer themself."""


# --------------------------------------------------------------------------- value types


@dataclass(frozen=True, slots=True)
class AlertRow:
    """An alert as a list shows it: the staff as `staff_label` (a pseudonym unless revealed)."""

    alert_id: str
    staff_label: str
    subject_id: str | None
    rules: tuple[str, ...]
    score: int
    first_at: datetime
    last_at: datetime
    events: int
    explanation: str
    status: str
    investigation_id: int | None
    investigation_ref: str | None


@dataclass(frozen=True, slots=True)
class EventRow:
    event_id: str
    occurred_at: datetime
    system: str
    action: str
    case_ref: str | None
    rules: tuple[str, ...]
    explanation: str
    batch_id: str
    alert_id: str


@dataclass(frozen=True, slots=True)
class RevealRow:
    revealed_to: str
    name: str | None
    reason: str
    at: datetime


@dataclass(frozen=True, slots=True)
class InvestigationRow:
    id: int
    reference: str
    title: str
    staff_id: str
    staff_name: str | None
    status: str
    outcome: str | None
    opened_at: datetime
    closed_at: datetime | None
    alerts: int


@dataclass(frozen=True, slots=True)
class AlertDetail:
    alert: AlertRow
    pseudonym: str
    revealed: bool  # to this viewer
    staff: StaffView | None  # only once revealed to this viewer
    staff_id: str | None  # only once revealed to this viewer
    subject: NominalView | None
    subject_hidden: str | None  # why the person's details are withheld while the identity is hidden
    events: list[EventRow]
    dismissal_reason: str | None
    triaged_by: str | None
    triaged_by_name: str | None
    triaged_at: datetime | None
    reveals: list[RevealRow]
    other_new: list[AlertRow]  # other new alerts about the same member of staff
    # Open investigations of the same member of staff, only once revealed to this viewer: a reference leads to
    # the investigation's page and list, which name them.
    open_investigations: list[InvestigationRow]


@dataclass(frozen=True, slots=True)
class NoteRow:
    id: int
    author: str
    author_name: str | None
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class InvestigationDetail:
    summary: InvestigationRow
    staff: StaffView | None
    outcome_reason: str | None
    opened_by: str
    opened_by_name: str | None
    closed_by: str | None
    closed_by_name: str | None
    alerts: list[AlertRow]
    events: list[EventRow]
    notes: list[NoteRow]
    other_new: list[AlertRow]  # new alerts about the same member of staff, to add
    people: dict[str, NominalView]  # the people looked at, by subject id (their consultation is logged)


# --------------------------------------------------------------------------- pseudonyms and masking

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U: nothing to misread over the phone


def pseudonym(settings: Settings, staff_id: str) -> str:
    """ "Staff 7F3A9K": the same for a member of staff on every alert, unguessable without the secret key
    (HMAC-SHA-256 of the staff id, first 30 bits in Crockford base 32)."""
    message = b"custodes.monitoring.pseudonym\x00" + staff_id.encode()
    digest = hmac.new(settings.resolved_secret_key.encode(), message, hashlib.sha256).digest()
    number = int.from_bytes(digest[:4], "big") >> 2
    return PSEUDONYM_PREFIX + "".join(_CROCKFORD[(number >> shift) & 31] for shift in (25, 20, 15, 10, 5, 0))


PSEUDONYM_PREFIX = "Staff "


def staff_code(value: str | None) -> str:
    """The staff code a queue filter or a form was given ("4aagkq", "Staff 4AAGKQ" → "4AAGKQ"), "" for
    none. Only the pseudonym's code: a staff number or name given here matches nothing."""
    cleaned = "".join((value or "").split()).upper()
    cleaned = cleaned.removeprefix(PSEUDONYM_PREFIX.strip().upper())
    return cleaned[:20]


def staff_codes(rows: Iterable[AlertRow]) -> list[str]:
    """The staff codes of these alerts as a list shows them (pseudonyms), each once, in order."""
    return list(dict.fromkeys(row.staff_label.removeprefix(PSEUDONYM_PREFIX) for row in rows))


def _reference_code(settings: Settings, alert_id: str, kind: str, value: str) -> str:
    """ "#7F3A": a team, case, referral or declaration reference as shown on one pseudonymous alert. Keyed
    with the alert too, so the same case has another code on another alert: a reveal on one alert (which
    shows the real reference there) says nothing about the codes on the others."""
    message = b"\x00".join(
        (b"custodes.monitoring.reference", alert_id.encode(), kind.encode(), value.encode())
    )
    digest = hmac.new(settings.resolved_secret_key.encode(), message, hashlib.sha256).digest()
    number = int.from_bytes(digest[:3], "big") >> 4
    return "#" + "".join(_CROCKFORD[(number >> shift) & 31] for shift in (15, 10, 5, 0))


# Where the detectors' explanations (alerts.py) name a case, referral, team or declaration.
_CASES = re.compile(r"\b(explained by cases? )(.+?)(?=, cited on the access|, assigned to | of |; |\.$|$)")
_CITED = re.compile(r"\b(cites case )(.+?)(?=, which )")
_REFERRAL = re.compile(r"\b(explained by referral )(.+?)(?=: )")
_TEAM = alert_rules.TEAM_MENTION
_DECLARATION = re.compile(r"(\bdeclared a conflict of interest with .+? \([^(),]*, )([^()]+?)(?=\))")
# What a withheld person's record id becomes in an explanation. Not "the person looked at": the detectors'
# sentences go on after the id ("... involves N9 at that time"), which read "looked at at that time".
PERSON_WITHHELD = "the person concerned"


def _masker(
    session: Session,
    staff_id: str,
    label: str,
    *,
    settings: Settings | None = None,
    alert_id: str = "",
    subject: tuple[str, str | None] | None = None,
    names: dict[str, str | None] | None = None,
) -> _Mask:
    """A function masking what would identify a pseudonymous member of staff in an alert's explanations:
    their staff id and name become the pseudonym; with `settings`, case, referral, team and declaration
    references become codes of this alert (`_reference_code`: in the registers they lead to the member of
    staff); with `subject` (the subject id, and the staff id the record is linked to) the person looked at
    is withheld too."""
    if names is not None and staff_id in names:
        name = names[staff_id]
    else:
        name = workforce.staff_name(session, staff_id)  # used to hide it, never shown: not a consultation
        if names is not None:
            names[staff_id] = name
    patterns = [(re.compile(rf"(?<![\w-]){re.escape(staff_id)}(?![\w-])"), label)] if label else []
    if name and label:
        patterns.insert(0, (re.compile(re.escape(name), re.IGNORECASE), label))
    if subject is not None:
        subject_id, linked_staff = subject
        patterns.append((re.compile(rf"(?<![\w-]){re.escape(subject_id)}(?![\w-])"), PERSON_WITHHELD))
        if linked_staff and linked_staff != staff_id:
            patterns.append((re.compile(rf"(?<![\w-]){re.escape(linked_staff)}(?![\w-])"), "withheld"))

    return _Mask(patterns, settings, alert_id)


@dataclass(frozen=True, slots=True)
class _Mask:
    """See `_masker`: called on a text; `case` masks the case cited on an access."""

    patterns: list[tuple[re.Pattern[str], str]]
    settings: Settings | None
    alert_id: str

    def code(self, kind: str, value: str) -> str:
        assert self.settings is not None
        return _reference_code(self.settings, self.alert_id, kind, value)

    def _cases(self, found: re.Match[str]) -> str:
        items = [self.code("case", item) for item in re.split(r", | and ", found.group(2))]
        listed = items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"
        return found.group(1) + listed

    def __call__(self, value: str) -> str:
        if self.settings is not None:
            value = _CASES.sub(self._cases, value)
            value = _CITED.sub(lambda m: m.group(1) + self.code("case", m.group(2)), value)
            value = _REFERRAL.sub(lambda m: m.group(1) + self.code("referral", m.group(2)), value)
            value = _DECLARATION.sub(
                lambda m: m.group(1) + "declaration " + self.code("declaration", m.group(2)), value
            )
            value = _TEAM.sub(lambda m: m.group(1) + self.code("team", m.group(2)), value)
        for pattern, replacement in self.patterns:
            value = pattern.sub(replacement, value)
        return value

    def case(self, reference: str | None) -> str | None:
        return self.code("case", reference) if reference and self.settings is not None else reference


def _rules(stored: str) -> tuple[str, ...]:
    return tuple(code for code in stored.split(";") if code)


def _clean(value: str | None, ask: str, limit: int = MAX_TEXT) -> str:
    """Trimmed text; refused with `Please <ask>.` if blank, or if longer than `limit` characters."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise CaseworkError(f"Please {ask}.")
    if len(cleaned) > limit:
        raise CaseworkError(f"Please keep it under {limit:,} characters (this is {len(cleaned):,}).")
    return cleaned


# --------------------------------------------------------------------------- who may see what


def _surname_is(key: PersonKey) -> Any:
    """SQL: the nominal's surname is `key`'s, as kit.names.same_surname says: the same key, or matching
    folded keys (kit.names.folds_alike, letter by letter: Müller = Mueller = Muller, Đorđević = Djordevic,
    Hoey-Müller = Hoey-Mueller, but Hoey-Müller ≠ Hoy-Muller)."""
    return or_(
        Nominal.match_surname == key.surname, _folds_alike(key.fold_surname, Nominal.match_surname_fold)
    )


def _rewritten(column: Any, rewrites: tuple[tuple[str, str], ...]) -> Any:
    """SQL: kit.names.rewritten, as nested replace()."""
    for old, new in rewrites:
        column = func.replace(column, old, new)
    return column


def _folds_alike(folded: str, theirs: Any) -> Any:
    """SQL: as kit.names.folds_alike: one folded key, as typed, LIKE the other as a pattern; or, where each
    holds a "%", each as typed LIKE the other as a loose pattern."""
    typed = rewritten(folded, FOLD_TYPED)
    their_typed = _rewritten(theirs, FOLD_TYPED)
    either = or_(
        their_typed.like(rewritten(folded, FOLD_PATTERN)),
        literal(typed, String).like(_rewritten(theirs, FOLD_PATTERN)),
    )
    if "%" not in folded:
        return either
    loose = and_(
        func.replace(theirs, "%", "") != theirs,
        their_typed.like(rewritten(folded, FOLD_LOOSE)),
        literal(typed, String).like(_rewritten(theirs, FOLD_LOOSE)),
    )
    return or_(either, loose)


def _forename_agrees(forename: str, joined: str, their_forename: Any, their_joined: Any) -> list[Any]:
    """SQL: as kit.names._forenames_agree: the same, an initial (as written too), run together the same."""
    agrees = [
        their_forename == forename,
        their_joined == joined,
        and_(func.length(their_forename) == 1, their_forename.in_({forename[:1], joined[:1]})),
    ]
    if len(forename) == 1:
        agrees += [their_forename.startswith(forename), their_joined.startswith(forename)]
    return agrees


def _own_subjects(session: Session, viewer: Principal) -> Any:
    """The subject ids of the nominals that are the viewer: flagged as them (`staff:`), or with their name
    and their date of birth or home postcode, as the gate's SELF rule matches them (variants, initials, and
    every spelling of a name with letters English writes two ways, on either side: Müller, Mueller)."""
    flagged = Nominal.staff_id == viewer.staff_id
    me = workforce.as_person(session, viewer.staff_id)
    clues = []
    if me is not None and me.date_of_birth is not None:
        clues.append(Nominal.date_of_birth == me.date_of_birth)
    if me is not None and me.postcode:
        clues.append(Nominal.postcode == me.postcode)
    key = PersonKey.of(None, me.surname, me.forenames, None, None) if me else None
    if not (clues and key is not None and key.surname and key.forenames):
        return select(Nominal.subject_id).where(flagged)
    # as kit.names.forenames_agree: by the first keys, or by the folded ones, letter by letter (folds_alike)
    agrees = _forename_agrees(key.forenames[0], key.joined, Nominal.match_forename, Nominal.match_joined)
    folded = or_(
        _folds_alike(key.fold_forename, Nominal.match_forename_fold),
        _folds_alike(key.fold_joined, Nominal.match_joined_fold),
    )
    agrees.append(and_(Nominal.match_forename != "", folded))
    same_person = and_(_surname_is(key), or_(*clues), or_(*agrees))
    return select(Nominal.subject_id).where(or_(flagged, same_person))


@dataclass(frozen=True, slots=True)
class Unseen:
    """What casework keeps from one viewer (see `unseen`)."""

    staff_ids: frozenset[str]  # alerts by these members of staff: the viewer, and staff close to them
    subject_ids: frozenset[
        str
    ]  # alerts about these people: the viewer, people they declared, their household

    def hides(self, staff_id: str, subject_id: str | None) -> bool:
        return staff_id in self.staff_ids or (subject_id is not None and subject_id in self.subject_ids)


def _nominal_key(row: Any) -> PersonKey:
    return PersonKey.of(row.subject_id, row.surname, row.forenames, row.date_of_birth, row.postcode)


def _declared_subjects(session: Session, viewer: Principal) -> tuple[set[str], list[PersonKey]]:
    """The nominals that are people the viewer declared (a conflict of interest or reportable association
    naming a person, relatives, partners and ex-partners included; not rejected), matched as the detectors'
    DECLARED_CONFLICT and the gate match them (workforce.keys_of, workforce.declared_matches: the declared
    id, or the name with the date of birth or postcode, as declared and as the register holds the declared
    id; a person declared by name alone, by that full name); and the declared people as keys, to find them
    among the staff."""
    declared = workforce.declared_people(session, viewer.staff_id)
    if not declared:
        return set(), []
    registered = workforce.registered_keys(session, (row[3] for row in declared if row[3]))
    keys = [
        key
        for _declaration, _staff, _relation, subject_id, surname, forenames, born, postcode in declared
        for key in workforce.keys_of(
            SubjectRef(subject_id, surname, forenames, born, postcode), registered.get(subject_id or "")
        )
    ]
    ids = {key.subject_id for key in keys if key.subject_id}
    # every candidate declared_matches could match (kit.names.same_surname, by name alone too): the same key
    # or the same folded letters (the part of the folded key before "=", which folds_alike wants the same)
    surnames = {key.surname for key in keys if key.surname}
    folded = {key.fold_surname.partition("=")[0] for key in keys if key.surname}
    columns = (
        Nominal.subject_id,
        Nominal.surname,
        Nominal.forenames,
        Nominal.date_of_birth,
        Nominal.postcode,
    )
    query = select(*columns).where(
        or_(
            Nominal.subject_id.in_(ids),
            Nominal.match_surname.in_(surnames),
            *(Nominal.match_surname_fold.startswith(f"{letters}=", autoescape=True) for letters in folded),
        )
    )
    found = {
        row.subject_id
        for row in session.execute(query)
        if any(workforce.declared_matches(key, _nominal_key(row)) for key in keys)
    }
    return found, keys


def _household_subjects(session: Session, viewer: Principal, household_m: float) -> set[str]:
    """The nominals of the viewer's household, as the detectors' RELATIVE_OR_HOUSEHOLD rule finds them: the
    viewer's surname (key) and their home postcode, or within `household_m` metres of their home."""
    me = workforce.as_person(session, viewer.staff_id)
    home = workforce.home_of(session, viewer.staff_id)
    key = PersonKey.of(None, me.surname, None, None, None) if me else None
    if not (key is not None and key.surname and home):
        return set()
    postcode, lat, lon = home
    code = PersonKey.of(None, None, None, None, postcode).postcode
    near = []
    if code:
        near.append(Nominal.postcode == code)
    if lat is not None and lon is not None:  # a box around the home first, the exact distance below
        degrees = 1.5 * household_m / 111_000
        wide = degrees / max(0.01, math.cos(math.radians(lat)))
        near.append(
            Nominal.lat.between(lat - degrees, lat + degrees) & Nominal.lon.between(lon - wide, lon + wide)
        )
    if not near:
        return set()
    query = select(Nominal.subject_id, Nominal.postcode, Nominal.lat, Nominal.lon).where(
        _surname_is(key), or_(*near)
    )
    found = set()
    for subject_id, where, n_lat, n_lon in session.execute(query):
        apart = metres_between(lat, lon, n_lat, n_lon)
        if (code and where == code) or (apart is not None and apart <= household_m):
            found.add(subject_id)
    return found


_UNSEEN = "custodes.casework.unseen"


def unseen(session: Session, viewer: Principal) -> Unseen:
    """What casework keeps from this viewer, so that nobody triages alerts about themself or people close to
    them. Alerts by: the viewer; members of staff they declared (matched by name with date of birth or home
    postcode, or a declared record flagged `staff:<id>`); members of staff of their household (their surname
    and home postcode, or homes within `household_distance_m`). Alerts about: records that are the viewer
    (`staff:<id>`, or as the SELF rule matches them); records of people they declared; records of their
    household (their surname and home postcode, or within `household_distance_m` of their home). Nothing is
    logged (rule checking).

    Worked out once per viewer until the session writes, commits or rolls back: one page asks it several
    times, and each time reads every member of staff's surname."""
    known: dict[str, Unseen] = session.info.setdefault(_UNSEEN, {})
    found = known.get(viewer.staff_id)
    if found is None:
        found = known[viewer.staff_id] = _work_out_unseen(session, viewer)
    return found


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget_unseen(session: Session, *_args: Any) -> None:
    """A write (a declaration, a staff record, an import) or another transaction may change who is close."""
    session.info.pop(_UNSEEN, None)


def _work_out_unseen(session: Session, viewer: Principal) -> Unseen:
    limit = monitoring.thresholds(session).household_m
    own = set(session.scalars(_own_subjects(session, viewer)))
    declared, keys = _declared_subjects(session, viewer)
    household = _household_subjects(session, viewer, limit)
    close = declared | household
    linked = select(Nominal.staff_id).where(Nominal.subject_id.in_(close), Nominal.staff_id.is_not(None))
    flagged = {staff_id for staff_id in session.scalars(linked) if staff_id} if close else set()
    staff = {viewer.staff_id} | flagged | workforce.staff_close_to(session, viewer.staff_id, keys, limit)
    return Unseen(frozenset(staff), frozenset(own | close))


def _visible(session: Session, viewer: Principal, hidden: Unseen | None = None) -> ColumnElement[bool]:
    """Alerts the viewer may see: none by them or by staff close to them, none about them or people close
    to them (`unseen`)."""
    hidden = hidden or unseen(session, viewer)
    return Alert.staff_id.not_in(hidden.staff_ids) & or_(
        Alert.subject_id.is_(None), Alert.subject_id.not_in(hidden.subject_ids)
    )


def about_viewer(session: Session, alert: Alert, viewer: Principal) -> bool:
    """True if the alert is kept from the viewer (`unseen`): by or about them, or someone close to them."""
    return unseen(session, viewer).hides(alert.staff_id, alert.subject_id)


def alert_hidden(session: Session, alert_id: str, viewer: Principal) -> bool:
    """Whether casework keeps this alert from the viewer (by or about them or someone close to them:
    `unseen`). An alert that does not exist is not hidden. For screens outside casework (the ledger's) that
    must not show what the alert screens would refuse."""
    alert = session.get(Alert, alert_id)
    return alert is not None and about_viewer(session, alert, viewer)


def investigation_hidden(session: Session, reference: str, viewer: Principal) -> bool:
    """Whether casework keeps this investigation (by its reference, `INV/NNN/YY`) from the viewer: into
    someone kept from them, or built on an alert kept from them. One that does not exist is not hidden."""
    row = session.scalars(select(Investigation).where(Investigation.reference == reference)).first()
    if row is None:
        return False
    hidden = unseen(session, viewer)
    return row.staff_id in hidden.staff_ids or any(
        hidden.hides(a.staff_id, a.subject_id) for a in _linked_alerts(session, row.id)
    )


def identity_pseudonymised(session: Session, alert_id: str, staff_id: str, viewer: Principal) -> bool:
    """Whether `staff_id` is shown to the viewer only as a pseudonym in connection with this alert: it is the
    alert's member of staff and the viewer has not revealed who it is on that alert (`reveal_identity`, or
    opening an investigation from it). Other ids (the person looked at, a colleague) are not pseudonyms."""
    alert = session.get(Alert, alert_id)
    return alert is not None and alert.staff_id == staff_id and not _revealed_to(session, alert_id, viewer)


def _alert(session: Session, alert_id: str, viewer: Principal) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or about_viewer(session, alert, viewer):
        raise NotFound("There is no such alert, or it is not for you to see.")
    return alert


def _investigation(session: Session, investigation_id: int, viewer: Principal) -> Investigation:
    row = session.get(Investigation, investigation_id)
    if row is None:
        raise NotFound("There is no such investigation, or it is not for you to see.")
    hidden = unseen(session, viewer)
    if row.staff_id in hidden.staff_ids:
        raise NotFound("There is no such investigation, or it is not for you to see.")
    for alert in _linked_alerts(session, row.id):
        if hidden.hides(alert.staff_id, alert.subject_id):
            raise NotFound("There is no such investigation, or it is not for you to see.")
    return row


def _linked_alerts(session: Session, investigation_id: int) -> list[Alert]:
    query = select(Alert).where(Alert.investigation_id == investigation_id)
    return list(session.scalars(query.order_by(Alert.score.desc(), Alert.first_at, Alert.alert_id)))


def _hidden_investigations(session: Session, viewer: Principal, hidden: Unseen | None = None) -> Any:
    """Ids of investigations built on an alert kept from the viewer."""
    hidden = hidden or unseen(session, viewer)
    return select(Alert.investigation_id).where(
        Alert.investigation_id.is_not(None),
        or_(Alert.staff_id.in_(hidden.staff_ids), Alert.subject_id.in_(hidden.subject_ids)),
    )


def _revealed_to(session: Session, alert_id: str, viewer: Principal) -> bool:
    query = select(IdentityReveal.id).where(
        IdentityReveal.alert_id == alert_id, IdentityReveal.revealed_to == viewer.staff_id
    )
    return session.scalars(query.limit(1)).first() is not None


# --------------------------------------------------------------------------- the queue


def _references(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    query = select(Investigation.id, Investigation.reference).where(Investigation.id.in_(wanted))
    return {row[0]: row[1] for row in session.execute(query)}


def _shown(
    text: str, mask: Any, teams: Mapping[str, str] | None, people: Mapping[str, str] | None = None
) -> str:
    """An explanation as shown: masked (`_masker`), and with `teams` (team id → name: only where the
    member of staff is known to the viewer) its teams named (alerts.name_teams); with `people` (staff
    number or record id → name, likewise only where the member of staff is known to the viewer, and only
    people the page shows) its staff and people named, and its declaration called one
    (alerts.name_people). Labelled here, when shown: the stored text keeps the ids."""
    text = mask(text) if mask else text
    text = alert_rules.name_teams(text, teams) if teams is not None else text
    if people is not None:
        text = _DECLARATION.sub(lambda m: m.group(1) + "declaration " + m.group(2), text)
        text = alert_rules.name_people(text, people)
    return text


def _people_named(staff: Mapping[str, str | None], subjects: Iterable[NominalView | None]) -> dict[str, str]:
    """Staff number or record id → name, for `_shown`: these members of staff (their names as the page
    shows them) and these people looked at (shown, and consulted, by the page)."""
    names = {staff_id: name for staff_id, name in staff.items() if name}
    for person in subjects:
        if person is not None:
            names[person.subject_id] = " ".join(p for p in (person.forenames, person.surname) if p)
    return names


def _row(
    alert: Alert,
    label: str,
    mask: Any,
    references: dict[int, str],
    *,
    subject_withheld: bool = False,
    teams: Mapping[str, str] | None = None,
    people: Mapping[str, str] | None = None,
) -> AlertRow:
    return AlertRow(
        alert_id=alert.alert_id,
        staff_label=label,
        subject_id=None if subject_withheld else alert.subject_id,
        rules=_rules(alert.rules),
        score=alert.score,
        first_at=alert.first_at,
        last_at=alert.last_at,
        events=alert.events,
        explanation=_shown(alert.explanation, mask, teams, people),
        status=alert.status,
        investigation_id=alert.investigation_id,
        investigation_ref=references.get(alert.investigation_id) if alert.investigation_id else None,
    )


_GIVES_AWAY = (Rule.SELF, Rule.RELATIVE_OR_HOUSEHOLD)  # the person looked at is the searcher or their home


def _gives_away(rules: Iterable[str]) -> bool:
    return any(rule in _GIVES_AWAY for rule in rules)


def _linked_subjects(session: Session, viewer: Principal, hidden: Unseen) -> set[str]:
    """The people looked at on alerts the viewer may see whose member of staff is still pseudonymous to
    them and whose person would give that member of staff away (SELF, RELATIVE_OR_HOUSEHOLD). These people
    are withheld on every alert, so that another alert about the same person (a colleague's look-up of the
    same record, say) does not name the person, and with them the pseudonym."""
    revealed = select(IdentityReveal.alert_id).where(IdentityReveal.revealed_to == viewer.staff_id)
    query = select(Alert.subject_id).where(
        _visible(session, viewer, hidden),
        Alert.subject_id.is_not(None),
        or_(*(_has_rule(rule) for rule in _GIVES_AWAY)),
        Alert.alert_id.not_in(revealed),
    )
    return {subject for subject in session.scalars(query.distinct()) if subject}


def _linked_staff(session: Session, subject_ids: Iterable[str]) -> dict[str, str | None]:
    """The member of staff each of these records is (`staff:` flag), to withhold with the record."""
    wanted = sorted(set(subject_ids))
    if not wanted:
        return {}
    query = select(Nominal.subject_id, Nominal.staff_id).where(Nominal.subject_id.in_(wanted))
    return {subject: staff for subject, staff in session.execute(query)}


def _pseudonymous_rows(
    session: Session,
    settings: Settings,
    alerts: Sequence[Alert],
    viewer: Principal,
    hidden: Unseen | None = None,
) -> list[AlertRow]:
    """Alerts as lists show them during triage: the member of staff as their pseudonym, references that
    lead to them as codes, and the person looked at withheld where it would give them away."""
    hidden = hidden or unseen(session, viewer)
    references = _references(session, (a.investigation_id for a in alerts))
    linked = _linked_subjects(session, viewer, hidden) if alerts else set()
    withheld = {
        a.alert_id
        for a in alerts
        if a.subject_id and (_gives_away(_rules(a.rules)) or a.subject_id in linked)
    }
    flagged = _linked_staff(
        session, (a.subject_id for a in alerts if a.alert_id in withheld and a.subject_id)
    )
    names: dict[str, str | None] = {}
    rows = []
    for alert in alerts:
        label = pseudonym(settings, alert.staff_id)
        person = None
        if alert.alert_id in withheld and alert.subject_id:
            person = (alert.subject_id, flagged.get(alert.subject_id))
        mask = _masker(
            session,
            alert.staff_id,
            label,
            settings=settings,
            alert_id=alert.alert_id,
            subject=person,
            names=names,
        )
        rows.append(_row(alert, label, mask, references, subject_withheld=alert.alert_id in withheld))
    return rows


def _has_rule(rule: str) -> ColumnElement[bool]:
    return (literal(";") + Alert.rules + literal(";")).like(f"%;{rule};%")


def alert_queue(
    session: Session,
    settings: Settings,
    viewer: Principal,
    *,
    status: str = AlertStatus.NEW,
    rule: str = "",
    page: int = 1,
    staff: str = "",
) -> tuple[list[AlertRow], int]:
    """(one page of alerts, how many match) with this status ("" for any), rule ("" for any) and staff code
    ("" for any: the pseudonym's code, `staff_code`), highest score first. Staff are pseudonymous and the
    rows show ids only, so the list is not a consultation. The staff code is matched among the alerts the
    viewer may see, as the other filters are: it finds nothing the unfiltered queue would not show."""
    hidden = unseen(session, viewer)
    query = select(Alert).where(_visible(session, viewer, hidden))
    if status:
        query = query.where(Alert.status == status)
    if rule:
        query = query.where(_has_rule(rule))
    code = staff_code(staff)
    if code:
        among = session.scalars(query.with_only_columns(Alert.staff_id).distinct())
        wanted = PSEUDONYM_PREFIX + code
        query = query.where(Alert.staff_id.in_([s for s in among if pseudonym(settings, s) == wanted]))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = query.order_by(Alert.score.desc(), Alert.last_at.desc(), Alert.alert_id)
    page = max(1, page)
    alerts = list(session.scalars(ordered.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return _pseudonymous_rows(session, settings, alerts, viewer, hidden), total


MAX_SELECTED = 200  # an investigation's worth of alerts; the selection travels in the queue's address
_NAMED = 10  # unknown ids named in a message before "and N more"


@dataclass(frozen=True, slots=True)
class Selection:
    """The alerts ticked on the queue, kept across its pages and filters: those the viewer may see, as the
    queue shows them (pseudonymous), in the order ticked; the ids asked for that name no alert the viewer
    may see (absent or kept from them: the two are not told apart); and how many were over the limit."""

    rows: tuple[AlertRow, ...]
    unknown: tuple[str, ...]
    over: int

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(row.alert_id for row in self.rows)

    @property
    def problem(self) -> str | None:
        """The refusal in words, or None when every id asked for is selected."""
        problems = []
        if self.unknown:
            named = ", ".join(i[:40] for i in self.unknown[:_NAMED])
            more = f" and {len(self.unknown) - _NAMED} more" if len(self.unknown) > _NAMED else ""
            if len(self.unknown) == 1:
                problems.append(
                    f"Selected alerts: there is no alert {named}, or it is not for you to see; "
                    "it was left out of your selection."
                )
            else:
                problems.append(
                    f"Selected alerts: there are no alerts {named}{more}, or they are not for you to see; "
                    "they were left out of your selection."
                )
        if self.over:
            problems.append(
                f"Selected alerts: at most {MAX_SELECTED} can be selected at once; the last {self.over} "
                "ticked were left out. Open an investigation from these first, then add the rest from its "
                "page."
            )
        return " ".join(problems) or None


def select_alerts(
    session: Session, settings: Settings, viewer: Principal, alert_ids: Iterable[str]
) -> Selection:
    """The selection made of these ids (blanks and repeats ignored), for the queue's "N alerts selected".
    An id that names no alert, or one kept from the viewer (`unseen`), is reported as unknown, in the same
    words either way, so the selection never tells which alerts exist about the viewer or people close to
    them; selected alerts are shown as the queue shows them, pseudonymous, whatever their status."""
    wanted = list(dict.fromkeys(i.strip() for i in alert_ids if i and i.strip()))
    over = max(0, len(wanted) - MAX_SELECTED)
    wanted = wanted[:MAX_SELECTED]
    if not wanted:
        return Selection((), (), over)
    hidden = unseen(session, viewer)
    short = [i for i in wanted if len(i) <= 40]  # longer names no alert (the column's width)
    query = (
        select(Alert).where(Alert.alert_id.in_(short), _visible(session, viewer, hidden)) if short else None
    )
    found = {a.alert_id: a for a in session.scalars(query)} if query is not None else {}
    alerts = [found[i] for i in wanted if i in found]
    rows = _pseudonymous_rows(session, settings, alerts, viewer, hidden)
    return Selection(tuple(rows), tuple(i for i in wanted if i not in found), over)


def status_counts(session: Session, viewer: Principal) -> dict[str, int]:
    """How many alerts the viewer may see, by status."""
    query = select(Alert.status, func.count()).where(_visible(session, viewer)).group_by(Alert.status)
    found = {status: count for status, count in session.execute(query)}
    return {status: found.get(status, 0) for status in STATUS_TITLES}


def run_alert_counts(
    session: Session, viewer: Principal, run_ids: Iterable[int]
) -> dict[int, tuple[int, int]]:
    """For each run, (alerts it raised or added accesses to, of which new) among the alerts the viewer may
    see. An alert counts under the latest run that added to it (`alert.run_id`). Computed over what the
    viewer may see only, so that no figure differs from their queue by the alerts kept from them."""
    wanted = sorted(set(run_ids))
    if not wanted:
        return {}
    started = select(MonitorRun.at).where(MonitorRun.id == Alert.run_id).scalar_subquery()
    query = (
        select(Alert.run_id, func.count(), func.sum(case((Alert.created_at >= started, 1), else_=0)))
        .where(_visible(session, viewer), Alert.run_id.in_(wanted))
        .group_by(Alert.run_id)
    )
    found = {run: (int(total), int(new or 0)) for run, total, new in session.execute(query)}
    return {run: found.get(run, (0, 0)) for run in wanted}


# --------------------------------------------------------------------------- one alert


def _events(
    session: Session,
    alert_ids: Sequence[str],
    mask: Any = None,
    teams: Mapping[str, str] | None = None,
    people: Mapping[str, str] | None = None,
) -> list[EventRow]:
    if not alert_ids:
        return []
    query = select(AlertEvent).where(AlertEvent.alert_id.in_(alert_ids))
    rows = session.scalars(query.order_by(AlertEvent.occurred_at, AlertEvent.event_id))
    return [
        EventRow(
            event_id=e.event_id,
            occurred_at=e.occurred_at,
            system=e.system,
            action=e.action,
            case_ref=mask.case(e.case_ref) if mask else e.case_ref,
            rules=_rules(e.rules),
            explanation=_shown(e.explanation, mask, teams, people),
            batch_id=e.batch_id,
            alert_id=e.alert_id,
        )
        for e in rows
    ]


def _summary(session: Session, row: Investigation, alerts: int | None = None) -> InvestigationRow:
    if alerts is None:
        alerts = session.scalar(select(func.count()).where(Alert.investigation_id == row.id)) or 0
    return InvestigationRow(
        id=row.id,
        reference=row.reference,
        title=row.title,
        staff_id=row.staff_id,
        staff_name=workforce.staff_name(session, row.staff_id),
        status=row.status,
        outcome=row.outcome,
        opened_at=row.opened_at,
        closed_at=row.closed_at,
        alerts=alerts,
    )


def _open_investigations_of(session: Session, staff_id: str, viewer: Principal) -> list[InvestigationRow]:
    hidden = unseen(session, viewer)
    query = select(Investigation).where(
        Investigation.staff_id == staff_id,
        Investigation.status == InvestigationStatus.OPEN,
        Investigation.staff_id.not_in(hidden.staff_ids),
        Investigation.id.not_in(_hidden_investigations(session, viewer, hidden)),
    )
    return [_summary(session, row) for row in session.scalars(query.order_by(Investigation.id))]


def _other_new(
    session: Session, settings: Settings, staff_id: str, viewer: Principal, exclude: Iterable[str] = ()
) -> list[AlertRow]:
    hidden = unseen(session, viewer)
    query = select(Alert).where(
        _visible(session, viewer, hidden),
        Alert.staff_id == staff_id,
        Alert.status == AlertStatus.NEW,
        Alert.alert_id.not_in(list(exclude)),
    )
    alerts = list(session.scalars(query.order_by(Alert.score.desc(), Alert.last_at.desc()).limit(100)))
    return _pseudonymous_rows(session, settings, alerts, viewer, hidden)


def _subjects(*ids: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in ids if i))


# Why the person looked at is withheld, as the alert's page says it: whole (a sentence of its own, shown in
# place of the person), or only their postcode (said in brackets after their details).
WITHHELD_GIVES_AWAY = (
    "Withheld, record id included, while the member of staff's identity is hidden (it would give them away)."
)
WITHHELD_LINKED = (
    "Withheld, record id included, while another alert about this person is pseudonymous to you (it would "
    "give its member of staff away)."
)
WITHHELD_POSTCODE = "postcode withheld while the identity is hidden"


def view_alert(session: Session, settings: Settings, alert_id: str, viewer: Principal) -> AlertDetail:
    """One alert with its accesses, for triage. Showing it (the person looked at, the accesses) is a
    consultation, logged with its purpose; the member of staff's name, id and team are shown, and that
    consulted too, only once the viewer has revealed who it is. Until then case, referral, team and
    declaration references are shown as codes of this alert, and the person looked at is withheld where it
    would give the member of staff away (`_withheld`); a person withheld is not consulted."""
    alert = _alert(session, alert_id, viewer)
    label = pseudonym(settings, alert.staff_id)
    revealed = _revealed_to(session, alert_id, viewer)
    rules = _rules(alert.rules)
    subject = monitoring.get_nominal(session, alert.subject_id) if alert.subject_id else None
    linked = alert.subject_id is not None and alert.subject_id in _linked_subjects(
        session, viewer, unseen(session, viewer)
    )
    subject, hidden = _withheld(subject, rules, revealed=revealed, linked=linked)
    whole = hidden in (WITHHELD_GIVES_AWAY, WITHHELD_LINKED)
    ledger.record_consultation(
        session,
        actor=viewer.actor,
        object_type="alert",
        object_id=alert_id,
        subjects=() if whole else _subjects(alert.subject_id),
        justification=f"counter-corruption triage of alert {alert_id}",
    )
    person = None
    if whole and alert.subject_id:
        person = (alert.subject_id, _linked_staff(session, [alert.subject_id]).get(alert.subject_id))
    staff = None
    if revealed:
        staff = workforce.view_staff(
            session,
            alert.staff_id,
            actor=viewer.actor,
            justification=f"counter-corruption triage of alert {alert_id} (identity revealed)",
        )
        mask = _masker(session, alert.staff_id, "", subject=person) if person else None
        shown_label = staff.name if staff else alert.staff_id
        teams: dict[str, str] | None = workforce.team_names(session)
        # Staff and the person looked at by name, as the page shows them (the person only if not withheld).
        people: dict[str, str] | None = _people_named(
            {alert.staff_id: staff.name if staff else None}, [subject]
        )
    else:
        mask = _masker(session, alert.staff_id, label, settings=settings, alert_id=alert_id, subject=person)
        shown_label = label
        teams = None  # the teams stay codes: a team's name would give the member of staff away
        people = None  # and the member of staff stays their pseudonym
    references = _references(session, [alert.investigation_id])
    reveals = session.scalars(
        select(IdentityReveal).where(IdentityReveal.alert_id == alert_id).order_by(IdentityReveal.at)
    )
    return AlertDetail(
        alert=_row(alert, shown_label, mask, references, subject_withheld=whole, teams=teams, people=people),
        pseudonym=label,
        revealed=revealed,
        staff=staff,
        staff_id=alert.staff_id if revealed else None,
        subject=subject,
        subject_hidden=hidden,
        events=_events(session, [alert_id], mask, teams, people),
        dismissal_reason=alert.dismissal_reason,
        triaged_by=alert.triaged_by,
        triaged_by_name=workforce.staff_name(session, alert.triaged_by),
        triaged_at=alert.triaged_at,
        reveals=[
            RevealRow(r.revealed_to, workforce.staff_name(session, r.revealed_to), r.reason, r.at)
            for r in reveals
        ],
        other_new=_other_new(session, settings, alert.staff_id, viewer, exclude=[alert_id])
        if alert.status == AlertStatus.NEW
        else [],
        open_investigations=_open_investigations_of(session, alert.staff_id, viewer)
        if alert.status == AlertStatus.NEW and revealed
        else [],
    )


def _withheld(
    subject: NominalView | None, rules: Sequence[str], *, revealed: bool = False, linked: bool = False
) -> tuple[NominalView | None, str | None]:
    """(the person looked at as shown, why something is withheld). While the member of staff is
    pseudonymous, the person looked at must not give them away: their own record (SELF), or someone
    sharing their surname and home (RELATIVE_OR_HOUSEHOLD), is withheld whole, subject id included; a
    neighbour's postcode (their home's street) is withheld. On every alert, revealed or not, a person
    `linked` to another alert that is still pseudonymous to the viewer and withholds them whole is withheld
    whole too (the same record shown here would name the other alert's member of staff)."""
    if not revealed and _gives_away(rules):
        return None, WITHHELD_GIVES_AWAY
    if linked and not (revealed and _gives_away(rules)):  # a revealed SELF alert names its own staff anyway
        return None, WITHHELD_LINKED
    if revealed:
        return subject, None
    if subject is None:
        return None, None
    if Rule.NEIGHBOUR in rules and subject.postcode:
        return replace(subject, postcode=None, address=None), WITHHELD_POSTCODE
    return subject, None


def reveal_identity(session: Session, alert_id: str, viewer: Principal, reason: str) -> bool:
    """Let the viewer see who the member of staff on this alert is. Needs a reason; recorded as a
    consultation of that person's data. False if it was already revealed to them (nothing recorded)."""
    alert = _alert(session, alert_id, viewer)
    cleaned = _clean(reason, "give a reason for revealing who this is")
    if _revealed_to(session, alert_id, viewer):
        return False
    session.add(IdentityReveal(alert_id=alert_id, revealed_to=viewer.staff_id, reason=cleaned, at=utcnow()))
    ledger.record_consultation(
        session,
        actor=viewer.actor,
        object_type="alert",
        object_id=alert_id,
        subjects=(alert.staff_id,),
        justification=cleaned,
        detail={"action": "identity revealed"},
    )
    session.flush()
    return True


def _triage_entry(viewer: Principal, alert: Alert, detail: dict[str, Any]) -> EntryDraft:
    return EntryDraft(
        actor=viewer.actor,
        op=Op.REVIEW,
        object_type="alert",
        object_id=alert.alert_id,
        subjects=_subjects(alert.staff_id, alert.subject_id),
        detail=detail,
    )


def _require_new(alert: Alert, references: dict[int, str] | None = None) -> None:
    if alert.status == AlertStatus.NEW:
        return
    if alert.status == AlertStatus.DISMISSED:
        raise CaseworkError(f"Alert {alert.alert_id} has already been dismissed.")
    reference = (references or {}).get(alert.investigation_id or -1)
    where = f" ({reference})" if reference else ""
    raise CaseworkError(f"Alert {alert.alert_id} is already part of an investigation{where}.")


# Decisions are checked on rows locked and read afresh (PostgreSQL FOR UPDATE: READ COMMITTED would let two
# decisions both pass the check and the second overwrite the first; SQLite's write lock is already held), an
# investigation before its alerts and alerts in id order, so two decisions at once never deadlock.


def _lock_alerts(session: Session, alert_ids: Iterable[str]) -> None:
    for alert_id in sorted(set(alert_ids)):
        session.get(Alert, alert_id, with_for_update=True, populate_existing=True)


def _lock_investigation(session: Session, investigation_id: int, *, alerts: bool = False) -> None:
    """The investigation locked and read afresh; with `alerts` (closing), then its alerts in id order.
    Adding alerts or a note locks only the investigation: the alerts it then locks are the new ones, and
    locking the linked ones as well would take alerts out of id order."""
    found = session.get(Investigation, investigation_id, with_for_update=True, populate_existing=True)
    if found is None or not alerts:
        return
    linked = select(Alert).where(Alert.investigation_id == investigation_id).order_by(Alert.alert_id)
    session.scalars(linked.with_for_update().execution_options(populate_existing=True)).all()


def dismiss_alert(session: Session, alert_id: str, viewer: Principal, reason: str) -> None:
    """Dismiss a new alert: the reason is required and recorded."""
    _lock_alerts(session, [alert_id])
    alert = _alert(session, alert_id, viewer)
    cleaned = _clean(reason, "give a reason for dismissing the alert")
    _require_new(alert, _references(session, [alert.investigation_id]))
    now = utcnow()
    alert.status, alert.dismissal_reason = AlertStatus.DISMISSED, cleaned
    alert.triaged_by, alert.triaged_at, alert.updated_at = viewer.staff_id, now, now
    ledger.record(session, _triage_entry(viewer, alert, {"decision": "dismissed", "reason": cleaned}))
    session.flush()


# --------------------------------------------------------------------------- investigations

# PostgreSQL: the reference is read and taken under this transaction lock (SQLite: the write lock).
_REFERENCE_LOCK = int.from_bytes(hashlib.sha256(b"custodes.investigation").digest()[:8], "big") >> 1


def next_reference(session: Session, at: datetime) -> str:
    """`INV/NNN/YY`: consecutive across years, never reused, safe under concurrent openings (numbers are
    taken under a lock held to the end of the transaction, and `reference` is unique)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _REFERENCE_LOCK})
    last = session.scalars(select(Investigation.reference).order_by(Investigation.id.desc()).limit(1)).first()
    number = int(last.split("/")[1]) + 1 if last else 1
    return f"INV/{number:03d}/{london_day(at).year % 100:02d}"


def _alerts_for(
    session: Session, alert_ids: Sequence[str], viewer: Principal, settings: Settings | None = None
) -> list[Alert]:
    wanted = list(dict.fromkeys(a.strip() for a in alert_ids if a and a.strip()))
    if not wanted:
        raise CaseworkError("Please choose at least one alert.")
    _lock_alerts(session, wanted)
    found = {alert_id: session.get(Alert, alert_id) for alert_id in wanted}
    hidden = unseen(session, viewer)
    missing = [i for i, a in found.items() if a is None or hidden.hides(a.staff_id, a.subject_id)]
    if missing:  # named as sent: the words are the same for an alert kept from the viewer and none at all
        named = ", ".join(i[:40] for i in missing[:_NAMED])
        more = f" and {len(missing) - _NAMED} more" if len(missing) > _NAMED else ""
        if len(missing) == 1:
            raise NotFound(f"There is no alert {named}, or it is not for you to see.")
        raise NotFound(f"There are no alerts {named}{more}, or they are not for you to see.")
    alerts = [a for a in found.values() if a is not None]
    references = _references(session, (a.investigation_id for a in alerts))
    for alert in alerts:
        _require_new(alert, references)
    if len({a.staff_id for a in alerts}) > 1:
        raise CaseworkError(
            "An investigation is about one member of staff: choose alerts about the same person."
            + (_mixed_staff(settings, alerts) if settings is not None else "")
        )
    return alerts


def _mixed_staff(settings: Settings, alerts: Sequence[Alert]) -> str:
    """ " The alerts ticked are about 2 members of staff: Staff 4AAGKQ (2 alerts), Staff CRWYRE (1 alert)."":
    by their codes, as the queue shows them (never a name: some may still be pseudonymous to the viewer)."""
    counts: dict[str, int] = {}
    for alert in alerts:
        label = pseudonym(settings, alert.staff_id)
        counts[label] = counts.get(label, 0) + 1
    listed = ", ".join(f"{label} ({n} alert{'' if n == 1 else 's'})" for label, n in counts.items())
    return f" The alerts ticked are about {len(counts)} members of staff: {listed}."


def _default_title(alerts: Sequence[Alert]) -> str:
    codes = list(dict.fromkeys(code for a in alerts for code in _rules(a.rules)))
    words = ", ".join(RULE_TITLES.get(code, code) for code in codes[:3]).lower() or "possible misuse"
    return (words[0].upper() + words[1:])[:MAX_TITLE]


def _link(session: Session, alerts: Sequence[Alert], row: Investigation, viewer: Principal) -> None:
    now = utcnow()
    for alert in alerts:
        alert.status, alert.investigation_id = AlertStatus.INVESTIGATING, row.id
        alert.triaged_by, alert.triaged_at, alert.updated_at = viewer.staff_id, now, now
        detail = {"decision": "investigation", "investigation": row.reference}
        ledger.record(session, _triage_entry(viewer, alert, detail))


def _investigation_entry(
    viewer: Principal, row: Investigation, op: Op, detail: dict[str, Any], subjects: Sequence[str] = ()
) -> EntryDraft:
    return EntryDraft(
        actor=viewer.actor,
        op=op,
        object_type="investigation",
        object_id=row.reference,
        subjects=_subjects(row.staff_id, *subjects),
        detail=detail,
    )


OPEN_REASON_ASK = "give a reason for opening an investigation (it names the member of staff to the unit)"


def open_investigation(
    session: Session,
    alert_ids: Sequence[str],
    viewer: Principal,
    title: str = "",
    reason: str = "",
    *,
    settings: Settings | None = None,
) -> int:
    """Open an investigation from one or more new alerts about the same member of staff (never oneself).
    A blank title is made from the alerts' rules. An investigation names the member of staff (its pages and
    the list of investigations show who it is), so opening one reveals them: a reason is required, kept as
    an identity reveal on each of its alerts not yet revealed to the viewer and as the justification of
    the opening entry, which names the member of staff. Returns its id. With `settings`, a refusal of
    alerts about several members of staff names them by their staff codes."""
    alerts = _alerts_for(session, alert_ids, viewer, settings)
    staff_id = alerts[0].staff_id
    if staff_id == viewer.staff_id:  # _alert already hides these; kept as the rule in its own words
        raise NotFound("You cannot open an investigation about yourself.")
    cleaned = " ".join((title or "").split())
    if len(cleaned) > MAX_TITLE:
        raise CaseworkError(f"The title is longer than {MAX_TITLE} characters.")
    why = _clean(reason, OPEN_REASON_ASK)
    now = utcnow()
    row = Investigation(
        reference=next_reference(session, now),
        title=cleaned or _default_title(alerts),
        staff_id=staff_id,
        status=InvestigationStatus.OPEN,
        opened_by=viewer.staff_id,
        opened_at=now,
    )
    session.add(row)
    session.flush()
    ids = [a.alert_id for a in alerts]
    subjects = [a.subject_id for a in alerts if a.subject_id]
    detail = {"action": "opened", "title": row.title, "alerts": ids}
    entry = replace(_investigation_entry(viewer, row, Op.COLLECTION, detail, subjects), justification=why)
    ledger.record(session, entry)
    for alert in alerts:
        if not _revealed_to(session, alert.alert_id, viewer):
            session.add(
                IdentityReveal(alert_id=alert.alert_id, revealed_to=viewer.staff_id, reason=why, at=now)
            )
    _link(session, alerts, row, viewer)
    session.flush()
    return row.id


def _open(row: Investigation) -> None:
    if row.status != InvestigationStatus.OPEN:
        raise CaseworkError(f"{row.reference} is closed.")


def add_alerts(session: Session, investigation_id: int, alert_ids: Sequence[str], viewer: Principal) -> str:
    """Add new alerts about the same member of staff to an open investigation. Returns its reference."""
    _lock_investigation(session, investigation_id)
    row = _investigation(session, investigation_id, viewer)
    _open(row)
    alerts = _alerts_for(session, alert_ids, viewer)
    if alerts[0].staff_id != row.staff_id:
        raise CaseworkError(
            f"These alerts are about someone other than the member of staff in {row.reference}."
        )
    ids = [a.alert_id for a in alerts]
    subjects = [a.subject_id for a in alerts if a.subject_id]
    detail = {"action": "alerts added", "alerts": ids}
    ledger.record(session, _investigation_entry(viewer, row, Op.ALTERATION, detail, subjects))
    _link(session, alerts, row, viewer)
    session.flush()
    return row.reference


def investigations(
    session: Session, viewer: Principal, status: str = InvestigationStatus.OPEN
) -> list[InvestigationRow]:
    """Investigations the viewer may see (never one into them or built on an alert about them), newest
    first. Names from the staff register, as other work queues show them: the list names who is under
    investigation, so showing it is a consultation of their data, logged."""
    hidden = unseen(session, viewer)
    query = select(Investigation).where(
        Investigation.staff_id.not_in(hidden.staff_ids),
        Investigation.id.not_in(_hidden_investigations(session, viewer, hidden)),
    )
    if status:
        query = query.where(Investigation.status == status)
    rows = list(session.scalars(query.order_by(Investigation.id.desc()).limit(500)))
    counts = dict(
        session.execute(
            select(Alert.investigation_id, func.count())
            .where(Alert.investigation_id.in_([r.id for r in rows]))
            .group_by(Alert.investigation_id)
        ).all()
    )
    if rows:
        ledger.record_consultation(
            session,
            actor=viewer.actor,
            object_type="investigation_list",
            object_id=None,
            subjects=_subjects(*(r.staff_id for r in rows)),
            justification="counter-corruption casework: the list of investigations",
            detail={"status": status or "any", "shown": len(rows)},
        )
    return [_summary(session, r, counts.get(r.id, 0)) for r in rows]


def investigation_count(session: Session, viewer: Principal, status: str = InvestigationStatus.OPEN) -> int:
    """How many investigations `investigations` would list for the viewer (none into them or built on an
    alert about them), for their home page: a count names nobody, so nothing is logged."""
    hidden = unseen(session, viewer)
    query = (
        select(func.count())
        .select_from(Investigation)
        .where(
            Investigation.staff_id.not_in(hidden.staff_ids),
            Investigation.id.not_in(_hidden_investigations(session, viewer, hidden)),
        )
    )
    if status:
        query = query.where(Investigation.status == status)
    return session.scalar(query) or 0


def _notes(session: Session, investigation_id: int) -> list[NoteRow]:
    query = select(InvestigationNote).where(InvestigationNote.investigation_id == investigation_id)
    return [
        NoteRow(n.id, n.author, workforce.staff_name(session, n.author), n.text, n.at)
        for n in session.scalars(query.order_by(InvestigationNote.at, InvestigationNote.id))
    ]


def investigation_detail(
    session: Session, settings: Settings, investigation_id: int, viewer: Principal, *, purpose: str
) -> InvestigationDetail:
    """An investigation with its alerts, accesses and notes. A consultation of the data of the member of
    staff investigated and of the people looked at: logged with `purpose`."""
    row = _investigation(session, investigation_id, viewer)
    alerts = _linked_alerts(session, row.id)
    subjects = [a.subject_id for a in alerts if a.subject_id]
    ledger.record_consultation(
        session,
        actor=viewer.actor,
        object_type="investigation",
        object_id=row.reference,
        subjects=_subjects(*subjects),
        justification=purpose,
    )
    staff = workforce.view_staff(session, row.staff_id, actor=viewer.actor, justification=purpose)
    label = staff.name if staff else row.staff_id
    teams = workforce.team_names(session)  # an investigation names its member of staff: teams by name too
    found = {subject: monitoring.get_nominal(session, subject) for subject in dict.fromkeys(subjects)}
    people = {subject: person for subject, person in found.items() if person is not None}
    named = _people_named({row.staff_id: staff.name if staff else None}, people.values())
    references = {row.id: row.reference}
    return InvestigationDetail(
        summary=_summary(session, row, len(alerts)),
        staff=staff,
        outcome_reason=row.outcome_reason,
        opened_by=row.opened_by,
        opened_by_name=workforce.staff_name(session, row.opened_by),
        closed_by=row.closed_by,
        closed_by_name=workforce.staff_name(session, row.closed_by),
        alerts=[_row(a, label, None, references, teams=teams, people=named) for a in alerts],
        events=_events(session, [a.alert_id for a in alerts], teams=teams, people=named),
        notes=_notes(session, row.id),
        other_new=_other_new(session, settings, row.staff_id, viewer)
        if row.status == InvestigationStatus.OPEN
        else [],
        people=people,
    )


def investigation_reference(session: Session, investigation_id: int, viewer: Principal) -> str:
    """The reference of an investigation the viewer may see (NotFound otherwise). Not a consultation."""
    return _investigation(session, investigation_id, viewer).reference


def view_investigation(
    session: Session, settings: Settings, investigation_id: int, viewer: Principal
) -> InvestigationDetail:
    row = _investigation(session, investigation_id, viewer)
    purpose = f"counter-corruption investigation {row.reference}"
    return investigation_detail(session, settings, investigation_id, viewer, purpose=purpose)


def add_note(session: Session, investigation_id: int, viewer: Principal, note: str) -> str:
    """Add a note to an open investigation. The ledger keeps the note's SHA-256, so the evidence pack can
    show that the text was not changed afterwards. Returns the reference."""
    _lock_investigation(session, investigation_id)
    row = _investigation(session, investigation_id, viewer)
    _open(row)
    cleaned = _clean(note, "write the note", MAX_NOTE)
    added = InvestigationNote(investigation_id=row.id, author=viewer.staff_id, text=cleaned, at=utcnow())
    session.add(added)
    session.flush()
    digest = hashlib.sha256(cleaned.encode()).hexdigest()
    detail = {"action": "note added", "note": added.id, "sha256": digest}
    ledger.record(session, _investigation_entry(viewer, row, Op.COLLECTION, detail))
    return row.reference


def close_investigation(
    session: Session, investigation_id: int, viewer: Principal, outcome: str, reason: str
) -> str:
    """Close an open investigation with an outcome and a reason (both required: refused with
    FieldProblems naming each missing one); its alerts are closed with it. Returns the reference."""
    _lock_investigation(session, investigation_id, alerts=True)
    row = _investigation(session, investigation_id, viewer)
    _open(row)
    problems: dict[
        str, str
    ] = {}  # every field at once (FieldProblems), so the form can say each at its place
    if outcome not in OUTCOMES:
        problems["outcome"] = "Please choose an outcome."
    cleaned = ""
    try:
        cleaned = _clean(reason, "give the reason for the outcome")
    except CaseworkError as error:
        problems["reason"] = str(error)
    if problems:
        raise FieldProblems(problems)
    now = utcnow()
    row.status, row.outcome, row.outcome_reason = InvestigationStatus.CLOSED, outcome, cleaned
    row.closed_by, row.closed_at = viewer.staff_id, now
    for alert in _linked_alerts(session, row.id):
        alert.status, alert.updated_at = AlertStatus.CLOSED, now
    detail = {"action": "closed", "outcome": outcome, "reason": cleaned}
    ledger.record(session, _investigation_entry(viewer, row, Op.REVIEW, detail))
    session.flush()
    return row.reference


# --------------------------------------------------------------------------- the ledger's audit screens


@dataclass(frozen=True, slots=True)
class LedgerView:
    """What the ledger's audit screens may show this viewer of the casework recorded there."""

    hidden: frozenset[str]  # ids of alerts and references of investigations they may not see
    staff: dict[
        str, tuple[str, str]
    ]  # of those asked about and visible: id -> (staff id, as the viewer sees it)
    investigated: frozenset[str]  # of the staff ids asked about: those in an investigation the viewer may see


def ledger_view(
    session: Session,
    settings: Settings,
    viewer: Principal,
    mentioned: Iterable[str] = (),
    staff_ids: Iterable[str] = (),
    *,
    searched: Iterable[str] = (),
) -> LedgerView:
    """For ledger.web's screen (monitoring.ledger_screen): the alerts and investigations hidden from the
    viewer; for the alert ids and references `mentioned`, who the member of staff is shown as (a pseudonym
    on an alert until revealed to the viewer; on an investigation, who it is, as its page shows them); and
    which of `staff_ids` are in an investigation the viewer may see. The alerts about members of staff a
    search names (`searched`) that are not revealed to the viewer are hidden too: found by the staff number,
    their pseudonym would be paired with it. Reads only: not a consultation."""
    unseen_here = unseen(session, viewer)
    hidden_investigations = or_(  # as investigations() leaves them out
        Investigation.staff_id.in_(unseen_here.staff_ids),
        Investigation.id.in_(_hidden_investigations(session, viewer, unseen_here)),
    )
    hidden = set(session.scalars(select(Alert.alert_id).where(not_(_visible(session, viewer, unseen_here)))))
    people_searched = sorted(set(searched))
    if people_searched:
        revealed_to_viewer = select(IdentityReveal.alert_id).where(
            IdentityReveal.revealed_to == viewer.staff_id
        )
        masked = select(Alert.alert_id).where(
            Alert.staff_id.in_(people_searched), Alert.alert_id.not_in(revealed_to_viewer)
        )
        hidden.update(session.scalars(masked))
    hidden.update(session.scalars(select(Investigation.reference).where(hidden_investigations)))
    wanted = sorted({m for m in mentioned if m not in hidden})
    staff: dict[str, tuple[str, str]] = {}
    if wanted:
        query = select(Alert.alert_id, Alert.staff_id).where(Alert.alert_id.in_(wanted))
        alerts = {alert_id: staff_id for alert_id, staff_id in session.execute(query)}
        revealed = set(
            session.scalars(
                select(IdentityReveal.alert_id).where(
                    IdentityReveal.alert_id.in_(list(alerts)), IdentityReveal.revealed_to == viewer.staff_id
                )
            )
        )
        for alert_id, staff_id in alerts.items():
            shown = staff_id if alert_id in revealed else pseudonym(settings, staff_id)
            staff[alert_id] = (staff_id, shown)
        named = select(Investigation.reference, Investigation.staff_id).where(
            Investigation.reference.in_(wanted)
        )
        staff.update({reference: (staff_id, staff_id) for reference, staff_id in session.execute(named)})
    asked = sorted(set(staff_ids))
    investigated: set[str] = set()
    if asked:
        seen = select(Investigation.staff_id).where(
            Investigation.staff_id.in_(asked), not_(hidden_investigations)
        )
        investigated.update(session.scalars(seen.distinct()))
    return LedgerView(frozenset(hidden), staff, frozenset(investigated))


# --------------------------------------------------------------------------- explaining one access

NO_SUCH_ACCESS = "There is no stored access with that event id, or it is not for you to see."
MAX_EVENT_ID = 100  # as stored (events.py)


def may_explain_access(
    session: Session, settings: Settings, event_id: str, viewer: Principal, reason: str
) -> str:
    """Check that a member of the unit may have this access explained to them on the screens
    (`monitoring.explain`, then `monitoring.explained_to` with the reason returned). Nothing is logged here.

    Refused, every problem of the form at once (FieldProblems: `event_id`, `reason`), when the event id or
    the reason is blank or too long. Refused as unknown (NotFound, the same words whether or not the access
    exists) when the access is kept from the viewer as its alert would be (`unseen`): done by them or by
    staff close to them, or about them or people close to them. Refused (CaseworkError, naming the alert)
    while its member of staff is a pseudonym to the viewer on an alert holding this access, or while the
    person looked at is withheld because an alert naming them would give away a pseudonymous member of
    staff (`_GIVES_AWAY`): the explanation names both, so the viewer reveals who it is on that alert first,
    with a reason, as on the alert's page. Returns the reason, trimmed."""
    problems: dict[str, str] = {}
    wanted = (event_id or "").strip()
    if not wanted:
        problems["event_id"] = "Please give the access's event id."
    elif len(wanted) > MAX_EVENT_ID:
        problems["event_id"] = f"An event id is at most {MAX_EVENT_ID} characters (this is {len(wanted):,})."
    try:
        cleaned = _clean(reason, "give a reason for looking at this access")
    except CaseworkError as error:
        problems["reason"] = str(error)
    if problems:
        raise FieldProblems(problems)
    event = monitoring.stored_event(settings, wanted)
    hidden = unseen(session, viewer)
    if event is None or hidden.hides(event["staff_id"], event["subject_id"]):
        raise NotFound(NO_SUCH_ACCESS)
    holding = select(AlertEvent.alert_id).where(AlertEvent.event_id == wanted)
    revealed = select(IdentityReveal.alert_id).where(IdentityReveal.revealed_to == viewer.staff_id)
    on_alerts = list(
        session.scalars(select(Alert).where(Alert.alert_id.in_(holding)).order_by(Alert.alert_id))
    )
    if any(hidden.hides(alert.staff_id, alert.subject_id) for alert in on_alerts):
        raise NotFound(NO_SUCH_ACCESS)
    masked = [alert.alert_id for alert in on_alerts if not _revealed_to(session, alert.alert_id, viewer)]
    if masked:
        raise CaseworkError(
            f"This access is on alert {masked[0]}, where its member of staff is shown to you by a code. "
            "Reveal who it is on that alert's page first (with your reason), then explain the access here."
        )
    if event["subject_id"]:
        giving_away = select(Alert.alert_id).where(
            _visible(session, viewer, hidden),
            Alert.subject_id == event["subject_id"],
            or_(*(_has_rule(rule) for rule in _GIVES_AWAY)),
            Alert.alert_id.not_in(revealed),
        )
        first = session.scalars(giving_away.order_by(Alert.alert_id).limit(1)).first()
        if first is not None:
            raise CaseworkError(
                f"The person this access looked at is withheld while alert {first}'s member of staff is "
                "shown to you by a code (naming the person would give them away). Reveal who it is on that "
                "alert's page first (with your reason), then explain the access here."
            )
    return cleaned
