"""Synthetic nominals (people the force holds records about) for `custodes demo` — deterministic per seed."""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.kit.db import utcnow
from custodes.kit.tabular import SourceRow
from custodes.kit.timefmt import london_day
from custodes.monitoring import casework, service
from custodes.monitoring.alerts import WEIGHTS
from custodes.monitoring.models import Alert
from custodes.monitoring.schemas import EVENT_COLUMNS, STAFF_FLAG_PREFIX, Rule
from custodes.monitoring.service import IngestSummary, RunSummary
from custodes.settings import Settings
from custodes.workforce.demo import AREAS, FORENAMES, SURNAMES

if TYPE_CHECKING:
    from custodes.monitoring.generator import SyntheticForce

STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "London Road",
    "Mill Road",
    "Acacia Avenue",
    "Victoria Road",
    "Park Crescent",
    "Queens Road",
    "The Green",
    "Orchard Way",
    "Hythe Road",
)
TOWNS = {"NA": "Chatham", "EA": "Canterbury", "WE": "Maidstone", "CZ": "Ashford"}  # each division's main town
# The post town of each postcode district the demo's divisions use (workforce.demo.AREAS): an address's town
# is its postcode's, so "Ashford (ME10)" never appears (ME10 is Sittingbourne).
POST_TOWNS = {
    **dict.fromkeys(("ME1", "ME2"), "Rochester"),
    **dict.fromkeys(("ME4", "ME5"), "Chatham"),
    **dict.fromkeys(("ME7", "ME8"), "Gillingham"),
    "DA1": "Dartford",
    **dict.fromkeys(("DA11", "DA12"), "Gravesend"),
    **dict.fromkeys(("CT1", "CT2", "CT3"), "Canterbury"),
    "CT6": "Herne Bay",
    "CT9": "Margate",
    "CT10": "Broadstairs",
    "CT11": "Ramsgate",
    "CT16": "Dover",
    **dict.fromkeys(("CT19", "CT20"), "Folkestone"),
    **dict.fromkeys(("TN1", "TN2", "TN4"), "Tunbridge Wells"),
    **dict.fromkeys(("TN9", "TN10"), "Tonbridge"),
    "TN13": "Sevenoaks",
    **dict.fromkeys(("ME14", "ME15", "ME16"), "Maidstone"),
    "ME10": "Sittingbourne",
    "ME12": "Sheerness",
    "ME13": "Faversham",
    **dict.fromkeys(("TN23", "TN24", "TN25"), "Ashford"),
}


def post_town(postcode: str, area_code: str) -> str:
    """The town of an address at this postcode: its district's post town (the division's main town for a
    district not listed)."""
    return POST_TOWNS.get(postcode.split(" ", 1)[0].upper(), TOWNS.get(area_code, area_code))


def nominal_rows(seed: int, count: int = 400) -> list[dict[str, str]]:
    """N20001 … : name, date of birth, postcode, address; a few protected (witnesses, refuge addresses)."""
    rnd = random.Random(seed + 2)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    rows = []
    for number in range(count):
        area = AREAS[number % len(AREAS)]
        postcode = (
            f"{rnd.choice(area.postcodes)} {rnd.randint(1, 9)}{rnd.choice(letters)}{rnd.choice(letters)}"
        )
        born = date(1950, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 55))
        rows.append(
            {
                "subject_id": f"N{20001 + number}",
                "surname": rnd.choice(SURNAMES),
                "forenames": rnd.choice(FORENAMES),
                "date_of_birth": str(born),
                "postcode": postcode,
                "lat": f"{area.lat + rnd.uniform(-0.1, 0.1):.5f}",
                "lon": f"{area.lon + rnd.uniform(-0.15, 0.15):.5f}",
                "flags": "protected" if number % 97 == 13 else "",
                "address": f"{rnd.randint(1, 180)} {rnd.choice(STREETS)}, {post_town(postcode, area.code)}",
            }
        )
    return rows


# --------------------------------------------------------------------------- access logs with misuse

