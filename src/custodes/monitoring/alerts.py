"""From the detectors' findings to alerts: which accesses raise one, how they group, the score, and the
explanation in words. Pure functions of the findings (no database), so DuckDB and Spark findings give the same
alerts. docs/monitoring.md explains the choices.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from custodes.kit.timefmt import rfc3339
from custodes.monitoring.detectors import BAD_CITATIONS, RELATIVES, Thresholds
from custodes.monitoring.schemas import RELATIONSHIP_RULES, Rule

# How serious each rule is on its own (0–100). The alert takes the highest, plus a little for every further
# rule and for a pattern spread over several days.
WEIGHTS = {
    Rule.SELF: 90,
    Rule.DECLARED_CONFLICT: 85,
    Rule.RELATIVE_OR_HOUSEHOLD: 80,
    Rule.NEIGHBOUR: 65,
    Rule.REPEATED_INTEREST: 60,
    Rule.COLLEAGUE: 55,
    Rule.CASE_MISMATCH: 50,
    Rule.VOLUME_ANOMALY: 50,
    Rule.PUBLIC_FIGURE: 45,
    Rule.OFF_DUTY: 40,
    Rule.UNEXPLAINED: 30,
}
EXTRA_RULE_POINTS = 5
EXTRA_DAY_POINTS = 2
EXTRA_DAY_CAP = 10
# A relationship alert on accesses that a case explains: the conflict should have been declared and the work
# reassigned (seed 002), but the work itself was real, so the score is halved.
EXPLAINED_FACTOR = 0.5
DAY_US = 86_400_000_000

# Rules that raise an alert only when the access is also unexplained: a public figure looked up for a case,
# or a late finish on one's own case, is ordinary work.
ONLY_WHEN_UNEXPLAINED = frozenset({Rule.PUBLIC_FIGURE, Rule.OFF_DUTY})
ORDER = list(Rule)


@dataclass(frozen=True, slots=True)
class AlertEventDraft:
    event_id: str
    at_us: int
    system: str
    action: str
    case_ref: str | None
    batch_id: str
    rules: tuple[Rule, ...]
    explanation: str


@dataclass(frozen=True, slots=True)
class AlertDraft:
    alert_id: str
    staff_id: str
    subject_id: str | None
    rules: tuple[Rule, ...]
    score: int
    first_at: datetime
    last_at: datetime
    events: tuple[AlertEventDraft, ...]
    explanation: str

    def as_json(self) -> dict[str, Any]:
        """The `--alerts-out` line (monitoring.md)."""
        return {
            "alert_id": self.alert_id,
            "staff_id": self.staff_id,
            "subject_id": self.subject_id,
            "rules": [rule.value for rule in self.rules],
            "score": self.score,
            "first_at": rfc3339(self.first_at),
            "last_at": rfc3339(self.last_at),
            "event_ids": [event.event_id for event in self.events],
            "explanation": self.explanation,
        }


def moment(at_us: int) -> datetime:
    return datetime.fromtimestamp(at_us / 1_000_000, UTC)


# --------------------------------------------------------------------------- per access


def event_rules(row: Mapping[str, Any]) -> tuple[Rule, ...]:
    """Every rule an access meets, in the order of monitoring.md."""
    unexplained = row["subject_id"] is not None and row["explanation"] is None
    met = {
        Rule.SELF: row["is_self"],
        Rule.RELATIVE_OR_HOUSEHOLD: row["relative"],
        Rule.NEIGHBOUR: row["neighbour"],
        Rule.DECLARED_CONFLICT: row["declared"],
        Rule.COLLEAGUE: row["colleague"],
        Rule.PUBLIC_FIGURE: row["public_figure"],
        Rule.UNEXPLAINED: unexplained,
        Rule.CASE_MISMATCH: row["cited_state"] in BAD_CITATIONS,
        Rule.REPEATED_INTEREST: row["repeated"],
        Rule.OFF_DUTY: row["off_duty"],
    }
    return tuple(rule for rule in ORDER if met.get(rule))


def raises_alert(rules: Iterable[Rule]) -> bool:
    found = set(rules)
    if found & (RELATIONSHIP_RULES | {Rule.CASE_MISMATCH, Rule.REPEATED_INTEREST}):
        return True
    return Rule.UNEXPLAINED in found and bool(found & ONLY_WHEN_UNEXPLAINED)


_EXPLANATIONS = {
    "cited_case": "explained by case {by}, cited on the access",
    "assigned_case": "explained by case {by}, assigned to {staff}",
    "team_case": "explained by case {by} of {staff}'s team {team}",
    "referral": "explained by referral {by}: a search on a colleague's behalf",
    "no_person": "a search that returned no person",
}
_CITATIONS = {
    "missing": "cites case {case}, which does not exist",
    "not_involved": "cites case {case}, which does not involve {subject}",
    "not_theirs": "cites case {case}, which is neither {staff}'s nor their team's",
    "not_open": "cites case {case}, which was not open at the time",
}


# Where an explanation names a team: "of S1's team T14", "or team T14 involves", "and team T14's 4". Casework
# replaces it with a code on a pseudonymous alert; `name_teams` gives it its name everywhere else.
TEAM_MENTION = re.compile(r"\b(team )(\S+?)(?='s\b|[\s,;]|\.?$)")


def name_teams(text: str, names: Mapping[str, str]) -> str:
    """An explanation with each team the team register names as "Northtown Response Team B (T14)" instead
    of "team T14" (workforce.team_label); a team it does not name stays "team T14".

    Explanations are stored as the detectors wrote them, with the team id alone, and named when shown, not
    when stored: a team renamed (or named for the first time) after the run shows its current name on alerts
    already stored, and the stored text stays the one the run wrote. Never call this on an explanation whose
    member of staff is still pseudonymous to the reader: a team there is a code (casework._masker), and
    its name would give them away."""

    def named(found: re.Match[str]) -> str:
        team_id = found.group(2)
        return f"{names[team_id]} ({team_id})" if team_id in names else found.group(0)

    return TEAM_MENTION.sub(named, text) if names else text


def name_people(text: str, names: Mapping[str, str]) -> str:
    """An explanation with each staff number and record id in `names` as "Poppy Phillips (S10277)" instead
    of the bare id; an id already in brackets ("a colleague (S4)") stays as it is, beside a person already
    named. Named when shown, never stored, as `name_teams`; and, as there, only where the member of staff is
    known to the reader (revealed, or an investigation): never on a pseudonymous alert."""
    if not names:
        return text
    ids = sorted((re.escape(i) for i in names if i), key=len, reverse=True)
    pattern = re.compile(rf"(?<![\w-])({'|'.join(ids)})(?![\w-])")

    def named(found: re.Match[str]) -> str:
        start, end = found.start(), found.end()
        if text[start - 1 : start] == "(" and text[end : end + 1] == ")":
            return found.group(0)
        return f"{names[found.group(1)]} ({found.group(1)})"

    return pattern.sub(named, text)


def explain_access(row: Mapping[str, Any]) -> str:
    """One access's explanation, or why none was found, in words."""
    facts = {
        "by": row["explained_by"],
        "staff": row["staff_id"],
        "team": row.get("team_id") or "(none)",
        "subject": row["subject_id"],
        "case": row["case_ref"],
    }
    if row["explanation"]:
        return _EXPLANATIONS[row["explanation"]].format(**facts)
    team = f" or team {facts['team']}" if row.get("team_id") else ""
    text = f"no case assigned to {facts['staff']}{team} involves {facts['subject']} at that time"
    if row.get("cited_state") in _CITATIONS:
        text = _CITATIONS[row["cited_state"]].format(**facts) + "; " + text
    return text


