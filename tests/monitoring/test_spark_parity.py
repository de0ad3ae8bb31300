"""monitoring.md: the same detector definitions run on Spark (local mode) over the same Parquet give the same
alerts as DuckDB."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from custodes.monitoring import service as monitoring
from custodes.settings import Settings
from tests.monitoring.world import event, ingest, load_lookalikes, load_name_only, load_world

pytest.importorskip("pyspark")
if shutil.which("java") is None:  # scripts/test installs a Java runtime; say so rather than pass quietly
    pytest.fail("Spark needs a Java runtime (java not found): run scripts/test", pytrace=False)

from custodes.monitoring import spark

# Every rule, a grouped pattern, an explained relationship, a volume day and accesses that raise nothing.
ROWS = [
    event("s1", "N-SELF"),
    event("s2", "N-REL", hour=11),
    event("s3", "N-NB", day=1),
    event("s4", "N-NB", day=4),
    event("s5", "N-DECL", day=2),
    event("s6", "N-COL", day=2, hour=12),
    event("s7", "N-PUB", hour=3),
    event("s8", "N-CASE", case_ref="C-404", day=3),
    event("s9", "N-RAND", day=5),
    event("s10", "N-RAND", day=6),
    event("s11", "N-RAND", day=8),
    event("s12", "N-NBCASE", day=6),
    event("s13", "N-CASE", day=6, hour=14),
    event("s14", "N-TEAM", day=7, hour=15),
    event("s15", "N-FAR", day=7, hour=16),
    event("s16", "N-KSMITH", day=8, staff="S4"),  # SELF by an initial as written and the date of birth
    event("s17", "N-HOME", day=8, hour=11),  # SELF by name and home postcode
    event("s18", "N-NAMESAKE", day=8, hour=12),  # the name alone: nothing
    event("s19", "N-KSMITH", day=8, hour=13),  # COLLEAGUE by name (S4's record) without the staff flag
    *(event(f"v{d}-{i}", None, day=d, action="search", minute=i) for d in range(1, 8) for i in range(8)),
    *(
        event(f"w{d}-{i}", None, day=d, action="search", staff="S2", minute=i)
        for d in range(8)
        for i in range(8)
    ),
    *(event(f"x{i}", None, day=0, action="search", hour=8 + i // 60, minute=i % 60) for i in range(90)),
]


def test_spark_finds_exactly_the_alerts_duckdb_finds(
    db: Session, settings: Settings, tmp_path: Path, backend: str
) -> None:
    if backend != "sqlite":
        pytest.skip("Spark reads the same Parquet whatever the database: one run (on SQLite) is enough")
    load_world(db)
    load_lookalikes(db)
    load_name_only(db)  # people declared by name alone: the `declared` step's _declared_by_name_only
    folder = tmp_path / "in"
    folder.mkdir()
    by_name = [
        event("n1", "N-ADAM", day=9),  # S1's Adam Thompson, declared by name alone
        event("n2", "N-ADAMJ", day=9, hour=11),  # the same full name, another record
        event("n3", "N-BRIAN", day=9, hour=12),  # another forename: nothing
        event("n4", "N-ROBERT", day=9, staff="S2"),  # not S2's old initial "R": nothing
        event("n5", "N-RW", day=9, hour=11, staff="S2"),  # that initial
    ]
    ingest(db, settings, folder, [*ROWS, *by_name])
    duck_alerts, duck_counts = monitoring.find_alerts(db, settings)
    with spark.local_session() as session:
        spark_alerts, spark_counts = monitoring.find_alerts(db, settings, engine=spark.SparkEngine(session))
    assert len(duck_alerts) >= 9  # the world raises every kind of alert
    assert {rule for a in duck_alerts for rule in a.rules} >= {
        "SELF", "RELATIVE_OR_HOUSEHOLD", "NEIGHBOUR", "DECLARED_CONFLICT", "COLLEAGUE", "PUBLIC_FIGURE",
        "UNEXPLAINED", "CASE_MISMATCH", "REPEATED_INTEREST", "VOLUME_ANOMALY", "OFF_DUTY",
    }  # fmt: skip
    assert {a.subject_id for a in duck_alerts if "SELF" in a.rules} == {"N-SELF", "N-KSMITH", "N-HOME"}
    assert {(a.staff_id, a.subject_id) for a in duck_alerts if "COLLEAGUE" in a.rules} == {
        ("S1", "N-COL"),
        ("S1", "N-KSMITH"),
    }
    assert {(a.staff_id, a.subject_id) for a in duck_alerts if "DECLARED_CONFLICT" in a.rules} == {
        ("S1", "N-DECL"),
        ("S1", "N-ADAM"),
        ("S1", "N-ADAMJ"),
        ("S2", "N-RW"),
    }
    assert [a.as_json() for a in spark_alerts] == [a.as_json() for a in duck_alerts]
    assert spark_counts == duck_counts


def test_spark_matches_names_as_duckdb_and_the_gate_do() -> None:
    """The name match (detectors._same_person: the first keys, and the folded keys read as typed, as a
    pattern and as a loose pattern through replace() and LIKE) says on Spark what it says on DuckDB and
    what kit.names.same_person says, over the grid of spellings of tests/monitoring/test_detectors.py
    (Mac/Mc/M', æ and œ either way, each part of a hyphenated name on its own)."""
    from datetime import date

    import duckdb
    import pyarrow as pa

    from custodes.kit.names import PersonKey, same_person
    from custodes.monitoring import detectors
    from tests.monitoring.test_detectors import SURNAMES

    keys = [monitoring._name_keys(name, "Hans") for name in SURNAMES]
    columns = [name for name, _type in monitoring._KEYS]
    table = pa.table(
        {
            "name": list(SURNAMES),
            **{column: [row[i] for row in keys] for i, column in enumerate(columns)},
            "date_of_birth": [date(1980, 1, 1)] * len(SURNAMES),
            "postcode": pa.array([None] * len(SURNAMES), pa.string()),
        }
    )
    select = (
        f"SELECT a.name AS one, b.name AS other, CASE WHEN {detectors._same_person('a', 'b')} THEN 1 ELSE 0"
        " END AS said FROM people a CROSS JOIN people b"
    )
    duck = duckdb.connect()
    duck.register("people", table)
    on_duckdb = {(one, other): bool(said) for one, other, said in duck.execute(select).fetchall()}
    with spark.local_session() as session:
        engine = spark.SparkEngine(session)
        engine.load("people", table)
        on_spark = {(row["one"], row["other"]): bool(row["said"]) for row in engine.rows(select)}
    people = {n: PersonKey.of(None, n, "Hans", date(1980, 1, 1), None) for n in SURNAMES}
    expected = {(a, b): same_person(people[a], people[b]) for a in SURNAMES for b in SURNAMES}
    assert on_spark == on_duckdb == expected
    assert on_spark["Müller-Djordjevic", "Mueller-Đorđević"] and on_spark["M'Donald", "MacDonald"]
    assert on_spark["Sæbø", "Sabo"] and not on_spark["Mack", "Mc K"] and not on_spark["Maas", "Maes"]
