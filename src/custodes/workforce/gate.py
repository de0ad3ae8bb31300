"""The pre-access gate (workforce.md): may this member of staff see this person's record on this system?

Rules, name matching, referrals, and the in-process index that makes a decision cheap:

- `GateIndex` keeps, per member of staff, what the rules need (roles, line manager, latest completion per
  course, vetting, person declarations with their names already normalised), loaded on first use and
  dropped when the ledger shows a change to it. Before deciding, `sync` reads the ledger entries appended
  since the last look (`idx >= watermark`, one indexed range query): every change to staff, accounts,
  courses, training, vetting, declarations, nominals or API tokens is recorded there in the same
  transaction as the change, so a decision never uses anything older than what was committed before it,
  whichever process made the change.
- `evaluate` is the rule evaluation alone: pure Python on the index, no database.
- `DecisionWriter` is group commit for the web process: each request hands its decision to one writer
  thread, which syncs the index, decides, opens referrals and records the ledger entries of every waiting
  request in one transaction, and answers each request only after that transaction has committed.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from custodes.identity import service as identity
from custodes.identity.permissions import Permission, permissions_for
from custodes.kit.db import transaction, utcnow
from custodes.kit.names import NAME_RULE, PersonKey, same_person, usable_name
from custodes.kit.tabular import normalise_postcode
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.monitoring import service as monitoring
from custodes.monitoring.schemas import NominalIdentity
from custodes.workforce.models import Course, Declaration, Referral, Staff, TrainingCompletion, Vetting
from custodes.workforce.schemas import (
    PERSON_DECLARATIONS,
    CourseGate,
    DeclarationStatus,
    ReferralLink,
    ReferralView,
    SubjectRef,
)
from custodes.workforce.service import (
    add_months,
    declared_matches,
    earlier_people,
    keys_of,
    levels_in_force,
    london_today,
    registered_keys,
)

# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class SystemRule:
    """What a force system needs before it shows a record."""

    title: str
    vetting_level: str  # the lowest level that suffices (see VETTING_RANK)
    purpose_required: bool


# Police vetting levels in order of depth (APP Vetting): NPPV 1 < NPPV 2 = RV < NPPV 3 = MV; national
# security SC sits with MV for police systems and DV above it. A level not listed only meets itself.
VETTING_RANK = {"NPPV1": 1, "NPPV2": 2, "RV": 2, "NPPV3": 3, "MV": 3, "SC": 3, "DV": 4}

# The systems that ask the gate. A request without `system` is checked against `default`.
SYSTEMS: dict[str, SystemRule] = {
    "default": SystemRule("Any force system", "NPPV2", purpose_required=False),
    "PNC": SystemRule("Police National Computer", "NPPV2", purpose_required=True),
    "PND": SystemRule("Police National Database", "NPPV3", purpose_required=True),
    "Genesis": SystemRule("Local records (Genesis)", "NPPV2", purpose_required=False),
    "Intelligence": SystemRule("Intelligence system", "NPPV3", purpose_required=True),
}


def vetting_meets(level: str, required: str) -> bool:
    held, needed = VETTING_RANK.get(level.upper()), VETTING_RANK.get(required.upper())
    if held is None or needed is None:
        return level.upper() == required.upper()
    return held >= needed


# --------------------------------------------------------------------------- codes and results

DENY, REFER, ALLOW = "deny", "refer", "allow"
MESSAGES = {
    "LEFT_FORCE": "The staff register shows you left the force on {detail}.",
    "NOT_TRAINED": "A course that gates system access is missing or expired: {detail}.",
    "NOT_VETTED": "No current vetting at {detail} or above, which this system needs.",
    "DECLARED_CONFLICT": "The subject matches your declared {detail}: your line manager will do this "
    "search (see My referrals, /me/referrals).",
    "SELF": "The subject is you: your line manager will do this search (see My referrals, /me/referrals).",
    "NO_PURPOSE": "This system needs a purpose or a case reference.",
}
DECISION_OF = {
    "LEFT_FORCE": DENY,
    "NOT_TRAINED": DENY,
    "NOT_VETTED": DENY,
    "NO_PURPOSE": DENY,
    "DECLARED_CONFLICT": REFER,
    "SELF": REFER,
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class GateDecision:
    decision: str
    reasons: tuple[Reason, ...]
    referral_id: int | None = None
    declaration_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "decision": self.decision,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
        }
        if self.referral_id is not None:
            found["referral_id"] = self.referral_id
        return found


class RequestRefused(ValueError):
    """A request the gate cannot decide (unknown staff, malformed subject): `problems` say why."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {p}" for f, p in problems))
        self.problems = problems

    def as_list(self) -> list[dict[str, str]]:
        return [{"field": f, "problem": p} for f, p in self.problems]


# --------------------------------------------------------------------------- requests


@dataclass(frozen=True, slots=True)
class GateRequest:
    staff_id: str
    system: str
    subject: SubjectRef
    purpose: str | None
    case_ref: str | None


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_KEYS = {"staff_id", "system", "subject_id", "subject", "purpose", "case_ref"}
_SUBJECT_KEYS = {"surname", "forenames", "date_of_birth", "postcode"}