# --------------------------------------------------------------------------- grouping


PATTERN, VOLUME = "pattern", "volume"  # the two kinds of alert; ids and triage never mix them


def kind_of(rules: Iterable[str]) -> str:
    return VOLUME if set(rules) == {Rule.VOLUME_ANOMALY} else PATTERN


def build(
    flagged: list[dict[str, Any]],
    volume: list[dict[str, Any]],
    limits: Thresholds,
    settled: Mapping[str, Collection[str]] | None = None,
) -> list[AlertDraft]:
    """Alerts from the findings: the raising accesses of each (staff, subject), split where more than
    `alert_gap_days` pass without one; and each member of staff's runs of high-volume days.

    `settled` holds, by kind, the accesses already in alerts that were dismissed or closed: those decisions
    stand, so such accesses raise nothing again, and newer ones about the same person form a new alert.
    An access stored twice (the same event_id) counts once."""
    settled = settled or {}
    by_pair: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = {}
    for row in flagged:
        rules = event_rules(row)
        if raises_alert(rules) and row["event_id"] not in settled.get(PATTERN, ()):
            pair = by_pair.setdefault((row["staff_id"], row["subject_id"]), {})
            pair.setdefault(row["event_id"], {**row, "rules": rules})
    alerts = [
        _pattern_alert(episode)
        for rows in by_pair.values()
        for episode in _episodes(list(rows.values()), limits.alert_gap_days)
    ]
    by_staff: dict[str, dict[str, dict[str, Any]]] = {}
    for row in volume:
        if row["event_id"] not in settled.get(VOLUME, ()):
            by_staff.setdefault(row["staff_id"], {}).setdefault(row["event_id"], row)
    alerts += [
        _volume_alert(episode)
        for rows in by_staff.values()
        for episode in _episodes(list(rows.values()), limits.alert_gap_days)
    ]
    return sorted(alerts, key=lambda alert: (-alert.score, alert.first_at, alert.alert_id))