DEMO_EVENTS = 250_000  # a month of a mid-sized force's searches: ingested and analysed in seconds
# The cases, nominals and rosters behind the events grow with the days (about 200,000 rows for 30 days of
# 3,000 staff, 340,000 for 60) and their imports take most of the demo's time: 30 days keeps `custodes
# demo` near a minute (60 days: two) and still shows every rule, repeated interest included.
DEMO_DAYS = 30
FIRST_NUMBER = 500_000  # generated nominals, cases, declarations and events start here: no clash


def access_force(seed: int, staff_rows: Sequence[SourceRow], events: int = DEMO_EVENTS) -> SyntheticForce:
    """The demo's access logs and the registers that explain them, around the demo's own staff: the
    generator's force over the `DEMO_DAYS` days before today, with labelled misuse of every rule but
    UNEXPLAINED (which comes with most of them)."""
    from custodes.monitoring.generator import ForceSpec, generate  # generator imports this module

    spec = ForceSpec(
        seed=seed, start_number=FIRST_NUMBER, days=DEMO_DAYS, events=events, end=london_day(utcnow())
    )
    return generate(spec, [row.values for row in staff_rows])


def involved_staff(force: SyntheticForce) -> set[str]:
    """Staff who misuse the systems in the force, or who are themselves on them (`staff:` nominals): a log-in
    that must see the whole alert queue is none of them (nobody sees alerts about themselves)."""
    flagged = {
        flag.removeprefix(STAFF_FLAG_PREFIX)
        for row in force.nominals
        for flag in row["flags"].split(";")
        if flag.startswith(STAFF_FLAG_PREFIX)
    }
    return flagged | {incident.staff_id for incident in force.incidents}


def load_registers(session: Session, force: SyntheticForce, actor: str) -> None:
    """Nominals, cases, rosters and declarations, through the import services (staff are already stored)."""
    for kind, rows in (
        ("nominals", force.nominals),
        ("cases", force.cases),
        ("rosters", force.rosters),
        ("declarations", force.declarations),
    ):
        load_records(session, kind, rows, actor)
    session.flush()


def ingest_events(session: Session, settings: Settings, force: SyntheticForce, actor: str) -> IngestSummary:
    """Write the force's events as Parquet in a scratch folder under the home, and ingest them as
    `custodes monitor ingest` would. The event files are published when the session commits."""
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="demo-events-", dir=settings.home) as scratch:
        paths = force.write_events(Path(scratch), "parquet")
        return service.ingest_files(session, settings, paths, actor)


def ingest_a_faulty_log(
    session: Session, settings: Settings, force: SyntheticForce, actor: str
) -> IngestSummary:
    """A late export from one system with what real logs have: a row sent again (a duplicate, ignored) and
    malformed rows (quarantined, named by line), so the ingest screen has something to show. Run it after
    the main ingest has committed: duplicates are found among the published events."""
    first = next(force.event_tables()).slice(0, 4).to_pylist()
    rows = [{key: "" if value is None else str(value) for key, value in row.items()} for row in first]
    for row, original in zip(rows, first, strict=True):
        row["occurred_at"] = original["occurred_at"].isoformat()
    rows[1] |= {"event_id": rows[1]["event_id"] + "-R", "occurred_at": rows[1]["occurred_at"][:19]}
    rows[2] |= {"event_id": rows[2]["event_id"] + "-R", "action": "delete"}
    rows[3] |= {"event_id": rows[3]["event_id"] + "-R", "staff_id": ""}
    settings.home.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="demo-events-", dir=settings.home) as scratch:
        path = Path(scratch) / "storm-late-export.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=EVENT_COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return service.ingest_files(session, settings, [path], actor)


