"""Access-log ingest: formats, quarantine by file and line, idempotence, ledger batches and their proofs,
crash recovery, the push API and the CLI."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import rfc8785
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.permissions import Scope
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.monitoring import events
from custodes.monitoring import service as monitoring
from custodes.monitoring.models import AccessBatch, QuarantinedRow
from custodes.monitoring.schemas import EVENT_COLUMNS
from custodes.settings import Settings
from tests.monitoring.world import ACTOR, event, write_events


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    return tmp_path / "in"


def stored_ids(settings: Settings) -> list[str]:
    store = monitoring.event_store(settings)
    if not store.has_events():
        return []
    return sorted(r[0] for r in duckdb.sql(f"SELECT event_id FROM read_parquet('{store.glob()}')").fetchall())


ROWS = [event(f"e{i}", "N1" if i % 2 else None, day=i // 3, hour=9 + i % 3) for i in range(7)]


def _write(folder: Path, fmt: str, rows: list[dict[str, str]]) -> Path:
    if fmt == "csv":
        return write_events(folder, rows)
    if fmt == "jsonl":
        path = folder / "events.jsonl"
        path.write_text("".join(json.dumps({k: v for k, v in r.items() if v}) + "\n" for r in rows))
        return path
    table = pa.table(
        {
            c: pa.array(
                [datetime.fromisoformat(r[c]) for r in rows]
                if c == "occurred_at"
                else [r[c] or None for r in rows],
                pa.timestamp("us", tz="UTC") if c == "occurred_at" else pa.string(),
            )
            for c in EVENT_COLUMNS
        }
    )
    path = folder / "events.parquet"
    pq.write_table(table, path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_every_format_is_stored_and_ingest_is_idempotent(
    db: Session, settings: Settings, folder: Path, fmt: str
) -> None:
    path = _write(folder, fmt, ROWS)
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    db.commit()
    assert (summary.received, summary.stored, summary.duplicates, summary.quarantined) == (7, 7, 0, 0)
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)
    again = monitoring.ingest_files(db, settings, [path], ACTOR)
    db.commit()
    assert (again.stored, again.duplicates) == (0, 7)
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)
    found = monitoring.stored_event(settings, "e1")
    assert found is not None and found["subject_id"] == "N1" and found["occurred_at"].tzinfo is not None
    assert monitoring.stored_event(settings, "e0")["subject_id"] is None  # type: ignore[index]


def test_salts_are_unpredictable_128_bit_values_unique_to_each_ingest(
    db: Session, settings: Settings, folder: Path
) -> None:
    first = write_events(folder, ROWS, "first.csv")
    second = write_events(folder, [{**row, "event_id": row["event_id"] + "b"} for row in ROWS], "second.csv")
    monitoring.ingest_files(db, settings, [first], ACTOR)
    monitoring.ingest_files(db, settings, [second], ACTOR)
    db.commit()
    salts = [monitoring.stored_event(settings, event_id)["salt"] for event_id in stored_ids(settings)]  # type: ignore[index]
    assert all(len(salt) == 32 and int(salt, 16) >= 0 for salt in salts)
    assert len(set(salts)) == 2 * len(ROWS)  # the same lines of two ingests: keyed apart


def test_repeats_within_one_ingest_are_ignored(db: Session, settings: Settings, folder: Path) -> None:
    summary = monitoring.ingest_files(db, settings, [write_events(folder, [*ROWS, ROWS[0]])], ACTOR)
    assert (summary.stored, summary.duplicates) == (7, 1)


def _named(folder: Path, fmt: str, rows: list[dict[str, str]], name: str) -> Path:
    return _write(folder, fmt, rows).rename(folder / f"{name}.{fmt}")


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_first_file_of_only_duplicates_does_not_stop_the_next(
    db: Session, settings: Settings, folder: Path, fmt: str
) -> None:
    """`monitor ingest a b` after `monitor ingest a`: a stored nothing, and b must still be read (DuckDB 2
    kept a result read with fetchone open, and the next file's tables could not be replaced)."""
    a = _named(folder, fmt, ROWS[:2], "a")
    monitoring.ingest_files(db, settings, [a], ACTOR)
    db.commit()
    b = _named(folder, fmt, [event("new", "N1", day=3)], "b")
    summary = monitoring.ingest_files(db, settings, [a, b], ACTOR)
    db.commit()
    assert (summary.stored, summary.duplicates, summary.quarantined) == (1, 2, 0)
    assert stored_ids(settings) == sorted(["e0", "e1", "new"])


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_first_file_of_only_quarantined_rows_does_not_stop_the_next(
    db: Session, settings: Settings, folder: Path, fmt: str
) -> None:
    a = _named(folder, fmt, [{**event("bad", "N1"), "action": "peek"}], "a")
    b = _named(folder, fmt, [event("new", "N1")], "b")
    summary = monitoring.ingest_files(db, settings, [a, b], ACTOR)
    db.commit()
    assert (summary.stored, summary.duplicates, summary.quarantined) == (1, 0, 1)
    assert stored_ids(settings) == ["new"]


def test_ingest_ids_sort_in_the_order_the_ingests_were_made(
    db: Session, settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The detectors count the copy of an event_id stored twice that is in the lowest batch: batch ids must
    sort as the ingests were acknowledged, also for two in the same second (whatever their random part)."""
    real = monitoring.secrets.token_hex
    suffixes = iter(["ffffff", "000000"])
    monkeypatch.setattr(monitoring.secrets, "token_hex", lambda n: next(suffixes) if n == 3 else real(n))
    ticks = iter(range(1, 1000))  # a clock in one second, a few microseconds a call
    monkeypatch.setattr(monitoring, "utcnow", lambda: datetime(2026, 11, 22, 10, 0, 0, next(ticks), UTC))
    first = monitoring.ingest_files(db, settings, [write_events(folder, ROWS[:1], "a.csv")], ACTOR)
    second = monitoring.ingest_files(db, settings, [write_events(folder, ROWS[1:2], "b.csv")], ACTOR)
    assert first.ingest_id < second.ingest_id


def test_malformed_rows_are_quarantined_and_named_by_file_and_line(
    db: Session, settings: Settings, folder: Path
) -> None:
    bad_time = {**event("b1", "N1"), "occurred_at": "2026-10-05 10:00"}
    no_staff = {**event("b2", "N1"), "staff_id": "", "action": "launch"}
    control = {**event("b3", "N1"), "query_text": "smith\tjohn"}
    path = write_events(folder, [ROWS[0], bad_time, no_staff, control, ROWS[1]])
    with path.open("a") as handle:
        handle.write("b4,2026-10-05T10:00:00+00:00,PNC\n")  # too few cells: line 7
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert (summary.received, summary.stored, summary.quarantined) == (6, 3, 3)
    assert [str(p) for p in summary.problems] == [
        "events.csv:3: occurred_at: 2026-10-05 10:00 is not an ISO 8601 time with a UTC offset",
        "events.csv:4: staff_id: is required",
        "events.csv:4: action: launch is not one of: search, view, update, print, export",
        "events.csv:7: (row): has 3 cells, the header has 11",
    ]
    kept = db.scalars(select(QuarantinedRow).order_by(QuarantinedRow.line)).all()
    assert [(q.line, json.loads(q.raw).get("event_id")) for q in kept] == [
        (3, "b1"),
        (4, "b2"),
        (7, None),
    ]


def test_rows_quarantined_while_reading_are_kept_as_read(
    db: Session, settings: Settings, folder: Path
) -> None:
    """Rows that could not be read into cells (wrong number of cells, not JSON, not an object, not UTF-8)
    are kept as their line; a line that is not UTF-8 with each byte that is not as \\xNN and its
    backslashes doubled, so that the bytes can be rebuilt."""
    extra = _csv_line(ROWS[0]).rstrip("\n") + ",EXTRA"
    latin = _csv_line({**ROWS[1], "query_text": "Zoé \\ co"}).rstrip("\n").encode("latin-1")
    csv_path = folder / "a.csv"
    csv_path.write_bytes((",".join(EVENT_COLUMNS) + "\n" + extra + "\n").encode() + latin + b"\r\n")
    not_json = '{"event_id": "j1", "staff_id": "S1",}'
    jsonl = folder / "b.jsonl"
    jsonl.write_text(not_json + "\n[1, 2]\n")
    for path in (csv_path, jsonl):
        monitoring.ingest_files(db, settings, [path], ACTOR)
    db.flush()
    kept = {
        (q.source, q.line): json.loads(q.raw)
        for q in db.scalars(select(QuarantinedRow).order_by(QuarantinedRow.source, QuarantinedRow.line))
    }
    assert kept == {
        ("a.csv", 2): {"line": extra},
        ("a.csv", 3): {"line": latin.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")},
        ("b.jsonl", 1): {"line": not_json},
        ("b.jsonl", 2): {"line": "[1, 2]"},
    }
    shown = kept[("a.csv", 3)]["line"]
    assert "Zo\\xe9 \\\\ co" in shown
    rebuilt = shown.encode().decode("unicode_escape").encode("latin-1")  # \\xNN and \\\\ undone
    assert rebuilt == latin


def test_a_file_without_a_required_column_is_quarantined_whole(
    db: Session, settings: Settings, folder: Path
) -> None:
    path = folder / "old.csv"
    path.write_text("event_id,occurred_at,system,action\ne1,2026-10-05T10:00:00Z,PNC,view\n")
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert (summary.stored, summary.quarantined) == (0, 1)
    assert str(summary.problems[0]) == "old.csv:1: staff_id: required column missing: every row quarantined"


@pytest.mark.parametrize("damage", ["garbage", "cut short"])
def test_a_file_that_is_not_parquet_is_named_and_the_others_stored(
    db: Session, settings: Settings, folder: Path, damage: str
) -> None:
    path = _write(folder, "parquet", ROWS[:2]).rename(folder / "bad.parquet")
    data = path.read_bytes()
    path.write_bytes(b"not a parquet file at all" if damage == "garbage" else data[: len(data) // 2])
    good = write_events(folder, ROWS[2:3], "good.csv")
    summary = monitoring.ingest_files(db, settings, [path, good], ACTOR)
    (problem,) = summary.problems
    assert str(problem).startswith("bad.parquet:1: (file): is not a readable Parquet file (")
    assert str(problem).endswith("): nothing stored")
    assert (summary.received, summary.stored, summary.quarantined) == (1, 1, 0)


def test_a_header_with_spaces_around_its_names_is_read(db: Session, settings: Settings, folder: Path) -> None:
    path = folder / "spaced.csv"
    header = ", ".join(EVENT_COLUMNS).replace("system", " system ")
    path.write_text(header + "\n" + "".join(_csv_line(row) for row in ROWS[:3]) + "x,y\n")
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert [str(p) for p in summary.problems] == ["spaced.csv:5: (row): has 2 cells, the header has 11"]
    assert (summary.stored, summary.quarantined) == (3, 1)
    db.commit()
    stored = monitoring.stored_event(settings, "e1")
    assert stored is not None and (stored["system"], stored["subject_id"]) == ("PNC", "N1")


def test_a_column_named_twice_in_the_header_quarantines_the_file(
    db: Session, settings: Settings, folder: Path
) -> None:
    path = folder / "twice.csv"
    path.write_text(",".join(EVENT_COLUMNS) + ",staff_id\n" + _csv_line(ROWS[0]).rstrip("\n") + ",S9\n")
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert (summary.stored, summary.quarantined) == (0, 1)
    assert [str(p) for p in summary.problems] == [
        "twice.csv:1: staff_id: more than one column has this name: every row quarantined",
        "twice.csv:2: (file): a column name is repeated in the header",
    ]


def _csv_line(row: dict[str, str]) -> str:
    return ",".join(row[column] for column in EVENT_COLUMNS) + "\n"


def test_lines_are_counted_as_in_the_file_past_blank_lines_and_quoted_new_lines(
    db: Session, settings: Settings, folder: Path
) -> None:
    path = folder / "gappy.csv"
    multi = {**event("m1", "N1"), "query_text": '"smith\njohn"'}  # one row over lines 4 and 5
    bad = {**event("b1", "N1"), "occurred_at": "yesterday"}
    path.write_text(
        ",".join(EVENT_COLUMNS)
        + "\n"
        + _csv_line(event("g1", "N1"))
        + "\n"  # line 3 is blank
        + _csv_line(multi)
        + _csv_line(event("g2", "N1"))
        + "\n\n"
        + _csv_line(bad)  # lines 7, 8 blank
        + "x,y\n"  # line 10: too few cells
    )
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert [str(p) for p in summary.problems] == [
        "gappy.csv:9: occurred_at: yesterday is not an ISO 8601 time with a UTC offset",
        "gappy.csv:10: (row): has 2 cells, the header has 11",
    ]
    assert (summary.stored, summary.quarantined) == (3, 2)  # the new line in a value is kept


@pytest.mark.parametrize("gap", ["\n\n", "\n"], ids=["blank lines", "none"])
@pytest.mark.parametrize("last", ["\n", ""], ids=["newline at the end", "none at the end"])
def test_json_lines_are_numbered_as_in_the_file(
    db: Session, settings: Settings, folder: Path, gap: str, last: str
) -> None:
    path = folder / "numbered.jsonl"
    bad = {**event("b1", "N1"), "occurred_at": "yesterday"}
    lines = [json.dumps(event("n1", "N1")), json.dumps(event("n2", "N1")), json.dumps(bad)]
    path.write_text(lines[0] + gap + lines[1] + "\n" + lines[2] + last)
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    line = 2 + gap.count("\n")  # the gap holds the newline after line 1
    assert [str(p) for p in summary.problems] == [
        f"numbered.jsonl:{line}: occurred_at: yesterday is not an ISO 8601 time with a UTC offset"
    ]
    assert (summary.stored, summary.quarantined) == (2, 1)


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_line_that_is_not_utf8_is_quarantined_and_the_rest_kept(
    db: Session, settings: Settings, folder: Path, fmt: str
) -> None:
    rows = [event("u1", "N1"), {**event("u2", "N1"), "query_text": "Zoé"}, event("u3", "N1")]
    path = _write(folder, fmt, rows)
    if fmt == "jsonl":  # as a system would send it: the é itself, not an escape
        path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    path.write_bytes(path.read_bytes().replace("Zoé".encode(), "Zoé".encode("latin-1")))
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    line = 3 if fmt == "csv" else 2
    assert [str(p) for p in summary.problems] == [
        f"{path.name}:{line}: (line): is not UTF-8 text (byte 0xE9): save the file as UTF-8"
    ]
    assert (summary.stored, summary.quarantined) == (2, 1)


def test_a_header_that_is_not_utf8_quarantines_the_file(
    db: Session, settings: Settings, folder: Path
) -> None:
    path = write_events(folder, ROWS[:2])
    path.write_bytes(b"\xe9" + path.read_bytes())
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert (summary.stored, summary.quarantined) == (0, 2)
    assert str(summary.problems[0]) == "events.csv:1: (header): the header is not UTF-8 text"


def test_bad_json_lines_are_named_and_the_rest_kept(db: Session, settings: Settings, folder: Path) -> None:
    path = folder / "push.jsonl"
    good = json.dumps(event("j1", "N1"))
    path.write_text(f"{good}\nnot json\n\n[1, 2]\n{json.dumps(event('j2', None))}\n")
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert summary.stored == 2
    assert [str(p) for p in summary.problems] == [
        "push.jsonl:2: (line): is not JSON (Expecting value)",
        "push.jsonl:4: (line): is not a JSON object",
    ]


def test_one_ledger_entry_per_batch_holding_its_tree_head(
    db: Session, settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "LEAVES_PER_BATCH", 3)
    monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    db.commit()
    batches = db.scalars(select(AccessBatch).order_by(AccessBatch.batch_id)).all()
    assert [b.events for b in batches] == [3, 3, 1]
    found = ledger.search(db, EntryFilter(object_type="access_batch"))
    assert len(found) == 3 and {e.op for e in found} == {"consultation"}
    for batch in batches:
        leaves = monitoring.batch_leaves(settings, batch.batch_id)
        assert merkle.root(leaves).hex() == batch.root
        entry = next(e for e in found if e.object_id == batch.batch_id)
        assert entry.content is not None and entry.content["detail"]["root"] == batch.root


def test_the_proof_of_an_access_verifies_offline_and_tampering_is_caught(
    db: Session, settings: Settings, folder: Path
) -> None:
    monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    db.commit()
    ledger.issue_checkpoint(db, settings)
    proof = monitoring.access_proof(db, settings, "e4", ACTOR)
    key = ledger.verifier_key(settings)
    assert monitoring.verify_access_proof(proof, key) == []
    assert json.loads(proof["leaf"])["event_id"] == "e4"
    forged = {**proof, "leaf": proof["leaf"].replace('"e4"', '"e5"')}
    assert "the access is not in its batch's tree" in monitoring.verify_access_proof(forged, key)
    # Rewrite a stored file: the batch no longer matches its ledger entry.
    store = monitoring.event_store(settings)
    target = next(store.events_dir.glob("*/*.parquet"))
    table = pq.read_table(target)
    column = table.column_names.index("system")
    pq.write_table(table.set_column(column, "system", pa.array(["CHANGED"] * table.num_rows)), target)
    with pytest.raises(monitoring.ProofUnavailable, match="tampered"):
        monitoring.access_proof(db, settings, table.column("event_id")[0].as_py(), ACTOR)


def test_a_rolled_back_ingest_leaves_nothing(db: Session, settings: Settings, folder: Path) -> None:
    monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    db.rollback()
    assert stored_ids(settings) == []
    assert not monitoring.event_store(settings).staged_ingests()


def test_a_crash_between_commit_and_publish_is_finished_by_the_next_run(
    db: Session, settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = monitoring.event_store(settings)
    monkeypatch.setattr(events.EventStore, "publish", lambda self, ingest_id: None)  # crash: never published
    summary = monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    db.commit()
    assert stored_ids(settings) == [] and store.staged_ingests() == [summary.ingest_id]
    monkeypatch.undo()
    monitoring.recover(db, store)
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)
    # A staged ingest that never committed is discarded.
    (store.staging_dir / "I-uncommitted" / "day=2026-10-05").mkdir(parents=True)
    monitoring.recover(db, store)
    assert store.staged_ingests() == []


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)  # control characters included


TYPES = {"occurred_at": "TIMESTAMPTZ"}


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(TEXT, min_size=12, max_size=12), micros=st.integers(0, 999_999))
def test_leaf_json_in_sql_is_rfc8785(values: list[str], micros: int) -> None:
    record = dict(zip([*sorted(set(events.LEAF_KEYS) - {"occurred_at"})], values, strict=False))
    record["occurred_at"] = datetime(2026, 10, 5, 10, 0, 0, micros, tzinfo=UTC)
    con = events.connect()
    con.execute(
        "CREATE TABLE t AS SELECT "
        + ", ".join(f"${i + 1}::{TYPES.get(k, 'VARCHAR')} AS {k}" for i, k in enumerate(record))
        + ", 0 AS leaf",
        [str(uuid.UUID(int=micros)) if k == "salt" else v for k, v in record.items()],
    )
    (digest,) = con.execute(f"SELECT hash FROM ({events.leaf_hashes_sql('t')})").fetchone()  # type: ignore[misc]
    record["salt"] = str(uuid.UUID(int=micros))
    expected = {**record, "occurred_at": record["occurred_at"].strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    assert events.leaf_bytes(record) == rfc8785.dumps(expected)
    assert bytes(digest) == merkle.leaf_hash(rfc8785.dumps(expected))


@hsettings(max_examples=40, deadline=None)
@given(sizes=st.lists(st.integers(1, 70), min_size=1, max_size=4))
def test_batch_tree_heads_match_rfc9162(sizes: list[int]) -> None:
    con = events.connect()
    rows = [
        (f"b{b}", i, merkle.leaf_hash(f"{b}/{i}".encode())) for b, n in enumerate(sizes) for i in range(n)
    ]
    con.execute("CREATE TABLE leaves (batch_id VARCHAR, leaf INTEGER, hash BLOB)")
    con.executemany("INSERT INTO leaves VALUES (?, ?, ?)", list(reversed(rows)))  # order comes from `leaf`
    roots = events.batch_roots(con, "leaves")
    for b, n in enumerate(sizes):
        assert roots[f"b{b}"] == merkle.root([merkle.leaf_hash(f"{b}/{i}".encode()) for i in range(n)])


def test_batch_tree_heads_hashed_in_worker_processes_are_the_same() -> None:
    con = events.connect()
    con.execute(
        "CREATE TABLE leaves AS SELECT 'b' || (i % 5) AS batch_id, CAST(i // 5 AS INTEGER) AS leaf, "
        "unhex(sha256(CAST(i AS VARCHAR))) AS hash FROM range(1003) t(i)"
    )
    with events.TreeHasher(2) as hasher:
        in_workers = events.batch_roots(con, "leaves", hasher)
        events.submit_batch_trees(con, "(SELECT * FROM leaves WHERE batch_id < 'b2')", hasher)
        events.submit_batch_trees(con, "(SELECT * FROM leaves WHERE batch_id >= 'b2')", hasher)
        assert hasher.roots() == in_workers  # collected once, whatever was submitted before
    assert in_workers == events.batch_roots(con, "leaves")
    assert len(in_workers) == 5
    assert events.batch_roots(con, "(SELECT * FROM leaves WHERE false)") == {}


# --------------------------------------------------------------------------- the push API and the CLI


def _token(db: Session, *scopes: Scope) -> dict[str, str]:
    token = identity.create_api_token(db, "force system", set(scopes), ACTOR)
    db.flush()
    return {"authorization": f"Bearer {token}"}


def test_push_api_stores_and_names_bad_events(client: TestClient, db: Session, settings: Settings) -> None:
    headers = _token(db, Scope.INGEST)
    body = {
        "events": [event("p1", "N1"), {**event("p2", "N1"), "action": "peek"}, "nonsense", event("p1", "N1")]
    }
    answer = client.post("/api/v1/access-events", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["received"], result["stored"], result["duplicates"], result["quarantined"]) == (4, 1, 1, 2)
    assert {(p["event"], p["field"]) for p in result["problems"]} == {(1, "action"), (2, "(event)")}
    assert stored_ids(settings) == ["p1"]
    kept = {q.line: json.loads(q.raw) for q in db.scalars(select(QuarantinedRow))}
    assert kept[2] == {"event": '"nonsense"'}  # kept as sent


def test_push_api_stores_nothing_for_a_token_revoked_while_its_body_arrived(
    client: TestClient, db: Session, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token is checked before the request's unit of work begins (no write lock for it), and a large
    body then takes a while to arrive and be read: a revocation committed meanwhile let the batch be
    stored under the revoked token. It is checked again in the unit of work, just before the write."""
    headers = _token(db, Scope.INGEST)
    (token_id,) = [t.id for t in identity.list_api_tokens(db) if t.name == "force system"]
    read_events = events.source_from_records

    def revoked_while_reading(*args: object) -> object:
        identity.revoke_api_token(db, token_id, ACTOR)  # an administrator, as the body was read
        db.flush()
        return read_events(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(events, "source_from_records", revoked_while_reading)
    answer = client.post("/api/v1/access-events", json={"events": [event("p1", "N1")]}, headers=headers)
    assert answer.status_code == 401, answer.text
    assert stored_ids(settings) == []


def test_push_api_refuses_fields_that_are_not_text(
    client: TestClient, db: Session, settings: Settings
) -> None:
    wrong = {**event("p1", "N1"), "staff_id": {"id": "S1"}, "system": ["PNC", "X"], "subject_id": 17}
    body = {"events": [wrong, {**event("p2", None), "device_id": True}, {**event("p3", None), "other": 1}]}
    answer = client.post("/api/v1/access-events", json=body, headers=_token(db, Scope.INGEST))
    result = answer.json()
    assert (result["stored"], result["quarantined"]) == (1, 2), result
    assert [(p["event"], p["field"], p["problem"]) for p in result["problems"]] == [
        (0, "system", "must be text, not an array"),
        (0, "staff_id", "must be text, not an object"),
        (0, "subject_id", "must be text, not a number"),
        (1, "device_id", "must be text, not true or false"),
    ]
    assert result["ignored_fields"] == ["other"]  # a field not of monitoring.md is ignored, whatever it holds
    assert stored_ids(settings) == ["p3"]


def test_json_lines_fields_that_are_not_text_quarantine_the_line(
    db: Session, settings: Settings, folder: Path
) -> None:
    path = folder / "typed.jsonl"
    path.write_text(
        json.dumps(event("j1", "N1")) + "\n" + json.dumps({**event("j2", "N1"), "event_id": 2}) + "\n"
    )
    summary = monitoring.ingest_files(db, settings, [path], ACTOR)
    assert (summary.stored, summary.quarantined) == (1, 1)
    assert [str(p) for p in summary.problems] == ["typed.jsonl:2: event_id: must be text, not a number"]


def test_push_api_beyond_memory_and_spill_answers_503_and_stores_nothing(
    client: TestClient, db: Session, settings: Settings
) -> None:
    headers = _token(db, Scope.INGEST)
    app_settings = client.app.state.settings  # type: ignore[attr-defined]
    client.app.state.settings = app_settings.model_copy(  # type: ignore[attr-defined]
        update={"monitoring_memory_limit": "1KB", "monitoring_spill_limit": "1KB"}
    )
    try:
        answer = client.post("/api/v1/access-events", json={"events": [event("p1", "N1")]}, headers=headers)
    finally:
        client.app.state.settings = app_settings  # type: ignore[attr-defined]
    assert answer.status_code == 503
    (problem,) = answer.json()["detail"]
    assert problem["field"] == "events" and "Ingest fewer events at a time" in problem["problem"]
    assert stored_ids(settings) == []


@pytest.mark.parametrize(
    ("scopes", "status"), [((), 403), ((Scope.ACCESS_CHECK,), 403), ((Scope.INGEST,), 422)]
)
def test_push_api_needs_the_ingest_scope(
    client: TestClient, db: Session, scopes: tuple[Scope, ...], status: int
) -> None:
    headers = _token(db, *scopes) if scopes else {"authorization": "Bearer wrong"}
    answer = client.post("/api/v1/access-events", json={"events": []}, headers=headers)
    assert answer.status_code == (401 if not scopes else status)


def test_stored_count_matches_the_batches(db: Session, settings: Settings, folder: Path) -> None:
    monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    assert db.scalar(select(func.sum(AccessBatch.events))) == len(ROWS)


def test_an_ingest_in_progress_is_left_alone_by_recovery(
    db: Session, settings: Settings, folder: Path
) -> None:
    """A second ingest or run (here: recovery from the same session, before the commit) must neither
    publish nor discard files whose transaction has not finished: the ingest holds a claim on them."""
    store = monitoring.event_store(settings)
    summary = monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    monitoring.recover(db, store)
    assert stored_ids(settings) == [] and store.staged_ingests() == [summary.ingest_id]
    db.commit()
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)
    assert store.staged_ingests() == []


def test_a_recovery_between_the_open_and_the_lock_of_a_claim_loses_no_acknowledged_event(
    db: Session, settings: Settings, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's recover() runs between the ingest's open() of its lock file and its flock(): it
    claims that file, finds nothing staged, discards and deletes the file. The ingest's flock() then
    succeeds on the deleted file, locking nothing anyone else sees, and a later recover() (a detector run
    starting while the ingest is still going) took its staged files for a crash's and deleted them before
    the commit: ledger entries with no events. The claim now checks that it locked the file at the path."""
    store = monitoring.event_store(settings)
    raced = {"done": False}

    class RacingFcntl:
        LOCK_EX, LOCK_NB, LOCK_UN = fcntl.LOCK_EX, fcntl.LOCK_NB, fcntl.LOCK_UN

        @staticmethod
        def flock(descriptor: int, operation: int) -> None:
            path = os.readlink(f"/proc/self/fd/{descriptor}")
            if not raced["done"] and path.endswith(".lock") and os.sep + "staging" + os.sep in path:
                raced["done"] = True
                monitoring.recover(db, store)  # claims the ingest's lock file, discards, deletes it
            fcntl.flock(descriptor, operation)

    monkeypatch.setattr(events, "fcntl", RacingFcntl)
    original_record = monitoring._record_ingest

    def record(session: Session, *args: object, **kwargs: object) -> None:
        monitoring.recover(db, store)  # a detector run starts while the ingest is still going
        original_record(session, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(monitoring, "_record_ingest", record)
    summary = monitoring.ingest_files(db, settings, [write_events(folder, ROWS)], ACTOR)
    db.commit()
    assert raced["done"] and summary.stored == len(ROWS)
    assert db.scalar(select(func.sum(AccessBatch.events))) == len(ROWS)  # the ledger entries are there…
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)  # … and so are the events


def test_duckdb_keeps_to_its_memory_limit_and_spills_into_the_store(tmp_path: Path) -> None:
    con = events.connect(memory_limit="256MB", spill_dir=tmp_path / "spill")
    limit, spill = con.execute(
        "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
    ).fetchone()  # type: ignore[misc]
    assert limit == "244.1 MiB"  # 256 MB, as DuckDB prints it
    assert spill == str(tmp_path / "spill") and (tmp_path / "spill").is_dir()


def test_duckdb_spills_no_more_than_the_setting_nor_half_the_free_disk(settings: Settings) -> None:
    def spill_cap(spill_limit: str) -> str:
        with monitoring._duckdb(settings.model_copy(update={"monitoring_spill_limit": spill_limit})) as con:
            return str(con.execute("SELECT current_setting('max_temp_directory_size')").fetchone()[0])  # type: ignore[index]

    assert spill_cap("3GiB") == "3.0 GiB"
    free = shutil.disk_usage(settings.home).free
    cap = spill_cap("1000000TB")  # far more than any disk: half the free space instead
    number, unit = cap.split()
    assert float(number) * 1024 ** {"GiB": 3, "TiB": 4, "MiB": 2}[unit] <= free / 2 * 1.01


@pytest.mark.parametrize("limit", ["20GB", "1.5GiB", "512 MB", "1TB"])
def test_spill_limit_setting_takes_sizes(tmp_path: Path, limit: str) -> None:
    assert Settings(home=tmp_path, secret_key="k" * 32, monitoring_spill_limit=limit)


@pytest.mark.parametrize("limit", ["lots", "-1GB", "0", "50%", "4", "20GB; SET threads = 1"])
def test_spill_limit_setting_refuses_anything_else(tmp_path: Path, limit: str) -> None:
    with pytest.raises(ValueError, match="monitoring_spill_limit"):
        Settings(home=tmp_path, secret_key="k" * 32, monitoring_spill_limit=limit)


@pytest.mark.parametrize("limit", ["4GB", "512MB", "50%", "1.5GiB"])
def test_memory_limit_setting_accepts_sizes_and_shares(tmp_path: Path, limit: str) -> None:
    assert Settings(home=tmp_path, secret_key="k" * 32, monitoring_memory_limit=limit)


@pytest.mark.parametrize("limit", ["lots", "4", "-1GB", "4GB; SET threads = 1"])
def test_memory_limit_setting_refuses_anything_else(tmp_path: Path, limit: str) -> None:
    with pytest.raises(ValueError, match="monitoring_memory_limit"):
        Settings(home=tmp_path, secret_key="k" * 32, monitoring_memory_limit=limit)


# --------------------------------------------------------------------------- one ingest at a time


def test_two_ingests_in_one_transaction_store_an_event_once(
    db: Session, settings: Settings, folder: Path
) -> None:
    first = monitoring.ingest_files(db, settings, [write_events(folder, ROWS, "a.csv")], ACTOR)
    second = monitoring.ingest_files(db, settings, [write_events(folder, ROWS, "b.csv")], ACTOR)
    db.commit()
    assert (first.stored, second.stored, second.duplicates) == (len(ROWS), 0, len(ROWS))
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)


def test_a_second_ingest_waits_for_the_first_and_finds_its_events_stored(
    backend: str,
    new_database: Callable[[str], str],
    settings: Settings,
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A push retried while the first is still being stored must not store the events twice."""
    from custodes.kit.db import make_engine, make_session_factory

    monkeypatch.setattr(monitoring, "_INGEST_WAIT_SECONDS", 0.2)
    engine = make_engine(new_database(backend))
    factory = make_session_factory(engine)
    with factory() as first, factory() as retry:
        monitoring.ingest_files(first, settings, [write_events(folder, ROWS, "a.csv")], ACTOR)
        with pytest.raises(monitoring.StoreBusy, match="Another ingest is still storing"):
            monitoring.ingest_files(retry, settings, [write_events(folder, ROWS, "b.csv")], ACTOR)
        retry.rollback()
        first.commit()  # publishes the files and releases the store
        again = monitoring.ingest_files(retry, settings, [write_events(folder, ROWS, "c.csv")], ACTOR)
        retry.commit()
    assert (again.stored, again.duplicates) == (0, len(ROWS))
    assert stored_ids(settings) == sorted(r["event_id"] for r in ROWS)
    engine.dispose()