def _episodes(rows: list[dict[str, Any]], gap_days: int) -> list[list[dict[str, Any]]]:
    rows = sorted(rows, key=lambda row: (row["at_us"], row["event_id"]))
    episodes: list[list[dict[str, Any]]] = []
    for row in rows:
        if episodes and row["at_us"] - episodes[-1][-1]["at_us"] <= gap_days * DAY_US:
            episodes[-1].append(row)
        else:
            episodes.append([row])
    return episodes


def _alert_id(kind: str, staff_id: str, subject_id: str | None, first_event: str) -> str:
    """Stable across runs for the same first access; the kind keeps a volume alert and a search that found
    nobody (both without a subject) apart."""
    digest = hashlib.sha256(f"{kind}|{staff_id}|{subject_id or ''}|{first_event}".encode()).hexdigest()
    return f"A{digest[:15].upper()}"


def score(rules: Iterable[Rule], days: int, explained: bool) -> int:
    found = set(rules)
    base = max(WEIGHTS[rule] for rule in found)
    points = base + EXTRA_RULE_POINTS * (len(found) - 1) + min(EXTRA_DAY_CAP, EXTRA_DAY_POINTS * (days - 1))
    if explained:
        points = round(points * EXPLAINED_FACTOR)
    return max(1, min(100, points))


def _event_draft(row: Mapping[str, Any], rules: tuple[Rule, ...], explanation: str) -> AlertEventDraft:
    return AlertEventDraft(
        event_id=row["event_id"],
        at_us=row["at_us"],
        system=row["system"],
        action=row["action"],
        case_ref=row.get("case_ref"),
        batch_id=row["batch_id"],
        rules=rules,
        explanation=explanation,
    )


def _pattern_alert(rows: list[dict[str, Any]]) -> AlertDraft:
    first, last = rows[0], rows[-1]
    found = {rule for row in rows for rule in row["rules"]}
    rules = tuple(rule for rule in ORDER if rule in found)
    explained = all(row["explanation"] not in (None, "no_person") for row in rows)
    days = len({row["day_num"] for row in rows})
    return AlertDraft(
        alert_id=_alert_id(PATTERN, first["staff_id"], first["subject_id"], first["event_id"]),
        staff_id=first["staff_id"],
        subject_id=first["subject_id"],
        rules=rules,
        score=score(rules, days, explained),
        first_at=moment(first["at_us"]),
        last_at=moment(last["at_us"]),
        events=tuple(_event_draft(row, row["rules"], explain_access(row)) for row in rows),
        explanation=_pattern_words(rows, rules, days, explained),
    )


def _span(rows: list[dict[str, Any]], days: int) -> str:
    times = {1: "once", 2: "twice"}.get(len(rows), f"{len(rows)} times")
    if days <= 1:
        return f"{times} on {moment(rows[0]['at_us']):%d %b %Y}"
    elapsed = (rows[-1]["at_us"] - rows[0]["at_us"]) // DAY_US + 1
    return f"{times} on {days} separate days over {elapsed} days"