def parse_request(data: object) -> GateRequest:
    """Validate a request body (workforce.md); raise RequestRefused naming every problem."""
    problems: list[tuple[str, str]] = []
    if not isinstance(data, Mapping):
        raise RequestRefused([("body", "must be a JSON object")])
    for key in sorted(set(data) - _KEYS):
        problems.append((str(key), "is not a field of an access check"))

    def text(source: Mapping[str, Any], key: str, limit: int, where: str = "") -> str | None:
        value = source.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            problems.append((where + key, "must be a string"))
            return None
        value = " ".join(value.split())
        if len(value) > limit:
            problems.append((where + key, f"is longer than {limit} characters"))
            return None
        return value or None

    staff_id = text(data, "staff_id", 32)
    if staff_id is None:
        problems.append(("staff_id", "is required"))
    system = text(data, "system", 32) or "default"
    if system not in SYSTEMS:
        problems.append(("system", f"{system!r} is not a known system ({', '.join(sorted(SYSTEMS))})"))
    purpose, case_ref = text(data, "purpose", 200), text(data, "case_ref", 64)
    subject_id = text(data, "subject_id", 64)
    if subject_id is not None and not _ID.fullmatch(subject_id):
        problems.append(("subject_id", "is not a subject id"))
    subject = SubjectRef(subject_id=subject_id)
    named = data.get("subject")
    if named is not None:
        if not isinstance(named, Mapping):
            problems.append(("subject", "must be an object with surname, forenames, date_of_birth, postcode"))
        else:
            for key in sorted(set(named) - _SUBJECT_KEYS):
                problems.append((f"subject.{key}", "is not a field of a subject"))
            surname = text(named, "surname", 100, "subject.")
            forenames = text(named, "forenames", 100, "subject.")
            born = text(named, "date_of_birth", 10, "subject.")
            postcode = text(named, "postcode", 10, "subject.")
            birth: date | None = None
            if born is not None:
                try:  # strictly YYYY-MM-DD: fromisoformat alone also takes 19800101 and 1980-W01-1
                    birth = date.fromisoformat(born) if _DAY.fullmatch(born) else None
                except ValueError:
                    birth = None
                if birth is None:
                    problems.append(("subject.date_of_birth", f"{born!r} is not a date (YYYY-MM-DD)"))
            if postcode is not None and normalise_postcode(postcode) is None:
                problems.append(("subject.postcode", f"{postcode!r} is not a UK postcode"))
            for key, value in (("surname", surname), ("forenames", forenames)):
                if value is not None and not usable_name(value):
                    problems.append((f"subject.{key}", f"{NAME_RULE} — give the name as searched in full"))
            if not surname or not forenames:
                problems.append(("subject", "give surname and forenames"))
            elif born is None and postcode is None:
                problems.append(("subject", "give date_of_birth or postcode with the name"))
            subject = SubjectRef(
                subject_id, surname, forenames, birth, normalise_postcode(postcode) if postcode else None
            )
    if subject_id is None and named is None:
        problems.append(("subject_id", "give subject_id, or subject with the person's details"))
    if problems:
        raise RequestRefused(problems)
    assert staff_id is not None
    return GateRequest(staff_id, system, subject, purpose, case_ref)


# --------------------------------------------------------------------------- the index


@dataclass(frozen=True, slots=True)
class DeclaredPerson:
    declaration_id: str
    kind: str
    relationship: str | None
    person: PersonKey  # as declared
    registered: PersonKey | None = None  # the nominal register's details for the declared subject id

    def matches(self, subjects: Sequence[PersonKey]) -> bool:
        """The declared person is one of the subject's keys (see `subject_keys`): by id, or by name with
        date of birth or postcode, as declared or as the register holds the declared id; a person declared
        by name alone by that full name (`service.declared_matches`)."""
        for subject in subjects:
            if declared_matches(self.person, subject):
                return True
            if self.registered is not None and same_person(self.registered, subject):
                return True
        return False


@dataclass(frozen=True, slots=True)
class StaffProfile:
    staff_id: str
    known: bool
    line_manager_id: str | None
    roles: frozenset[str]
    me: PersonKey  # name, date of birth and home postcode, as the staff register holds them
    completions: Mapping[str, date]  # course code → latest completion
    vetting: tuple[tuple[str, str, date | None, date | None], ...]  # level, status, decided_on, expires_on
    declarations: tuple[DeclaredPerson, ...]
    leave_date: date | None = None  # the last day of service


@dataclass(frozen=True, slots=True)
class CourseRule:
    course_code: str
    title: str
    mandatory_for: frozenset[str]
    validity_months: int | None


@dataclass(frozen=True, slots=True)
class NominalFacts:
    person: PersonKey
    staff_id: str | None


_STAFF_TYPES = frozenset({"staff", "training", "vetting", "declaration", "account"})
_TRACKED = _STAFF_TYPES | {"course", "nominal", "api_token"}
_NOMINAL_CACHE = 250_000  # a warm start loads the whole register when it fills at most half of this