# The unit's casework in the demo, chosen by the most serious rule of an alert (the first rule found).
# Dismissed: (rule, reason).
_DISMISS = (
    (
        "OFF_DUTY",
        "Overtime: held on after the shift to finish a prisoner handover at custody; the overtime "
        "claim matches the times. Roster not updated. No further action.",
    ),
    (
        "PUBLIC_FIGURE",
        "The councillor reported criminal damage at the constituency office and this member of staff "
        "took the report; the incident log was not linked to a case. No further action.",
    ),
    (
        "CASE_MISMATCH",
        "Typing error in the case reference, confirmed with their sergeant against the crime report. "
        "No further action.",
    ),
)
# Investigation left open: (rule, title, note).
_OPEN = (
    (
        "DECLARED_CONFLICT",
        "Searches on someone they declared a conflict of interest with",
        "Checked the declaration on the workforce register: they declared this person, and no case "
        "of theirs or their team's involves them. Asked ICT for the full audit trail (prints and "
        "exports) and the duty sergeant for the rosters of the days of access. Do not approach the "
        "member of staff until the audit trail is back.",
    ),
    (
        "SELF",
        "Looked up their own record",
        "They looked up their own record. Asked ICT for the audit trail and whether anything was "
        "changed or printed. Line manager not told yet.",
    ),
    (
        "RELATIVE_OR_HOUSEHOLD",
        "Searches on a relative",
        "Same surname, living at or next to their address. Asked ICT for the audit trail.",
    ),
)
# Investigation closed: (rule, title, note, outcome, reason for the outcome).
_CLOSE = (
    (
        "NEIGHBOUR",
        "Searches on a neighbour during a dispute",
        "Interviewed with their Federation representative: they looked up the neighbour during a "
        "dispute over parking. The audit trail shows views only, no print or export; nothing was "
        "passed on.",
        "management_advice",
        "Looked up a neighbour out of curiosity during a dispute; nothing disclosed. Reflective "
        "practice with the line manager; data protection training booked.",
    ),
    (
        "REPEATED_INTEREST",
        "Repeated searches on an acquaintance",
        "Interviewed: the person is an acquaintance from outside work. Views only, nothing disclosed.",
        "management_advice",
        "Repeated look-ups of an acquaintance with no policing purpose; nothing disclosed. Advice "
        "given and recorded; the association has now been declared.",
    ),
)


def _headline(alert: Alert) -> str:
    """The alert's most serious rule."""
    return max(alert.rules.split(";"), key=lambda code: WEIGHTS.get(Rule(code), 0))


def _choose(alerts: Sequence[Alert], rules: Sequence[str], taken: set[str]) -> tuple[Alert, int] | None:
    """The highest-scoring alert whose most serious rule is the first of `rules` found, about staff not
    used yet; with the index of that rule."""
    for index, rule in enumerate(rules):
        for alert in alerts:
            if alert.staff_id not in taken and _headline(alert) == rule:
                taken.add(alert.staff_id)
                return alert, index
    return None


_OPEN_REASON = "The pattern needs explaining by the member of staff: opened to find out who and why."


def detect_and_triage(session: Session, settings: Settings, unit: Principal, actor: str) -> RunSummary:
    """Run the detectors over the published store (so the ingest must have committed: `run` reads the
    files in `events/`), then the casework of `unit`, a member of the counter-corruption unit: an alert
    dismissed with its reason, an investigation open with a note, and one closed with an outcome. None of
    them is about `unit` (nobody sees alerts about themselves)."""
    summary = service.run(session, settings, actor)
    hidden = casework.unseen(session, unit)
    alerts = [
        alert
        for alert in session.scalars(select(Alert).order_by(Alert.score.desc(), Alert.alert_id))
        if not hidden.hides(alert.staff_id, alert.subject_id)
    ]
    taken: set[str] = set()
    found = _choose(alerts, [rule for rule, _ in _DISMISS], taken)
    if found is not None:
        alert, index = found
        casework.dismiss_alert(session, alert.alert_id, unit, _DISMISS[index][1])
    found = _choose(alerts, [rule for rule, *_ in _OPEN], taken)
    if found is not None:
        alert, index = found
        _, title, note = _OPEN[index]
        investigation = casework.open_investigation(session, [alert.alert_id], unit, title, _OPEN_REASON)
        casework.add_note(session, investigation, unit, note)
    found = _choose(alerts, [rule for rule, *_ in _CLOSE], taken)
    if found is not None:
        alert, index = found
        _, title, note, outcome, reason = _CLOSE[index]
        investigation = casework.open_investigation(session, [alert.alert_id], unit, title, _OPEN_REASON)
        casework.add_note(session, investigation, unit, note)
        casework.close_investigation(session, investigation, unit, outcome, reason)
    session.flush()
    return summary