def _pattern_words(rows: list[dict[str, Any]], rules: tuple[Rule, ...], days: int, explained: bool) -> str:
    row = rows[0]
    staff, subject = row["staff_id"], row["subject_id"]
    verb = "searched for" if all(r["action"] == "search" for r in rows) else "accessed"
    if subject is None:  # searches that found nobody: only a bad citation raises these
        facts = [_fact(rule, rows) for rule in rules]
        return f"{staff} ran a search that found nobody {_span(rows, days)}; " + "; ".join(facts) + "."
    parts = [f"{staff} {verb} {subject} {_span(rows, days)}"]
    if explained:
        cases = sorted({r["explained_by"] for r in rows if r["explained_by"]})
        each = "" if len(rows) == 1 else " each time"
        parts[0] += f",{each} explained by {_listed(cases)}"
    else:
        unexplained = sum(1 for r in rows if r["explanation"] is None)
        team = f" or team {row['team_id']}" if row.get("team_id") else ""
        share = "" if unexplained == len(rows) else f" ({unexplained} of them)"
        parts[0] += f" with no case assigned to {staff}{team} that involves {subject}{share}"
    facts = [_fact(rule, rows) for rule in rules]
    declared_relative = rows[0].get("relationship") in RELATIVES
    if declared_relative and {Rule.DECLARED_CONFLICT, Rule.RELATIVE_OR_HOUSEHOLD} <= set(rules):
        facts[rules.index(Rule.RELATIVE_OR_HOUSEHOLD)] = ""  # the declaration says it once
    parts += [fact for fact in facts if fact]
    if explained and set(rules) & RELATIONSHIP_RULES:
        parts.append("the connection should have been declared and the work given to someone else")
    return "; ".join(parts) + "."


def _fact(rule: Rule, rows: list[dict[str, Any]]) -> str:
    row = rows[0]
    staff, subject = row["staff_id"], row["subject_id"]
    distance = row.get("distance_m")
    where = (
        f"in the same postcode as {staff}'s home"
        if row.get("same_postcode")
        else f"{round(distance):,} m from {staff}'s home"
        if distance is not None
        else "near"
    )
    if rule is Rule.SELF:
        return f"{subject} is {staff}'s own record"
    if rule is Rule.RELATIVE_OR_HOUSEHOLD:
        if row.get("relationship") in RELATIVES:
            return f"{staff} declared {subject} as their {row['relationship'].replace('_', '-')}"
        return f"{subject} has {staff}'s surname and lives {where}"
    if rule is Rule.NEIGHBOUR:
        return f"{subject} lives {where}"
    if rule is Rule.DECLARED_CONFLICT:
        relation = (row.get("relationship") or "connection").replace("_", "-")
        return f"{staff} declared a conflict of interest with {subject} ({relation}, {row['declaration_id']})"
    if rule is Rule.COLLEAGUE:
        return f"{subject} is a colleague ({row['nominal_staff_id']})"
    if rule is Rule.PUBLIC_FIGURE:
        return f"{subject} is flagged as a public figure"
    if rule is Rule.CASE_MISMATCH:
        bad = [r for r in rows if r["cited_state"] in BAD_CITATIONS]
        return _CITATIONS[bad[0]["cited_state"]].format(staff=staff, subject=subject, case=bad[0]["case_ref"])
    if rule is Rule.REPEATED_INTEREST:
        days = len({r["day_num"] for r in rows if r["repeated"]})
        return f"repeated unexplained interest in the same person, on {days} separate days"
    if rule is Rule.OFF_DUTY:
        count = sum(1 for r in rows if r["off_duty"])
        if len(rows) == 1:
            return f"the access was outside {staff}'s rostered duty"
        return f"{count} of the accesses {'was' if count == 1 else 'were'} outside {staff}'s rostered duty"
    return ""


def _listed(items: list[str]) -> str:
    if len(items) <= 1:
        return f"case {items[0]}" if items else "a case"
    return "cases " + ", ".join(items[:-1]) + f" and {items[-1]}"


def _volume_alert(rows: list[dict[str, Any]]) -> AlertDraft:
    rows = sorted(rows, key=lambda row: (row["at_us"], row["event_id"]))
    first, last = rows[0], rows[-1]
    days: dict[int, dict[str, Any]] = {}
    for row in rows:
        days.setdefault(row["day_num"], row)
    busiest = max(days.values(), key=lambda row: row["searches"])
    staff = first["staff_id"]
    team = f" and team {first['team_id']}'s {busiest['team_median']:g}" if busiest["team_median"] else ""
    on = f"{moment(busiest['at_us']):%d %b %Y}"
    more = f" (and {len(days) - 1} more such day(s))" if len(days) > 1 else ""
    words = (
        f"{staff} ran {busiest['searches']:,} searches on {on}{more}, against their usual "
        f"{busiest['own_median']:g} a day{team}."
    )
    rules = (Rule.VOLUME_ANOMALY,)
    return AlertDraft(
        alert_id=_alert_id(VOLUME, staff, None, first["event_id"]),
        staff_id=staff,
        subject_id=None,
        rules=rules,
        score=score(rules, len(days), explained=False),
        first_at=moment(first["at_us"]),
        last_at=moment(last["at_us"]),
        events=tuple(_event_draft(row, rules, "a search on a day of unusual volume") for row in rows),
        explanation=words,
    )