class GateIndex:
    """What the rules read, per member of staff, kept in step with the ledger (see the module docstring).

    Not thread-safe: the web process uses it from the DecisionWriter thread only; the CLI makes its own.
    """

    def __init__(self) -> None:
        self.watermark: int | None = None  # next ledger index to look at
        self.profiles: dict[str, StaffProfile] = {}
        self.courses: tuple[CourseRule, ...] | None = None
        self.nominals: dict[str, NominalFacts | None] = {}
        self.token_generation = 0  # bumped when an API token changes (tokens cached by the API)
        self.full_rebuilds = 0

    # ------------------------------------------------------------------ keeping in step

    def sync(self, session: Session) -> None:
        """Drop whatever the ledger says changed since the last look."""
        if self.watermark is None:
            self.watermark = ledger.size(session)
            return
        self.watermark, changed = ledger.entries_since(session, self.watermark, _TRACKED)
        if not changed:
            return
        if len(changed) > 5000:
            self.clear()
            return
        staff_entries, nominals = [], []
        for idx, kind, object_id in changed:
            if kind == "course":
                self.courses = None
            elif kind == "nominal":
                self.nominals.pop(object_id or "", None)
                nominals.append(object_id or "")
            elif kind == "api_token":
                self.token_generation += 1
            else:
                self.profiles.pop(object_id or "", None)
                staff_entries.append(idx)
        if staff_entries:  # training and vetting keys, declarations: the person is among the subjects
            for subject_id in ledger.entry_subjects(session, staff_entries):
                self.profiles.pop(subject_id, None)
        if nominals:  # a declaration by id matches by the register's details too: they changed
            for staff_id in _declared_by(session, nominals):
                self.profiles.pop(staff_id, None)

    def clear(self) -> None:
        self.profiles.clear()
        self.nominals.clear()
        self.courses = None
        self.token_generation += 1
        self.full_rebuilds += 1

    # ------------------------------------------------------------------ loading

    def course_rules(self, session: Session) -> tuple[CourseRule, ...]:
        if self.courses is None:
            rules = []
            for course in session.scalars(select(Course).order_by(Course.course_code)):
                if CourseGate.SYSTEM_ACCESS in _split(course.gates):
                    rules.append(
                        CourseRule(
                            course.course_code,
                            course.title,
                            _split(course.mandatory_for),
                            course.validity_months,
                        )
                    )
            self.courses = tuple(rules)
        return self.courses

    def profile(self, session: Session, staff_id: str) -> StaffProfile:
        found = self.profiles.get(staff_id)
        if found is None:
            found = self.profiles[staff_id] = _load_profiles(session, [staff_id])[staff_id]
        return found

    def preload(self, session: Session) -> int:
        """Load every member of staff, and the nominal register if it is small enough to cache whole (a
        warm start); returns how many staff."""
        self.sync(session)
        ids = list(session.scalars(select(Staff.staff_id)))
        for start in range(0, len(ids), 5000):
            self.profiles.update(_load_profiles(session, ids[start : start + 5000]))
        self.course_rules(session)
        if monitoring.nominal_count(session) <= _NOMINAL_CACHE // 2:
            self._cache_nominals(monitoring.nominal_identities(session, None))
        return len(ids)

    def nominal(self, session: Session, subject_id: str) -> NominalFacts | None:
        if subject_id not in self.nominals:
            self.prefetch_nominals(session, [subject_id])
        return self.nominals.get(subject_id)

    def prefetch_nominals(self, session: Session, subject_ids: Iterable[str]) -> None:
        """Look up, in one query for a whole batch of decisions, the nominals not yet cached (None for ids
        not in the register): `monitoring.nominal_identities`, the columns the rules need, rather than an
        ORM load each (`monitoring.get_nominal`, measured at 0.6 ms a decision)."""
        wanted = {i for i in subject_ids if i and i not in self.nominals}
        if not wanted:
            return
        if len(self.nominals) + len(wanted) > _NOMINAL_CACHE:
            self.nominals.clear()
        for subject_id in wanted:
            self.nominals[subject_id] = None
        self._cache_nominals(monitoring.nominal_identities(session, wanted))

    def _cache_nominals(self, found: Mapping[str, NominalIdentity]) -> None:
        for subject_id, n in found.items():
            person = PersonKey.of(n.subject_id, n.surname, n.forenames, n.date_of_birth, n.postcode)
            self.nominals[subject_id] = NominalFacts(person, n.staff_id)


def _split(stored: str | None) -> frozenset[str]:
    return frozenset(item for item in (stored or "").split(";") if item)


_CHUNK = 5000  # ids in one IN (...) list


def _declared_by(session: Session, subject_ids: list[str]) -> set[str]:
    """The staff with a person declaration naming one of these subject ids."""
    found: set[str] = set()
    kinds = [k.value for k in PERSON_DECLARATIONS]
    for start in range(0, len(subject_ids), _CHUNK):
        chunk = subject_ids[start : start + _CHUNK]
        query = select(Declaration.staff_id).where(
            Declaration.subject_id.in_(chunk), Declaration.kind.in_(kinds)
        )
        found.update(session.scalars(query.distinct()))
    return found


def _load_profiles(session: Session, staff_ids: list[str]) -> dict[str, StaffProfile]:
    wanted = set(staff_ids)
    columns = (
        Staff.staff_id,
        Staff.surname,
        Staff.forenames,
        Staff.date_of_birth,
        Staff.line_manager_id,
        Staff.home_postcode,
        Staff.leave_date,
    )
    staff = {row[0]: row for row in session.execute(select(*columns).where(Staff.staff_id.in_(wanted)))}
    roles = identity.roles_by_staff(session, wanted)  # one query for thousands of people
    completions: dict[str, dict[str, date]] = {sid: {} for sid in wanted}
    query = (
        select(
            TrainingCompletion.staff_id,
            TrainingCompletion.course_code,
            func.max(TrainingCompletion.completed_on),
        )
        .where(TrainingCompletion.staff_id.in_(wanted))
        .group_by(TrainingCompletion.staff_id, TrainingCompletion.course_code)
    )
    for staff_id, code, day in session.execute(query):
        completions[staff_id][code] = day
    vetting: dict[str, list[tuple[str, str, date | None, date | None]]] = {sid: [] for sid in wanted}
    grants = select(Vetting.staff_id, Vetting.level, Vetting.status, Vetting.decided_on, Vetting.expires_on)
    for staff_id, level, status, decided_on, expires_on in session.execute(
        grants.where(Vetting.staff_id.in_(wanted))
    ):
        vetting[staff_id].append((level, status, decided_on, expires_on))
    declared: dict[str, list[tuple[str, str, str | None, PersonKey]]] = {sid: [] for sid in wanted}
    query_d = (
        select(
            Declaration.staff_id,
            Declaration.declaration_id,
            Declaration.kind,
            Declaration.relationship,
            Declaration.subject_id,
            Declaration.surname,
            Declaration.forenames,
            Declaration.date_of_birth,
            Declaration.postcode,
            Declaration.status,
        )
        .where(
            Declaration.staff_id.in_(wanted),
            Declaration.kind.in_([k.value for k in PERSON_DECLARATIONS]),
            Declaration.ended.is_(None),  # withdrawn or replaced: no longer in force
        )
        .order_by(Declaration.declared_at, Declaration.declaration_id)
    )
    awaiting: dict[str, tuple[str, str, str, str | None]] = {}
    for (
        staff_id,
        declaration_id,
        kind,
        relationship,
        subject_id,
        surname,
        forenames,
        born,
        postcode,
        decision,
    ) in session.execute(query_d):
        key = PersonKey.of(subject_id, surname, forenames, born, postcode)
        declared[staff_id].append((declaration_id, kind, relationship, key))
        if decision == DeclarationStatus.AWAITING:
            awaiting[declaration_id] = (staff_id, declaration_id, kind, relationship)
    # A declaration corrected while awaiting its decision still matches the person as first declared until
    # the line manager has decided it (service.earlier_people).
    for declaration_id, keys in earlier_people(session, list(awaiting)).items():
        staff_id, _i, kind, relationship = awaiting[declaration_id]
        declared[staff_id].extend((declaration_id, kind, relationship, key) for key in keys)
    registered = registered_keys(
        session, (key.subject_id for rows in declared.values() for *_, key in rows if key.subject_id)
    )
    found = {}
    for staff_id in wanted:
        row = staff.get(staff_id)
        me = (
            PersonKey.of(None, row[1], row[2], row[3], row[5])
            if row is not None
            else PersonKey(None, "", (), None, None)
        )
        found[staff_id] = StaffProfile(
            staff_id=staff_id,
            known=row is not None,
            line_manager_id=row[4] if row is not None else None,
            roles=frozenset(roles.get(staff_id, ())),
            me=me,
            completions=completions[staff_id],
            vetting=tuple(vetting[staff_id]),
            declarations=tuple(
                DeclaredPerson(i, kind, relationship, key, registered.get(key.subject_id or ""))
                for i, kind, relationship, key in declared[staff_id]
            ),
            leave_date=row[6] if row is not None else None,
        )
    return found


