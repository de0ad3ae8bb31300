"""monitoring.md's quality targets, measured on the generator's labelled force (seed 7, 300 staff, 60 days,
~145,000 accesses): every self-search and declared-conflict search detected, ≥ 95% of every other injected
pattern, ≥ 80% of alerts about real misuse, ≤ 1 alert per 1,000 accesses, ≥ 95% of legitimate accesses
explained. Hard negatives (common surnames far from home, busy analysts, night shifts, team-mates' cases)
raise nothing; a neighbour reached through an assigned case raises only a low-scored alert."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from custodes.imports import load_records
from custodes.monitoring import service as monitoring
from custodes.monitoring.alerts import AlertDraft
from custodes.monitoring.generator import ForceSpec, SyntheticForce, generate
from custodes.settings import Settings

ACTOR = "system:test"


@pytest.fixture
def labelled(
    db: Session, settings: Settings, tmp_path: Path, backend: str
) -> tuple[SyntheticForce, list[AlertDraft], dict[str, int]]:
    force = generate(ForceSpec(seed=7, staff=300, days=60))
    for kind, rows in (("staff", force.staff), ("nominals", force.nominals), ("cases", force.cases),
                       ("declarations", force.declarations), ("rosters", force.rosters)):  # fmt: skip
        load_records(db, kind, rows, ACTOR)
    files = force.write_events(tmp_path / "events", "parquet")
    monitoring.ingest_files(db, settings, files, ACTOR)
    db.commit()
    alerts, counts = monitoring.find_alerts(db, settings)
    return force, alerts, counts


def test_detection_meets_the_targets_and_hard_negatives_stay_quiet(
    labelled: tuple[SyntheticForce, list[AlertDraft], dict[str, int]],
) -> None:
    force, alerts, counts = labelled
    # An incident is found only when one of its accesses is in an alert with the incident's own rule among
    # that access's rules: an alert for another reason (say UNEXPLAINED with PUBLIC_FIGURE for an injected
    # COLLEAGUE search) is not the pattern detected.
    rules_of = {e.event_id: e.rules for a in alerts for e in a.events}
    found, injected = Counter(), Counter()
    for incident in force.incidents:
        injected[incident.pattern] += 1
        found[incident.pattern] += any(incident.pattern in rules_of.get(e, ()) for e in incident.event_ids)
    assert set(injected) == {
        "SELF", "RELATIVE_OR_HOUSEHOLD", "NEIGHBOUR", "DECLARED_CONFLICT", "COLLEAGUE", "PUBLIC_FIGURE",
        "CASE_MISMATCH", "REPEATED_INTEREST", "VOLUME_ANOMALY", "OFF_DUTY",
    }  # fmt: skip
    assert found["SELF"] == injected["SELF"]
    # Every self-search is named as one, also when the record does not carry the staff flag (half of them:
    # the detectors know the person by name with date of birth or home postcode).
    selves = [i for i in force.incidents if i.pattern == "SELF"]
    assert all(any("SELF" in rules_of.get(e, ()) for e in i.event_ids) for i in selves)
    unflagged = {row["subject_id"] for row in force.nominals if not row.get("flags")}
    assert 0 < sum(i.subject_id in unflagged for i in selves) < len(selves)
    # Colleagues too: some looked up are on record without the staff flag, known only by name with date of
    # birth or home postcode (monitoring.md: "subject is another member of the workforce").
    colleagues = [i for i in force.incidents if i.pattern == "COLLEAGUE"]
    assert 0 < sum(i.subject_id in unflagged for i in colleagues) < len(colleagues)
    assert all(
        any("COLLEAGUE" in rules_of.get(e, ()) for e in i.event_ids)
        for i in colleagues
        if i.subject_id in unflagged
    )
    assert found["DECLARED_CONFLICT"] == injected["DECLARED_CONFLICT"]
    for pattern, count in injected.items():
        assert found[pattern] / count >= 0.95, (pattern, found[pattern], count)

    misuse = force.injected_event_ids
    real = [a for a in alerts if {e.event_id for e in a.events} & misuse]
    assert len(real) / len(alerts) >= 0.80
    assert len(alerts) / counts["events"] <= 1 / 1000

    legitimate_about_people = counts["about_people"] - sum(
        1 for i in force.incidents if i.subject_id is not None for _ in i.event_ids
    )
    assert legitimate_about_people > 100_000
    unexplained = counts["about_people"] - counts["explained"]
    assert 1 - unexplained / legitimate_about_people >= 0.95

    # Hard negatives raise nothing, but for a low-scored alert on a neighbour reached through a case.
    by_event = {e.event_id: a for a in alerts for e in a.events}
    for kind, event_ids in force.hard_negatives.items():
        assert event_ids, kind
        raised = [by_event[e] for e in event_ids if e in by_event]
        if kind == "neighbour_via_case":
            assert raised and all(a.rules == ("NEIGHBOUR",) and a.score < 50 for a in raised)
        else:
            assert raised == [], (kind, [a.as_json() for a in raised[:3]])
