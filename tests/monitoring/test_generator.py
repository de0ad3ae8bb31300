"""The synthetic force generator (monitoring/generator.py): deterministic, loadable through the real
importers, every misuse pattern labelled, legitimate work that stays clear of the relationship rules."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from custodes.imports import load_records
from custodes.kit.names import PersonKey, same_person, surname_key
from custodes.monitoring.generator import (
    EVENT_SCHEMA,
    HARD_NEGATIVE_KINDS,
    PATTERNS,
    ForceSpec,
    SyntheticForce,
    generate,
)
from custodes.monitoring.schemas import (
    CASE_COLUMNS,
    EVENT_COLUMNS,
    NOMINAL_COLUMNS,
    ROSTER_COLUMNS,
    Action,
    Rule,
)
from custodes.workforce import demo as workforce_demo
from custodes.workforce.schemas import DECLARATION_COLUMNS, STAFF_COLUMNS

ACTOR = "system:test"
SPEC = ForceSpec(seed=11, staff=150, days=30)


@pytest.fixture(scope="module")
def force() -> SyntheticForce:
    return generate(SPEC)


@pytest.fixture(scope="module")
def events(force: SyntheticForce) -> pa.Table:
    return pa.concat_tables(force.event_tables())


def _load(db: Session, force: SyntheticForce) -> dict[str, int]:
    created = {}
    for kind, rows in [
        ("staff", force.staff),
        ("nominals", force.nominals),
        ("cases", force.cases),
        ("rosters", force.rosters),
        ("declarations", force.declarations),
    ]:
        created[kind] = load_records(db, kind, rows, ACTOR).created
    db.flush()
    return created


# --------------------------------------------------------------------------- determinism and shape


def test_the_same_spec_gives_the_same_force() -> None:
    spec = ForceSpec(seed=5, staff=60, days=10)
    first, second = generate(spec), generate(spec)
    for name in ("staff", "nominals", "cases", "rosters", "declarations", "incidents", "hard_negatives"):
        assert getattr(first, name) == getattr(second, name), name
    assert pa.concat_tables(first.event_tables()).equals(pa.concat_tables(second.event_tables()))
    other = generate(ForceSpec(seed=6, staff=60, days=10))
    assert other.nominals != first.nominals
    assert not pa.concat_tables(other.event_tables()).equals(pa.concat_tables(first.event_tables()))


def test_rows_have_the_import_columns_and_ids(force: SyntheticForce) -> None:
    assert all(tuple(row) == STAFF_COLUMNS for row in force.staff)
    assert all(set(row) == {*NOMINAL_COLUMNS, "address"} for row in force.nominals)
    assert all(tuple(row) == CASE_COLUMNS for row in force.cases)
    assert all(tuple(row) == ROSTER_COLUMNS for row in force.rosters)
    assert all(tuple(row) == DECLARATION_COLUMNS for row in force.declarations)
    assert all(
        isinstance(v, str)
        for rows in (force.staff, force.nominals, force.cases)
        for r in rows
        for v in r.values()
    )
    for rows, column, prefix in [
        (force.nominals, "subject_id", "N"),
        (force.cases, "case_ref", "C"),
        (force.declarations, "declaration_id", "D"),
    ]:
        ids = [row[column] for row in rows]
        assert len(set(ids)) == len(ids)
        assert all(re.fullmatch(prefix + r"\d+", i) and int(i[1:]) >= SPEC.start_number for i in ids)
    postcodes = Counter(row["postcode"] for row in force.nominals)
    assert postcodes.most_common(1)[0][1] < len(force.nominals) / 50, "postcode units are fine-grained"
    flags = Counter(flag for row in force.nominals for flag in row["flags"].split(";") if flag)
    assert flags["public_figure"] and flags["protected"]
    assert sum(n for flag, n in flags.items() if flag.startswith("staff:")) >= 2 * force.spec.staff // 100
    relationships = {row["relationship"] for row in force.declarations}
    assert {"relative", "partner", "ex_partner", "neighbour", "friend"} <= relationships


def test_the_demo_staff_are_used_as_given_and_ids_are_offset(db: Session) -> None:
    staff = [row.values for row in workforce_demo.staff_rows(2026, 60)][:70]  # managers come first
    force = generate(ForceSpec(seed=2, days=5, start_number=500_000), staff)
    assert force.staff == [{c: row[c] for c in STAFF_COLUMNS} for row in staff]
    assert min(int(row["subject_id"][1:]) for row in force.nominals) >= 500_000  # clear of N20001…
    assert min(int(row["declaration_id"][1:]) for row in force.declarations) >= 500_000
    events = pa.concat_tables(force.event_tables())
    assert min(int(e[1:]) for e in events["event_id"].to_pylist()) == 500_000
    assert set(events["staff_id"].to_pylist()) <= {row["staff_id"] for row in staff}
    created = _load(db, force)
    assert created == {
        "staff": len(force.staff),
        "nominals": len(force.nominals),
        "cases": len(force.cases),
        "rosters": len(force.rosters),
        "declarations": len(force.declarations),
    }


def test_a_generated_force_loads_through_the_importers(db: Session) -> None:
    force = generate(ForceSpec(seed=4, staff=40, days=5))
    assert len(force.staff) == 40
    created = _load(db, force)
    assert created["nominals"] == len(force.nominals) and created["cases"] == len(force.cases)
    assert created["rosters"] == len(force.rosters) and created["declarations"] == len(force.declarations)


# --------------------------------------------------------------------------- events


def test_events_follow_the_schema_and_stay_in_the_window(force: SyntheticForce, events: pa.Table) -> None:
    assert events.schema == EVENT_SCHEMA
    assert events.num_rows == force.event_count
    for column in ("event_id", "occurred_at", "system", "staff_id", "action"):
        assert events[column].null_count == 0, column
    ids = events["event_id"].to_pylist()
    assert len(set(ids)) == len(ids)
    assert sorted(int(i[1:]) for i in ids) == list(range(SPEC.start_number, SPEC.start_number + len(ids)))
    assert set(events["action"].to_pylist()) == {a.value for a in Action}
    start, end = force.window
    times = events["occurred_at"].to_pylist()
    assert start <= min(times) and max(times) < end
    rows = events.select(["action", "subject_id", "record_type", "query_text"]).to_pylist()
    assert all(r["action"] == "search" for r in rows if r["subject_id"] is None)
    assert all((r["record_type"] is None) == (r["subject_id"] is None) for r in rows)
    assert all(r["query_text"] for r in rows if r["action"] == "search")
    nobody = sum(r["subject_id"] is None for r in rows) / len(rows)
    assert 0.1 < nobody < 0.4


def test_the_events_target_is_roughly_honoured_in_chunks() -> None:
    force = generate(ForceSpec(seed=3, staff=100, days=20, events=40_000, chunk_rows=7_000))
    tables = list(force.event_tables())
    assert len(tables) >= 6
    assert all(table.num_rows < 9_000 for table in tables)
    total = sum(table.num_rows for table in tables)
    assert abs(total - 40_000) < 800
    again = list(force.event_tables())  # lazily rebuilt, the same every time
    assert all(a.equals(b) for a, b in zip(tables, again, strict=True))
    ids = [int(i[1:]) for table in tables for i in table["event_id"].to_pylist()]
    assert sorted(ids) == list(range(1, total + 1))


def test_a_realistic_volume_by_default() -> None:
    force = generate(ForceSpec(seed=9, staff=100, days=20))
    # about 8 events per staff member per calendar day (shifts, days off, analysts searching more)
    assert 8_000 < force.event_count < 25_000


# --------------------------------------------------------------------------- labels


def test_every_pattern_is_injected_and_its_events_exist(force: SyntheticForce, events: pa.Table) -> None:
    counts = Counter(incident.pattern for incident in force.incidents)
    assert set(counts) == set(PATTERNS)
    assert Rule.UNEXPLAINED.value not in counts
    assert min(counts.values()) >= 3
    by_id = {
        row["event_id"]: row
        for row in events.select(["event_id", "staff_id", "subject_id", "case_ref"]).to_pylist()
    }
    for incident in force.incidents:
        assert incident.event_ids and set(incident.event_ids) <= set(by_id)
        rows = [by_id[event_id] for event_id in incident.event_ids]
        assert {row["staff_id"] for row in rows} == {incident.staff_id}
        if incident.pattern == Rule.VOLUME_ANOMALY:
            assert incident.subject_id is None and len(rows) >= 60
        else:
            assert {row["subject_id"] for row in rows} == {incident.subject_id}
        if incident.pattern == Rule.CASE_MISMATCH:
            assert all(row["case_ref"] for row in rows)
    assert len({i.incident_id for i in force.incidents}) == len(force.incidents)
    assert force.injected_event_ids == {e for i in force.incidents for e in i.event_ids}


def test_hard_negatives_are_legitimate_events_of_every_kind(force: SyntheticForce, events: pa.Table) -> None:
    assert set(force.hard_negatives) == set(HARD_NEGATIVE_KINDS)
    ids = set(events["event_id"].to_pylist())
    for kind, event_ids in force.hard_negatives.items():
        assert event_ids, kind
        assert set(event_ids) <= ids
        assert not set(event_ids) & force.injected_event_ids


def test_the_default_force_has_a_handful_of_each_pattern() -> None:
    force = generate(ForceSpec())
    assert 100_000 <= force.event_count <= 200_000
    counts = Counter(incident.pattern for incident in force.incidents)
    assert set(counts) == set(PATTERNS) and all(6 <= n <= 10 for n in counts.values())


def test_declared_conflicts_match_as_the_gate_matches(force: SyntheticForce) -> None:
    nominals = {row["subject_id"]: row for row in force.nominals}
    declared = [i for i in force.incidents if i.pattern == Rule.DECLARED_CONFLICT]
    ways = set()
    for incident in declared:
        assert incident.subject_id is not None
        n = nominals[incident.subject_id]
        subject = PersonKey.of(
            n["subject_id"],
            n["surname"],
            n["forenames"],
            date.fromisoformat(n["date_of_birth"]),
            n["postcode"],
        )
        matches = []
        for d in (d for d in force.declarations if d["staff_id"] == incident.staff_id):
            born = date.fromisoformat(d["date_of_birth"]) if d["date_of_birth"] else None
            key = PersonKey.of(
                d["subject_id"] or None, d["surname"], d["forenames"], born, d["postcode"] or None
            )
            if same_person(key, subject):
                matches.append(d)
        assert matches, incident
        ways.add("id" if matches[0]["subject_id"] else "name")
        if not matches[0]["subject_id"]:
            assert (matches[0]["surname"], matches[0]["forenames"]) != (n["surname"], n["forenames"])
    assert ways == {"id", "name"}


def _staff_key(row: dict[str, str]) -> PersonKey:
    born = date.fromisoformat(row["date_of_birth"]) if row["date_of_birth"] else None
    return PersonKey.of(None, row["surname"], row["forenames"], born, row["home_postcode"] or None)


def _nominal_key(row: dict[str, str]) -> PersonKey:
    born = date.fromisoformat(row["date_of_birth"]) if row["date_of_birth"] else None
    return PersonKey.of(None, row["surname"], row["forenames"], born, row["postcode"] or None)


def test_colleagues_looked_up_are_staff_by_flag_or_by_name(force: SyntheticForce) -> None:
    """COLLEAGUE incidents: the person looked up is another member of staff, half of them on record without
    the `staff:` flag (known by name with date of birth or home postcode) and labelled so."""
    nominals = {row["subject_id"]: row for row in force.nominals}
    staff = {row["staff_id"]: row for row in force.staff}
    colleagues = [i for i in force.incidents if i.pattern == Rule.COLLEAGUE]
    unflagged = 0
    for incident in colleagues:
        assert incident.subject_id is not None
        n = nominals[incident.subject_id]
        if n["flags"]:
            assert n["flags"].startswith("staff:") and n["flags"] != f"staff:{incident.staff_id}"
            continue
        unflagged += 1
        assert "without the staff flag" in incident.detail
        who = [s for s, row in staff.items() if same_person(_staff_key(row), _nominal_key(n))]
        assert who and incident.staff_id not in who, incident
    assert 0 < unflagged < len(colleagues)


# --------------------------------------------------------------------------- legitimate work
# --------------------------------------------------------------------------- legitimate work


def _metres(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    lat1, lon1, lat2, lon2 = map(np.radians, (lat1, lon1, lat2, lon2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def test_legitimate_work_stays_clear_of_the_relationship_rules(
    force: SyntheticForce, events: pa.Table
) -> None:
    allowed = force.injected_event_ids | set(force.hard_negatives["neighbour_via_case"])
    rows = [
        r
        for r in events.select(["event_id", "staff_id", "subject_id"]).to_pylist()
        if r["subject_id"] and r["event_id"] not in allowed
    ]
    nominals = {row["subject_id"]: row for row in force.nominals}
    staff = {row["staff_id"]: row for row in force.staff}
    flagged = [r for r in rows if nominals[r["subject_id"]]["flags"] not in ("", "protected")]
    assert not flagged, "legitimate work never touches staff or public figures"
    declared = {(d["staff_id"], d["subject_id"]) for d in force.declarations if d["subject_id"]}
    assert not [r for r in rows if (r["staff_id"], r["subject_id"]) in declared]
    assert not [
        r for r in rows if staff[r["staff_id"]]["home_postcode"] == nominals[r["subject_id"]]["postcode"]
    ]
    # nor a member of staff on record without the flag (by name with date of birth or home postcode)
    by_surname: dict[str, list[PersonKey]] = {}
    for row in force.staff:
        by_surname.setdefault(surname_key(row["surname"]), []).append(_staff_key(row))
    touched = [nominals[subject] for subject in {r["subject_id"] for r in rows}]
    assert not [
        n["subject_id"]
        for n in touched
        if any(same_person(key, _nominal_key(n)) for key in by_surname.get(surname_key(n["surname"]), ()))
    ]
    distance = _metres(
        np.array([float(staff[r["staff_id"]]["home_lat"]) for r in rows]),
        np.array([float(staff[r["staff_id"]]["home_lon"]) for r in rows]),
        np.array([float(nominals[r["subject_id"]]["lat"]) for r in rows]),
        np.array([float(nominals[r["subject_id"]]["lon"]) for r in rows]),
    )
    assert distance.min() > 300


def _relational(force: SyntheticForce, events: pa.Table) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.register("events", events)
    con.register("staff", pa.Table.from_pylist(force.staff))
    con.register("cases_raw", pa.Table.from_pylist(force.cases))
    con.register("rosters_raw", pa.Table.from_pylist(force.rosters))
    injected = pa.table({"event_id": sorted(force.injected_event_ids)})
    con.register("injected", injected)
    con.execute(
        """
        CREATE TABLE cases AS SELECT case_ref, team_id, CAST(opened_at AS TIMESTAMPTZ) AS opened,
            CAST(nullif(closed_at, '') AS TIMESTAMPTZ) AS closed, assigned_staff, subject_ids FROM cases_raw;
        CREATE TABLE case_staff AS
            SELECT case_ref, unnest(string_split(assigned_staff, ';')) AS staff_id FROM cases;
        CREATE TABLE case_subject AS
            SELECT case_ref, unnest(string_split(subject_ids, ';')) AS subject_id FROM cases;
        CREATE TABLE rosters AS
            SELECT staff_id, CAST("start" AS TIMESTAMPTZ) AS s, CAST("end" AS TIMESTAMPTZ) AS e
            FROM rosters_raw;
        CREATE TABLE legit AS SELECT ev.*, st.team_id FROM events ev JOIN staff st USING (staff_id)
            WHERE event_id NOT IN (SELECT event_id FROM injected);
        CREATE TABLE explained AS SELECT DISTINCT l.event_id FROM legit l
            JOIN case_subject cj ON cj.subject_id = l.subject_id
            JOIN cases c ON c.case_ref = cj.case_ref
            WHERE c.opened <= l.occurred_at AND (c.closed IS NULL OR l.occurred_at <= c.closed)
              AND (c.team_id = l.team_id OR EXISTS
                   (SELECT 1 FROM case_staff cs WHERE cs.case_ref = c.case_ref AND cs.staff_id = l.staff_id));
        """
    )
    return con


def test_legitimate_work_is_explained_by_cases_and_rosters(force: SyntheticForce, events: pa.Table) -> None:
    con = _relational(force, events)
    about_people, explained = con.execute(
        "SELECT count(*), count(x.event_id) FROM legit l LEFT JOIN explained x USING (event_id)"
        " WHERE l.subject_id IS NOT NULL"
    ).fetchone()  # type: ignore[misc]
    assert 0.95 <= explained / about_people <= 0.985  # a thin scatter of quick checks stays unexplained
    bad_citations = con.execute(
        """
        SELECT count(*) FROM legit l LEFT JOIN cases c ON c.case_ref = l.case_ref
        WHERE l.case_ref IS NOT NULL AND (c.case_ref IS NULL OR l.subject_id IS NULL
            OR l.subject_id NOT IN (SELECT subject_id FROM case_subject cj WHERE cj.case_ref = c.case_ref))
        """
    ).fetchone()
    assert bad_citations == (0,)
    repeated = con.execute(
        """
        SELECT staff_id, subject_id, count(DISTINCT CAST(occurred_at AS DATE)) AS days FROM legit
        WHERE subject_id IS NOT NULL AND event_id NOT IN (SELECT event_id FROM explained)
        GROUP BY ALL HAVING days >= 3
        """
    ).fetchall()
    assert repeated == []
    off_roster = con.execute(
        """
        SELECT count(*) FROM events ev WHERE NOT EXISTS (SELECT 1 FROM rosters r
            WHERE r.staff_id = ev.staff_id AND r.s <= ev.occurred_at AND ev.occurred_at <= r.e)
        """
    ).fetchone()
    off_duty = sum(len(i.event_ids) for i in force.incidents if i.pattern == Rule.OFF_DUTY)
    assert off_roster == (off_duty,), "only the injected off-duty accesses fall outside a rostered shift"
    night = con.execute("SELECT count(*) FROM rosters WHERE CAST(s AS DATE) <> CAST(e AS DATE)").fetchone()
    assert night is not None and night[0] > 0, "response teams work nights across midnight"


def test_analysts_search_far_more_than_officers(force: SyntheticForce, events: pa.Table) -> None:
    kinds = {
        row["staff_id"]: "analyst" if "ANL" in row["team_id"] or "INT" in row["team_id"] else "other"
        for row in force.staff
    }
    searches = Counter(
        kinds[staff]
        for staff, action in zip(events["staff_id"].to_pylist(), events["action"].to_pylist(), strict=True)
        if action == "search"
    )
    people = Counter(kinds.values())
    assert searches["analyst"] / people["analyst"] > 3 * searches["other"] / people["other"]


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_write_events_round_trips(tmp_path: Path, fmt: str) -> None:
    force = generate(ForceSpec(seed=8, staff=40, days=7, events=2_500))
    original = pa.concat_tables(force.event_tables())
    paths = force.write_events(tmp_path, fmt, rows_per_file=1_000)
    assert len(paths) == math.ceil(original.num_rows / 1_000)
    assert all(path.suffix == f".{fmt}" for path in paths)
    if fmt == "parquet":
        back = pa.concat_tables(pq.read_table(path) for path in paths)
        assert back.equals(original)
        return
    expected = [
        {**row, "occurred_at": row["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S+00:00")}
        for row in original.to_pylist()
    ]
    rows: list[dict[str, str | None]] = []
    for path in paths:
        if fmt == "csv":
            with path.open(newline="", encoding="utf-8") as handle:
                reader = csv.DictReader(handle)
                assert tuple(reader.fieldnames or ()) == EVENT_COLUMNS
                rows += [{k: v or None for k, v in row.items()} for row in reader]
        else:
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                assert tuple(record) == EVENT_COLUMNS
                rows.append(record)
    assert rows == expected
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", str(rows[0]["occurred_at"]))


def test_an_address_is_in_its_postcode_s_town(force: SyntheticForce) -> None:
    """Review: "Lives in Ashford (ME10)" — every nominal of a division had the division's town whatever its
    postcode district. The town is now the district's post town."""
    from custodes.monitoring.demo import POST_TOWNS, nominal_rows

    for rows in (force.nominals, nominal_rows(seed=3)):
        mismatched = [
            (row["address"], row["postcode"])
            for row in rows
            if row["postcode"] and not row["address"].endswith(", " + POST_TOWNS[row["postcode"].split()[0]])
        ]
        assert not mismatched, mismatched[:5]
    assert any(row["address"].endswith(", Ramsgate") for row in force.nominals)  # not all "Canterbury"