# --------------------------------------------------------------------------- the rules


def _expired(rule: CourseRule, completed_on: date | None, on: date) -> bool:
    if completed_on is None or completed_on > on:
        return True
    if rule.validity_months is None:
        return False
    return on > add_months(completed_on, rule.validity_months)


def _words(value: str) -> str:
    return value.replace("_", " ")


def evaluate(
    profile: StaffProfile,
    courses: Iterable[CourseRule],
    system: SystemRule,
    subject: PersonKey | Sequence[PersonKey],
    subject_staff_id: str | None,
    purpose: str | None,
    case_ref: str | None,
    on: date,
) -> GateDecision:
    """The rules alone (workforce.md, "The pre-access gate"), in the table's order. Deny beats refer.
    `subject`: the subject's keys (`subject_keys`); any of them matching is a match."""
    subjects = (subject,) if isinstance(subject, PersonKey) else subject
    reasons: list[Reason] = []
    if profile.leave_date is not None and profile.leave_date < on:
        left = f"{profile.leave_date:%d %B %Y}"
        reasons.append(Reason("LEFT_FORCE", MESSAGES["LEFT_FORCE"].format(detail=left)))
    missing = [
        c.title
        for c in courses
        if (not c.mandatory_for or c.mandatory_for & profile.roles)
        and _expired(c, profile.completions.get(c.course_code), on)
    ]
    if missing:
        reasons.append(Reason("NOT_TRAINED", MESSAGES["NOT_TRAINED"].format(detail=", ".join(missing))))
    vetted = any(vetting_meets(level, system.vetting_level) for level in levels_in_force(profile.vetting, on))
    if not vetted:
        reasons.append(Reason("NOT_VETTED", MESSAGES["NOT_VETTED"].format(detail=system.vetting_level)))
    matches = [d for d in profile.declarations if d.matches(subjects)]
    if matches:
        what = "; ".join(
            f"{_words(d.kind)} ({_words(d.relationship or 'other')}), {d.declaration_id}" for d in matches
        )
        reasons.append(Reason("DECLARED_CONFLICT", MESSAGES["DECLARED_CONFLICT"].format(detail=what)))
    if is_themself(profile, subjects, subject_staff_id):
        reasons.append(Reason("SELF", MESSAGES["SELF"]))
    if system.purpose_required and not purpose and not case_ref:
        reasons.append(Reason("NO_PURPOSE", MESSAGES["NO_PURPOSE"]))
    decisions = {DECISION_OF[r.code] for r in reasons}
    decision = DENY if DENY in decisions else REFER if REFER in decisions else ALLOW
    return GateDecision(decision, tuple(reasons), declaration_ids=tuple(d.declaration_id for d in matches))


def is_themself(profile: StaffProfile, subjects: Sequence[PersonKey], subject_staff_id: str | None) -> bool:
    """The subject is this member of staff: flagged as them (`staff:` on the nominal), or one of the
    subject's keys has their name (variants and initials tolerated, `same_person`) with their date of
    birth or their home postcode. A name alone never is."""
    return subject_staff_id == profile.staff_id or any(same_person(profile.me, s) for s in subjects)


def _conflicted(profile: StaffProfile, subjects: Sequence[PersonKey], subject_staff_id: str | None) -> bool:
    """This member of staff may not search this subject for someone else: it is them, or they declared
    a conflict with them."""
    return is_themself(profile, subjects, subject_staff_id) or any(
        d.matches(subjects) for d in profile.declarations
    )


def subject_keys(
    index: GateIndex, session: Session, subject: SubjectRef
) -> tuple[tuple[PersonKey, ...], str | None]:
    """The subject as matched (`service.keys_of`, the register read through the index's cache), and the
    staff id its nominal is flagged with."""
    facts = index.nominal(session, subject.subject_id) if subject.subject_id else None
    keys = keys_of(subject, facts.person if facts else None)
    return tuple(keys), facts.staff_id if facts else None


def decide(
    session: Session,
    index: GateIndex,
    request: GateRequest,
    actor: str,
    on: date | None = None,
    *,
    synced: bool = False,
) -> GateDecision:
    """Sync the index, decide, open a referral for a refer, and record the decision in the ledger
    (`consultation` for allow and refer, `access_denied` for deny). Unknown staff: RequestRefused (the
    refusal is recorded by `record_refusal`, which the caller runs in a transaction that commits).
    `synced`: the caller has just synced the index in this transaction (the writer does, once a batch)."""
    if not synced:
        index.sync(session)
    profile = index.profile(session, request.staff_id)
    if not profile.known:
        raise RequestRefused([("staff_id", f"{request.staff_id} is not in the staff register")])
    subjects, subject_staff = subject_keys(index, session, request.subject)
    result = evaluate(
        profile,
        index.course_rules(session),
        SYSTEMS[request.system],
        subjects,
        subject_staff,
        request.purpose,
        request.case_ref,
        on or london_today(),
    )
    referral_id = None
    if result.decision == REFER:
        manager = referral_manager(session, index, profile, subjects, subject_staff)
        referral_id = open_referral(session, request, manager, result, actor)
        result = GateDecision(result.decision, result.reasons, referral_id, result.declaration_ids)
    ledger.record(session, _decision_entry(request, result, actor))
    return result


def _subject_detail(subject: SubjectRef) -> dict[str, Any]:
    named = {
        "surname": subject.surname,
        "forenames": subject.forenames,
        "date_of_birth": subject.date_of_birth.isoformat() if subject.date_of_birth else None,
        "postcode": subject.postcode,
    }
    return {k: v for k, v in named.items() if v is not None}


def _decision_entry(request: GateRequest, result: GateDecision, actor: str) -> EntryDraft:
    detail: dict[str, Any] = {
        "staff_id": request.staff_id,
        "system": request.system,
        "decision": result.decision,
        "codes": [r.code for r in result.reasons],
    }
    for key, value in (
        ("purpose", request.purpose),
        ("case_ref", request.case_ref),
        ("referral_id", result.referral_id),
    ):
        if value is not None:
            detail[key] = value
    if result.declaration_ids:
        detail["declarations"] = list(result.declaration_ids)
    named = _subject_detail(request.subject)
    if named:
        detail["subject"] = named
    subjects = (
        (request.staff_id, request.subject.subject_id) if request.subject.subject_id else (request.staff_id,)
    )
    denied = result.decision == DENY
    return EntryDraft(
        actor=actor,
        op=Op.ACCESS_DENIED if denied else Op.CONSULTATION,
        object_type="access_check",
        object_id=request.subject.subject_id,
        subjects=subjects,
        justification=None if denied else (request.purpose or request.case_ref or "pre-access check"),
        detail=detail,
    )


def record_refusal(
    session: Session, actor: str, problems: list[tuple[str, str]], data: object = None
) -> None:
    """A request the gate refused to decide is itself recorded (`access_denied`)."""
    staff_id = data.get("staff_id") if isinstance(data, Mapping) else None
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.ACCESS_DENIED,
            object_type="access_check",
            object_id=None,
            subjects=(staff_id,) if isinstance(staff_id, str) and _ID.fullmatch(staff_id) else (),
            detail={"refused": [f"{f}: {p}" for f, p in problems]},
        ),
    )


def check(
    session: Session,
    index: GateIndex,
    data: object,
    actor: str,
    on: date | None = None,
    *,
    synced: bool = False,
) -> GateDecision | RequestRefused:
    """Parse and decide one request body; a refusal is recorded and returned, not raised."""
    try:
        request = data if isinstance(data, GateRequest) else parse_request(data)
        return decide(session, index, request, actor, on, synced=synced)
    except RequestRefused as refused:
        body = {"staff_id": data.staff_id} if isinstance(data, GateRequest) else data
        record_refusal(session, actor, refused.problems, body)
        return refused


# --------------------------------------------------------------------------- referrals


class ReferralStatus:
    OPEN = "open"
    CLOSED = "closed"


OUTCOMES = {
    "searched_for_requester": "Searched on the requester's behalf and acted on it",
    "searched_nothing_found": "Searched on the requester's behalf: nothing relevant found",
    "no_search_needed": "No search needed",
    "reallocated": "Work reallocated to someone without the conflict",
}


def referral_manager(
    session: Session,
    index: GateIndex,
    profile: StaffProfile,
    subjects: Sequence[PersonKey],
    subject_staff_id: str | None,
) -> str | None:
    """Who handles the requester's referral: their line manager, unless the manager cannot take referrals
    (left, disabled, without the role) or is conflicted with the subject (seed 002); None, any handler but
    the requester. Whether they can take referrals is asked first: it needs no profile."""
    manager = profile.line_manager_id
    if manager is None or not _handles_referrals(session, manager):
        return None
    if _conflicted(index.profile(session, manager), subjects, subject_staff_id):
        return None
    return manager


def open_referral(
    session: Session, request: GateRequest, manager: str | None, result: GateDecision, actor: str
) -> int:
    """`manager`: as `referral_manager` chose; None leaves the referral to any handler but the requester."""
    subject = request.subject
    name = " ".join(p for p in (subject.forenames, subject.surname) if p) or None
    row = Referral(
        staff_id=request.staff_id,
        manager_id=manager,
        system=request.system,
        subject_id=subject.subject_id,
        subject_name=name,
        subject_surname=subject.surname,
        subject_forenames=subject.forenames,
        subject_date_of_birth=subject.date_of_birth,
        subject_postcode=subject.postcode,
        purpose=request.purpose,
        case_ref=request.case_ref,
        codes=";".join(sorted(r.code for r in result.reasons)),
        declaration_ids=";".join(result.declaration_ids),
        status=ReferralStatus.OPEN,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    subjects = tuple(s for s in (request.staff_id, manager, subject.subject_id) if s)
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.COLLECTION,
            object_type="referral",
            object_id=str(row.id),
            subjects=subjects,
            detail={
                "staff_id": request.staff_id,
                "manager_id": manager,
                "system": request.system,
                "codes": row.codes.split(";"),
            },
        ),
    )
    return row.id


class ReferralError(ValueError):
    """A referral action that is not allowed (not yours to handle, already closed, details missing).
    `problems`: (field, problem) pairs when details are missing, for a form to show beside its fields."""

    def __init__(self, message: str, problems: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


def _referral_view(row: Referral, names: Mapping[str, str]) -> ReferralView:
    return ReferralView(
        id=row.id,
        staff_id=row.staff_id,
        staff_name=names.get(row.staff_id),
        manager_id=row.manager_id,
        system=row.system,
        subject_id=row.subject_id,
        subject_name=row.subject_name,
        subject_date_of_birth=row.subject_date_of_birth,
        subject_postcode=row.subject_postcode,
        purpose=row.purpose,
        case_ref=row.case_ref,
        codes=tuple(_split(row.codes)),
        declaration_ids=tuple(i for i in row.declaration_ids.split(";") if i),
        status=row.status,
        created_at=row.created_at,
        outcome=row.outcome,
        search_done=row.search_done,
        interaction=row.interaction,
        advice=row.advice,
        closed_by=row.closed_by,
        closed_at=row.closed_at,
    )


def _names(session: Session, staff_ids: Iterable[str]) -> dict[str, str]:
    wanted = {s for s in staff_ids if s}
    if not wanted:
        return {}
    query = select(Staff.staff_id, Staff.forenames, Staff.surname).where(Staff.staff_id.in_(wanted))
    return {sid: f"{forenames} {surname}" for sid, forenames, surname in session.execute(query)}


def _handlers(session: Session, staff_ids: Iterable[str]) -> set[str]:
    """Those of these people who may take referrals today: an account in service (not disabled, not past
    its last day) holding a role that handles them."""
    roles = identity.roles_by_staff(session, identity.usable_accounts(session, staff_ids))
    handle = Permission.REFERRALS_HANDLE
    return {sid for sid, held in roles.items() if handle in permissions_for(identity.parse_roles(held))}


def _handles_referrals(session: Session, staff_id: str) -> bool:
    return staff_id in _handlers(session, [staff_id])


class _HandlerCheck:
    """Which referrals one handler may deal with. A referral is its manager's while the manager keeps it:
    they can still take referrals (not left, not disabled, with the role), are still the requester's line
    manager, and are not conflicted with the subject (the search is not about them and they have not
    declared a conflict with the person since). Otherwise — no manager at the time, one passed over as
    conflicted, or one who no longer keeps it — it is stranded, and any handler may deal with it but the
    requester, the person searched for and anyone who declared a conflict with them, as a manager is passed
    over in `decide`: the subject as the referral holds it (its id, the register's details for the id, and
    the name, date of birth and postcode given) matched against the handler's name, date of birth, home
    postcode and declarations (`_conflicted`). For a list, each person's profile is loaded once and each
    manager, requester and subject checked once."""

    def __init__(self, session: Session, handler_id: str, managers: Mapping[str, bool] | None = None) -> None:
        """`managers`: whether each manager can take referrals, where the caller already knows."""
        self.session, self.handler_id = session, handler_id
        self._profiles: dict[str, StaffProfile] = {}
        self._managers: dict[str, bool] = dict(managers or {})
        self._line_managers: dict[str, str | None] = {}
        self._subjects: dict[tuple[Any, ...], tuple[tuple[PersonKey, ...], str | None]] = {}
        self._conflicts: dict[tuple[str, tuple[Any, ...]], bool] = {}

    def may_handle(self, row: Referral) -> bool:
        if row.staff_id == self.handler_id:
            return False
        subject = self._subject_of(row)
        if row.manager_id is not None and self.manager_keeps(row, subject):
            return row.manager_id == self.handler_id
        return not self._conflicted(self.handler_id, subject)

    def manager_keeps(self, row: Referral, subject: tuple[Any, ...] | None = None) -> bool:
        """The referral's manager still handles it (see the class docstring)."""
        manager = row.manager_id
        if manager is None or not self._manager_present(manager):
            return False
        if self._line_manager(row.staff_id) != manager:
            return False
        return not self._conflicted(manager, subject or self._subject_of(row))

    def _manager_present(self, manager_id: str) -> bool:
        if manager_id not in self._managers:
            self._managers[manager_id] = _handles_referrals(self.session, manager_id)
        return self._managers[manager_id]

    def _line_manager(self, staff_id: str) -> str | None:
        if staff_id not in self._line_managers:
            self._line_managers[staff_id] = self.session.scalar(
                select(Staff.line_manager_id).where(Staff.staff_id == staff_id)
            )
        return self._line_managers[staff_id]

    @staticmethod
    def _subject_of(row: Referral) -> tuple[Any, ...]:
        surname, forenames = _subject_name_parts(row)
        return (row.subject_id, surname, forenames, row.subject_date_of_birth, row.subject_postcode)

    def _conflicted(self, staff_id: str, subject: tuple[Any, ...]) -> bool:
        if (staff_id, subject) not in self._conflicts:
            if staff_id not in self._profiles:
                self._profiles[staff_id] = _load_profiles(self.session, [staff_id])[staff_id]
            if subject not in self._subjects:  # as `decide` matches it
                self._subjects[subject] = subject_keys(GateIndex(), self.session, SubjectRef(*subject))
            keys, flagged = self._subjects[subject]
            self._conflicts[(staff_id, subject)] = _conflicted(self._profiles[staff_id], keys, flagged)
        return self._conflicts[(staff_id, subject)]


def _subject_name_parts(row: Referral) -> tuple[str | None, str | None]:
    """(surname, forenames) as given; for referrals made before they were kept apart, read from the name
    shown, whose last word is taken as the surname (a best effort for those few)."""
    if row.subject_surname or row.subject_forenames or not row.subject_name:
        return row.subject_surname, row.subject_forenames
    *forenames, surname = row.subject_name.split()
    return surname, " ".join(forenames) or None


def _may_handle(session: Session, row: Referral, handler_id: str) -> bool:
    return _HandlerCheck(session, handler_id).may_handle(row)


_CLOSED_SHOWN = 50


def _queue_check(session: Session, handler_id: str) -> tuple[_HandlerCheck, set[str]]:
    """The check of who may handle what, for this handler's queue, and the managers who cannot take
    referrals (their referrals go to any handler)."""
    managers = set(
        session.scalars(
            select(Referral.manager_id)
            .where(Referral.manager_id.is_not(None), Referral.manager_id != handler_id)
            .distinct()
        )
    )
    present = _handlers(session, (m for m in managers if m))
    stranded = {m for m in managers if m} - present
    return _HandlerCheck(session, handler_id, {m: m in present for m in managers if m}), stranded


def _open_for(session: Session, handler_id: str, check: _HandlerCheck) -> list[Referral]:
    opened = (
        select(Referral)
        .where(Referral.status == ReferralStatus.OPEN, Referral.staff_id != handler_id)
        .order_by(Referral.created_at, Referral.id)
    )
    return [row for row in session.scalars(opened) if check.may_handle(row)]


def open_referral_count(session: Session, handler_id: str) -> int:
    """How many open referrals `referral_queue` would list for this handler, for their home page: a count
    only, so nothing is logged."""
    check, _stranded = _queue_check(session, handler_id)
    return len(_open_for(session, handler_id, check))


def referral_queue(session: Session, handler_id: str) -> tuple[list[ReferralView], list[ReferralView]]:
    """(open, the 50 most recently closed) referrals this handler may deal with, oldest open first. The
    lists show who asked, why (a declared conflict, or themself), for what purpose and when: personal data
    about the requesters and the people they searched for, so each view that shows any is a consultation,
    one entry listing the requesters and the subject ids of the referrals shown. The subject's details are
    shown, and logged again, only when a referral is opened (`view_referral`)."""
    check, stranded = _queue_check(session, handler_id)
    requester = select(Staff.line_manager_id).where(Staff.staff_id == Referral.staff_id).scalar_subquery()
    # Open referrals: every one not the handler's own request is checked, since another manager may have
    # declared a conflict with the subject since (few are open at a time). Closed ones, of which there are
    # many: the handler's, those they closed, those without a manager, and those whose manager cannot take
    # referrals or is no longer the requester's line manager (one closed by its manager, who declared a
    # conflict later, is not listed to the others: it can still be opened by its number).
    open_rows = _open_for(session, handler_id, check)
    closed_rows: list[Referral] = []
    latest = select(Referral).where(
        or_(
            Referral.manager_id == handler_id,
            Referral.closed_by == handler_id,
            Referral.manager_id.is_(None),
            Referral.manager_id.in_(sorted(stranded)),
            requester.is_(None),
            requester != Referral.manager_id,
        ),
        Referral.staff_id != handler_id,
        Referral.status != ReferralStatus.OPEN,
    )
    latest = latest.order_by(Referral.created_at.desc(), Referral.id.desc()).execution_options(yield_per=200)
    newest_first = session.scalars(latest)
    try:
        for row in newest_first:
            if len(closed_rows) == _CLOSED_SHOWN:
                break
            if check.may_handle(row):
                closed_rows.append(row)
    finally:
        newest_first.close()
    names = _names(session, (r.staff_id for r in open_rows + closed_rows))
    open_ = [_referral_view(r, names) for r in open_rows]
    closed = [_referral_view(r, names) for r in closed_rows]
    shown = open_ + closed
    if shown:
        ledger.record_consultation(
            session,
            actor=f"staff:{handler_id}",
            object_type="referral_queue",
            object_id=handler_id,
            subjects=tuple(sorted({s for r in shown for s in (r.staff_id, r.subject_id) if s})),
            justification="referrals for me to handle (pre-access gate)",
            detail={"referrals": [r.id for r in shown]},
        )
    return open_, closed


def view_referral(session: Session, referral_id: int, handler_id: str) -> ReferralView:
    """One referral for its handler. Showing the subject's details is a consultation: logged."""
    row = session.get(Referral, referral_id)
    if row is None or not _may_handle(session, row, handler_id):
        raise ReferralError("There is no such referral for you to handle.")
    ledger.record_consultation(
        session,
        actor=f"staff:{handler_id}",
        object_type="referral",
        object_id=str(row.id),
        subjects=tuple(s for s in (row.staff_id, row.subject_id) if s),
        justification=f"handling referral {row.id} (pre-access gate)",
    )
    return _referral_view(row, _names(session, [row.staff_id]))


def referrals_citing(session: Session, declaration_id: str, handler_id: str) -> list[ReferralLink]:
    """The referrals the gate opened because of this declaration that this handler may deal with, newest
    first: the declaration's page links them, so a line manager deciding it sees the searches it stopped.
    Only ids, states and times: nothing about the person searched for is shown, so nothing is consulted."""
    rows = session.scalars(
        select(Referral)
        .where(Referral.declaration_ids.contains(declaration_id, autoescape=True))
        .order_by(Referral.id.desc())
    )
    check = _HandlerCheck(session, handler_id)
    return [
        ReferralLink(row.id, row.status, row.created_at)
        for row in rows
        if declaration_id in row.declaration_ids.split(";") and check.may_handle(row)
    ]


def close_referral(
    session: Session,
    referral_id: int,
    handler_id: str,
    *,
    outcome: str,
    search_done: str,
    interaction: str,
    advice: str,
) -> None:
    """The handler records the search done on the requester's behalf, the interaction and the advice given
    (seed 002, 2.2.11–2.2.12), and closes the referral. Recorded in the ledger. The row is locked first
    (PostgreSQL; SQLite's write lock does the same), so two handlers cannot both close it."""
    row = session.get(Referral, referral_id, with_for_update=True)
    if row is None or not _may_handle(session, row, handler_id):
        raise ReferralError("There is no such referral for you to handle.")
    if row.status != ReferralStatus.OPEN:
        raise ReferralError("This referral is already closed.")
    problems: list[tuple[str, str]] = []
    if outcome not in OUTCOMES:
        problems.append(("outcome", "choose an outcome"))
    texts = {"search done": search_done, "interaction": interaction, "advice": advice}
    fields = {"search done": "search_done", "interaction": "interaction", "advice": "advice"}
    cleaned = {name: (value or "").strip() for name, value in texts.items()}
    problems += [(fields[name], f"record the {name}") for name, value in cleaned.items() if not value]
    problems += [
        (fields[name], f"the {name} is longer than 4,000 characters")
        for name, v in cleaned.items()
        if len(v) > 4000
    ]
    if problems:
        raise ReferralError("Please " + "; ".join(p for _f, p in problems) + ".", problems)
    row.outcome = outcome
    row.search_done, row.interaction, row.advice = (
        cleaned["search done"],
        cleaned["interaction"],
        cleaned["advice"],
    )
    row.status, row.closed_by, row.closed_at = ReferralStatus.CLOSED, handler_id, utcnow()
    ledger.record(
        session,
        EntryDraft(
            actor=f"staff:{handler_id}",
            op=Op.ALTERATION,
            object_type="referral",
            object_id=str(row.id),
            subjects=tuple(s for s in (row.staff_id, row.subject_id) if s),
            detail={"status": "closed", "outcome": outcome},
        ),
    )


def my_referrals(session: Session, staff_id: str) -> list[ReferralView]:
    """The requester's own referrals, newest first: outcome and advice, never the search results."""
    query = select(Referral).where(Referral.staff_id == staff_id).order_by(Referral.id.desc())
    rows = list(session.scalars(query))
    names = _names(session, [staff_id])
    views = []
    for row in rows:
        view = _referral_view(row, names)
        views.append(replace(view, search_done=None, interaction=None))
    return views


def my_referral_counts(session: Session, staff_id: str, days: int = 30) -> tuple[int, int]:
    """(open, closed in the last `days`) of one's own referrals, for one's home page: counts only, so
    nothing is logged; the closed ones carry the line manager's advice."""
    since = utcnow() - timedelta(days=days)
    mine = select(func.count()).where(Referral.staff_id == staff_id)
    still_open = session.scalar(mine.where(Referral.status == ReferralStatus.OPEN)) or 0
    closed = (
        session.scalar(mine.where(Referral.status == ReferralStatus.CLOSED, Referral.closed_at >= since)) or 0
    )
    return still_open, closed


# --------------------------------------------------------------------------- group commit


_Outcome = tuple[bool, Any]  # (True, result) or (False, exception)


@dataclass(slots=True)
class _Job:
    run: Callable[[Session], Any]
    subject_id: str | None = None  # looked up with the batch's others before the jobs run
    future: Future[Any] | None = None  # for a thread that waits (`submit`)
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[Any]] | None = None  # for a coroutine


def _settle(items: list[tuple[asyncio.Future[Any], _Outcome]]) -> None:
    """In the event loop: hand each coroutine its outcome (one wake-up of the loop for a whole batch)."""
    for waiter, (ok, value) in items:
        if waiter.done():  # the request was cancelled (client gone): the decision stands, unanswered
            continue
        if ok:
            waiter.set_result(value)
        else:
            waiter.set_exception(value)


class DecisionWriter:
    """One thread that commits the decisions of many requests together (see the module docstring).

    `submit` blocks until the job's transaction has committed and returns its result (or raises its
    exception); `decide_async` is the same for a coroutine. A job that raises does not stop the others; if
    the shared commit fails, each job is retried in a transaction of its own so that one bad job cannot
    sink the rest.
    """

    def __init__(
        self, factory: sessionmaker[Session], max_batch: int = 256, idle_seconds: float = 30
    ) -> None:
        self.factory = factory
        self.index = GateIndex()
        self.max_batch = max_batch
        self.idle_seconds = idle_seconds
        self._queue: list[_Job] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self.batches = 0
        self.jobs = 0

    def submit(self, run: Callable[[Session], Any], timeout: float = 30) -> Any:
        future: Future[Any] = Future()
        self._enqueue(_Job(run, future=future))
        return future.result(timeout)

    def decide_async(
        self, run: Callable[[Session], Any], subject_id: str | None = None
    ) -> asyncio.Future[Any]:
        """Queue a job from the event loop; the future completes once its transaction has committed. Jobs
        run after the index has been synced in their transaction (pass `synced=True` to `check`)."""
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._enqueue(_Job(run, subject_id, waiter=(loop, waiter)))
        return waiter

    def _enqueue(self, job: _Job) -> None:
        with self._wake:
            self._queue.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="gate-writer", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._queue:
                    self._wake.wait(self.idle_seconds)
                if not self._queue:
                    self._thread = None
                    return
                batch, self._queue = self._queue[: self.max_batch], self._queue[self.max_batch :]
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        outcomes: list[_Outcome] = []
        try:
            with transaction(self.factory) as session:
                self.index.sync(session)
                self.index.prefetch_nominals(session, [j.subject_id for j in batch if j.subject_id])
                for job in batch:
                    outcomes.append(self._run(session, job))
        except Exception as error:
            if len(batch) == 1:
                self._finish(batch, [(False, error)])
                return
            self.index.clear()  # what it loaded inside the failed transaction may not have been there
            for job in batch:
                self._commit([job])
            return
        self.batches += 1
        self.jobs += len(batch)
        self._finish(batch, outcomes)

    @staticmethod
    def _finish(batch: list[_Job], outcomes: list[_Outcome]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], _Outcome]]] = {}
        for job, (ok, value) in zip(batch, outcomes, strict=True):
            if job.waiter is not None:
                by_loop.setdefault(job.waiter[0], []).append((job.waiter[1], (ok, value)))
            elif job.future is not None and ok:
                job.future.set_result(value)
            elif job.future is not None:
                job.future.set_exception(value)
        for loop, items in by_loop.items():
            if not loop.is_closed():
                loop.call_soon_threadsafe(_settle, items)

    def _run(self, session: Session, job: _Job) -> _Outcome:
        try:
            return True, job.run(session)
        except Exception as error:  # handed back to the request that submitted it
            return False, error
