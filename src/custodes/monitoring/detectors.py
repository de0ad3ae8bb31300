"""The misuse detectors of monitoring.md, as relational queries: one definition, run by DuckDB on one machine
and by Spark (PySpark) at national scale, over the same Parquet.

The SQL keeps to what both engines mean the same way: joins, CASE, window frames over integer days,
`median`, `min_by`, arithmetic and trigonometry. Times are compared as integer microseconds since the epoch
(`at_us`), days as integer day numbers, so no engine's timestamp or interval dialect is involved. Names are
compared through keys computed once in Python (kit/names.py), so the join tolerates the same variation as
the pre-access gate. Each name also has the keys of its other spelling where a part has letters English
writes two ways (`*_other`: Müller as "mueller", Đorđević as "djordjevic"; "" where it has none), and its
folded keys (`*_fold`, kit.names.fold_match_keys: the letters with every written-out ae oe ue aa dj read
as its plain letter, "=", then the letters as typed with "%" after each written two ways and "+" before
each written-out second letter: Hoey-Müller as "hoymuller=ho+eymu%ller", Hoey-Mueller as
"hoymuller=ho+eymu+eller"); a part matches by its first keys, or by its folded keys where one, as typed
("%" and "+" taken out), matches the other as a LIKE pattern ("+" taken out), or, where each has a "%",
each the other as a loose pattern (each "+" and its letter read as "%"): letter by letter, a letter
written two ways on either side read either way, the others as typed (kit.names.folds_alike,
same_surname, forenames_agree).

Reference tables (built by service.reference_tables), KEYS being surname_key, forename_key, joined_key,
surname_other, forename_other, joined_other, surname_fold, forename_fold, joined_fold:
  staff_ref(staff_id, team_id, KEYS, date_of_birth, home_postcode, home_lat, home_lon)
  nominal_ref(subject_id, KEYS, date_of_birth, postcode, lat, lon, public_figure, staff_id)
  cases(case_ref, team_id, opened_us, closed_us)  case_staff(case_ref, staff_id)
  case_subject(case_ref, subject_id)
  decl_ref(declaration_id, staff_id, relationship, subject_id, KEYS, date_of_birth, postcode)
  roster_day(staff_id, day_num, from_us, until_us)  -- duty periods (with grace) on each day they touch
  rostered(staff_id, from_us, until_us)             -- who has rosters, and over what span
  referral_ref(referral_id, staff_id, subject_id, from_us, until_us)
and `events`, the stored access events (events.STORED_COLUMNS).

An `event_id` can be stored twice (an upstream system re-sending it with another day: the ingest's
duplicate check reads only the days it touches). It is one access: `ev` keeps, within the window, the copy
stored first (lowest batch, then leaf), and every later step and count reads `ev`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pyarrow as pa

from custodes.kit.names import FOLD_LOOSE, FOLD_PATTERN, FOLD_TYPED

EARTH_RADIUS_M = 6_371_008.8
RELATIVES = ("relative", "partner", "ex_partner")
BAD_CITATIONS = ("missing", "not_involved", "not_theirs")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The detectors' settings (configuration screen; docs/monitoring.md)."""

    neighbour_m: int = 300
    household_m: int = 100
    repeat_days: int = 3
    repeat_window_days: int = 30
    volume_ratio: int = 5
    volume_minimum: int = 50
    off_duty_grace_minutes: int = 60
    alert_gap_days: int = 30


def _agree_keys(af: str, aj: str, bf: str, bj: str) -> str:
    """SQL: one spelling's first forename key and run-together key (`af`, `aj`) agree with another's."""
    return (
        f"({af} <> '' AND {bf} <> '' AND ("
        f"{af} = {bf}"
        f" OR (length({af}) = 1 AND (substr({bf}, 1, 1) = {af} OR substr({bj}, 1, 1) = {af}))"
        f" OR (length({bf}) = 1 AND (substr({af}, 1, 1) = {bf} OR substr({aj}, 1, 1) = {bf}))"
        f" OR {aj} = {bj}))"
    )


def _rewritten(column: str, rewrites: tuple[tuple[str, str], ...]) -> str:
    """SQL: kit.names.rewritten, as nested replace() (the rewrites are letters and marks, no quotes)."""
    for old, new in rewrites:
        column = f"replace({column}, '{old}', '{new}')"
    return column


def _folds_alike(a: str, b: str) -> str:
    """SQL: two folded keys match, as kit.names.folds_alike says: one, as typed, LIKE the other as a
    pattern; or, where each holds a "%" (writes some letter two ways), each as typed LIKE the other as a
    loose pattern (letter by letter: no letter typed plain on one side and written out on the other, a
    letter written two ways on either side read either way)."""
    typed_a, typed_b = _rewritten(a, FOLD_TYPED), _rewritten(b, FOLD_TYPED)
    return (
        f"({typed_b} LIKE {_rewritten(a, FOLD_PATTERN)} OR {typed_a} LIKE {_rewritten(b, FOLD_PATTERN)}"
        f" OR (replace({a}, '%', '') <> {a} AND replace({b}, '%', '') <> {b}"
        f" AND {typed_a} LIKE {_rewritten(b, FOLD_LOOSE)} AND {typed_b} LIKE {_rewritten(a, FOLD_LOOSE)}))"
    )


def _agree(a: str, b: str) -> str:
    """SQL: the first forenames agree exactly as kit.names.forenames_agree says: the same key, one an initial
    of the other's key or of its forenames as written (joined_key: "K" is Karl's initial though Karl's key is
    "carl"), or the forenames run together the same; or the first forenames, or the forenames run together,
    match by their folded keys (a letter written two ways on either side read either way, the others as
    typed)."""
    first = _agree_keys(f"{a}.forename_key", f"{a}.joined_key", f"{b}.forename_key", f"{b}.joined_key")
    folded = (
        f"({a}.forename_key <> '' AND {b}.forename_key <> '' AND"
        f" ({_folds_alike(f'{a}.forename_fold', f'{b}.forename_fold')}"
        f" OR {_folds_alike(f'{a}.joined_fold', f'{b}.joined_fold')}))"
    )
    return f"({first} OR {folded})"


def _same_surname(a: str, b: str) -> str:
    """SQL: the same surname as kit.names.same_surname says: the same key, or matching folded keys (letter
    by letter: Hoey-Müller is Hoey-Mueller, not Hoy-Muller)."""
    return (
        f"({a}.surname_key <> '' AND ({a}.surname_key = {b}.surname_key"
        f" OR {_folds_alike(f'{a}.surname_fold', f'{b}.surname_fold')}))"
    )


def _same_person(a: str, b: str, a_postcode: str = "postcode") -> str:
    """SQL: by name as kit.names.same_person says: the same surname key, agreeing forenames, and the same
    date of birth or the same (normalised) postcode. A name alone never is: a NULL date or postcode equals
    nothing. `b` is a nominal_ref row; `a_postcode` names `a`'s postcode column."""
    return (
        f"({_same_surname(a, b)} AND {_agree(a, b)}"
        f" AND ({a}.date_of_birth = {b}.date_of_birth OR {a}.{a_postcode} = {b}.postcode))"
    )


def _declared_by_name_only(d: str, n: str) -> str:
    """SQL: a person declared by name alone (no subject id, date of birth or postcode) matches a nominal of
    that full name, as workforce.service.declared_matches says: the same surname and agreeing forenames
    (`_same_surname`, `_agree`, the keys every other branch uses), whatever the nominal's date of birth or
    postcode; a declared initial stands for no name but that initial (else "J Smith" would be every
    John, Jane and Jo Smith). `d` is a decl_ref row, `n` a nominal_ref row."""
    return (
        f"(coalesce({d}.subject_id, '') = '' AND {d}.date_of_birth IS NULL"
        f" AND coalesce({d}.postcode, '') = ''"
        f" AND {d}.forename_key <> '' AND {_same_surname(d, n)} AND {_agree(d, n)}"
        f" AND (length({d}.forename_key) > 1 OR {d}.forename_key = {n}.forename_key))"
    )


def _distance(lat1: str, lon1: str, lat2: str, lon2: str) -> str:
    """SQL: great-circle distance in metres (haversine), NULL when a position is missing."""
    half_chord = (
        f"power(sin(radians({lat2} - {lat1}) / 2), 2) + cos(radians({lat1})) * cos(radians({lat2})) "
        f"* power(sin(radians({lon2} - {lon1}) / 2), 2)"
    )
    return (
        f"CASE WHEN {lat1} IS NULL OR {lat2} IS NULL THEN NULL "
        f"ELSE 2 * {EARTH_RADIUS_M} * asin(sqrt(least(1.0, {half_chord}))) END"
    )


def steps(window: tuple[int, int], limits: Thresholds) -> list[tuple[str, str]]:
    """The detector queries, in order: (name, SELECT). Each result is kept as a table of that name."""
    start, end = window
    return [
        (
            "ev",
            f"""
            SELECT e.event_id, e.at_us, e.day_num, e.system, e.staff_id, e.action, e.subject_id,
                   e.case_ref, e.batch_id, s.team_id
            FROM (SELECT event_id, at_us, day_num, system, staff_id, action, subject_id, case_ref, batch_id,
                         row_number() OVER (PARTITION BY event_id ORDER BY batch_id, leaf) AS copy
                  FROM events WHERE at_us >= {start} AND at_us < {end}) e
            LEFT JOIN staff_ref s ON s.staff_id = e.staff_id
            WHERE e.copy = 1
            """,
        ),
        (
            "assigned",
            """
            SELECT e.event_id, min(c.case_ref) AS case_ref
            FROM ev e
            JOIN case_staff cs ON cs.staff_id = e.staff_id
            JOIN case_subject cj ON cj.case_ref = cs.case_ref AND cj.subject_id = e.subject_id
            JOIN cases c ON c.case_ref = cs.case_ref
            WHERE c.opened_us <= e.at_us AND (c.closed_us IS NULL OR e.at_us <= c.closed_us)
            GROUP BY e.event_id
            """,
        ),
        (
            "team_case",
            """
            SELECT e.event_id, min(c.case_ref) AS case_ref
            FROM ev e
            JOIN cases c ON c.team_id = e.team_id
            JOIN case_subject cj ON cj.case_ref = c.case_ref AND cj.subject_id = e.subject_id
            WHERE c.opened_us <= e.at_us AND (c.closed_us IS NULL OR e.at_us <= c.closed_us)
            GROUP BY e.event_id
            """,
        ),
        (
            "cited",
            """
            SELECT e.event_id,
                   CASE WHEN c.case_ref IS NULL THEN 'missing'
                        WHEN e.subject_id IS NOT NULL AND cj.case_ref IS NULL THEN 'not_involved'
                        WHEN cs.case_ref IS NULL AND (c.team_id IS NULL OR e.team_id IS NULL
                                                      OR c.team_id <> e.team_id) THEN 'not_theirs'
                        WHEN c.opened_us > e.at_us OR (c.closed_us IS NOT NULL AND e.at_us > c.closed_us)
                             THEN 'not_open'
                        ELSE 'valid' END AS cited_state
            FROM ev e
            LEFT JOIN cases c ON c.case_ref = e.case_ref
            LEFT JOIN case_subject cj ON cj.case_ref = e.case_ref AND cj.subject_id = e.subject_id
            LEFT JOIN case_staff cs ON cs.case_ref = e.case_ref AND cs.staff_id = e.staff_id
            WHERE e.case_ref IS NOT NULL AND e.case_ref <> ''
            """,
        ),
        (
            "referred",
            """
            SELECT e.event_id, min(r.referral_id) AS referral_id
            FROM ev e JOIN referral_ref r ON r.staff_id = e.staff_id AND r.subject_id = e.subject_id
            WHERE r.from_us <= e.at_us AND e.at_us <= r.until_us
            GROUP BY e.event_id
            """,
        ),
        (
            "explained",
            """
            SELECT e.event_id,
                   CASE WHEN e.subject_id IS NULL THEN 'no_person'
                        WHEN ct.cited_state = 'valid' THEN 'cited_case'
                        WHEN a.event_id IS NOT NULL THEN 'assigned_case'
                        WHEN t.event_id IS NOT NULL THEN 'team_case'
                        WHEN r.event_id IS NOT NULL THEN 'referral'
                        END AS explanation,
                   CASE WHEN ct.cited_state = 'valid' THEN e.case_ref
                        WHEN a.event_id IS NOT NULL THEN a.case_ref
                        WHEN t.event_id IS NOT NULL THEN t.case_ref
                        WHEN r.event_id IS NOT NULL THEN CAST(r.referral_id AS STRING)
                        END AS explained_by,
                   ct.cited_state
            FROM ev e
            LEFT JOIN cited ct ON ct.event_id = e.event_id
            LEFT JOIN assigned a ON a.event_id = e.event_id
            LEFT JOIN team_case t ON t.event_id = e.event_id
            LEFT JOIN referred r ON r.event_id = e.event_id
            """,
        ),
        (
            "pair",
            "SELECT DISTINCT staff_id, subject_id FROM ev WHERE subject_id IS NOT NULL",
        ),
        (
            # The declarations matching each pair's subject: by the declared id; by name with the date of
            # birth or postcode (_same_person); or, declared by name alone, by the full name
            # (_declared_by_name_only, as the pre-access gate matches them: workforce declared_matches).
            "declared",
            f"""
            SELECT p.staff_id, p.subject_id, min(d.declaration_id) AS declaration_id,
                   min_by(d.relationship, d.declaration_id) AS relationship,
                   max(CASE WHEN d.relationship IN {RELATIVES} THEN 1 ELSE 0 END) AS declared_relative
            FROM pair p
            JOIN decl_ref d ON d.staff_id = p.staff_id
            LEFT JOIN nominal_ref n ON n.subject_id = p.subject_id
            WHERE d.subject_id = p.subject_id
               OR (n.subject_id IS NOT NULL
                   AND ({_same_person("d", "n")} OR {_declared_by_name_only("d", "n")}))
            GROUP BY p.staff_id, p.subject_id
            """,
        ),
        (
            # The member of staff each nominal is by name, as SELF knows the searcher (_same_person: agreeing
            # names and the same date of birth or home postcode); the lowest staff id if several. Two
            # equi-joins (on the date, on the postcode), so the cost grows with the matches, never with
            # nominals x staff.
            "nominal_staff",
            f"""
            SELECT subject_id, min(staff_id) AS staff_id
            FROM (SELECT n.subject_id, s.staff_id
                  FROM nominal_ref n JOIN staff_ref s ON s.date_of_birth = n.date_of_birth
                  WHERE {_same_person("s", "n", a_postcode="home_postcode")}
                  UNION
                  SELECT n.subject_id, s.staff_id
                  FROM nominal_ref n JOIN staff_ref s ON s.home_postcode = n.postcode
                  WHERE {_same_person("s", "n", a_postcode="home_postcode")}) m
            GROUP BY subject_id
            """,
        ),
        (
            # nominal_staff_id: the member of the workforce the nominal is, by its `staff:` flag or else by
            # name (nominal_staff). When that is the searcher, is_self holds (by the same match), and
            # COLLEAGUE (pair_rules) does not.
            "pair_facts",
            f"""
            SELECT p.staff_id, p.subject_id, coalesce(n.staff_id, ns.staff_id) AS nominal_staff_id,
                   CASE WHEN n.public_figure THEN 1 ELSE 0 END AS public_figure,
                   CASE WHEN {_same_surname("s", "n")} THEN 1 ELSE 0 END AS same_surname,
                   CASE WHEN s.home_postcode = n.postcode THEN 1 ELSE 0 END AS same_postcode,
                   {_distance("s.home_lat", "s.home_lon", "n.lat", "n.lon")} AS distance_m,
                   CASE WHEN n.staff_id = p.staff_id OR {_same_person("s", "n", a_postcode="home_postcode")}
                        THEN 1 ELSE 0 END AS is_self,
                   d.declaration_id, d.relationship, coalesce(d.declared_relative, 0) AS declared_relative
            FROM pair p
            JOIN staff_ref s ON s.staff_id = p.staff_id
            LEFT JOIN nominal_ref n ON n.subject_id = p.subject_id
            LEFT JOIN declared d ON d.staff_id = p.staff_id AND d.subject_id = p.subject_id
            LEFT JOIN nominal_staff ns ON ns.subject_id = p.subject_id
            """,
        ),
        (
            "pair_rules",
            f"""
            SELECT staff_id, subject_id, distance_m, same_postcode, same_surname, declaration_id,
                   relationship, nominal_staff_id, is_self,
                   CASE WHEN is_self = 0 AND nominal_staff_id IS NOT NULL THEN 1 ELSE 0 END AS colleague,
                   CASE WHEN is_self = 0 AND (declared_relative = 1 OR (same_surname = 1
                        AND (same_postcode = 1 OR distance_m <= {limits.household_m}))) THEN 1 ELSE 0 END
                       AS relative,
                   CASE WHEN is_self = 0 AND (same_postcode = 1 OR distance_m <= {limits.neighbour_m})
                        THEN 1 ELSE 0 END AS neighbour,
                   CASE WHEN declaration_id IS NOT NULL THEN 1 ELSE 0 END AS declared,
                   public_figure
            FROM pair_facts
            WHERE is_self = 1 OR nominal_staff_id IS NOT NULL OR declaration_id IS NOT NULL
               OR public_figure = 1 OR same_postcode = 1
               OR distance_m <= {max(limits.neighbour_m, limits.household_m)}
            """,
        ),
        (
            "off_duty",
            """
            SELECT e.event_id
            FROM ev e
            JOIN rostered w ON w.staff_id = e.staff_id AND w.from_us <= e.at_us AND e.at_us <= w.until_us
            LEFT JOIN roster_day r ON r.staff_id = e.staff_id AND r.day_num = e.day_num
                                  AND r.from_us <= e.at_us AND e.at_us <= r.until_us
            GROUP BY e.event_id
            HAVING count(r.staff_id) = 0
            """,
        ),
        (
            "repeated",
            f"""
            WITH unexplained_days AS (
                SELECT DISTINCT e.staff_id, e.subject_id, e.day_num
                FROM ev e JOIN explained x ON x.event_id = e.event_id
                WHERE x.explanation IS NULL),
            counted AS (
                SELECT staff_id, subject_id, day_num,
                       count(*) OVER (PARTITION BY staff_id, subject_id ORDER BY day_num
                                      RANGE BETWEEN {limits.repeat_window_days - 1} PRECEDING AND CURRENT ROW)
                           AS days_in_window
                FROM unexplained_days),
            marked AS (
                SELECT staff_id, subject_id, day_num,
                       max(CASE WHEN days_in_window >= {limits.repeat_days} THEN 1 ELSE 0 END)
                           OVER (PARTITION BY staff_id, subject_id ORDER BY day_num
                                 RANGE BETWEEN CURRENT ROW AND {limits.repeat_window_days - 1} FOLLOWING)
                           AS in_pattern
                FROM counted)
            SELECT staff_id, subject_id, day_num FROM marked WHERE in_pattern = 1
            """,
        ),
        (
            "volume",
            f"""
            WITH daily AS (
                SELECT staff_id, team_id, day_num, count(*) AS searches
                FROM ev WHERE action = 'search' GROUP BY staff_id, team_id, day_num),
            own AS (SELECT staff_id, median(searches) AS own_median FROM daily GROUP BY staff_id),
            peers AS (SELECT team_id, median(searches) AS team_median FROM daily GROUP BY team_id)
            SELECT d.staff_id, d.day_num, d.searches, o.own_median, p.team_median
            FROM daily d JOIN own o ON o.staff_id = d.staff_id
            LEFT JOIN peers p ON p.team_id = d.team_id
            WHERE d.searches >= {limits.volume_minimum}
              AND d.searches >= {limits.volume_ratio} * o.own_median
              AND (p.team_median IS NULL OR d.searches >= {limits.volume_ratio} * p.team_median)
            """,
        ),
    ]


# What is fetched: the flagged accesses with everything the alert needs, the volume days, the counts.
# EVENT_FACTS: every access with what the rules found about it (`explain` reads one access's);
# FLAGGED: those that may raise an alert.
EVENT_FACTS = """
SELECT e.event_id, e.at_us, e.day_num, e.staff_id, e.subject_id, e.system, e.action, e.case_ref,
       e.batch_id, e.team_id, x.explanation, x.explained_by, x.cited_state,
       coalesce(pr.is_self, 0) AS is_self, coalesce(pr.relative, 0) AS relative,
       coalesce(pr.neighbour, 0) AS neighbour, coalesce(pr.declared, 0) AS declared,
       coalesce(pr.colleague, 0) AS colleague, coalesce(pr.public_figure, 0) AS public_figure,
       pr.distance_m, coalesce(pr.same_postcode, 0) AS same_postcode,
       coalesce(pr.same_surname, 0) AS same_surname, pr.declaration_id, pr.relationship,
       pr.nominal_staff_id,
       CASE WHEN od.event_id IS NOT NULL THEN 1 ELSE 0 END AS off_duty,
       CASE WHEN rp.staff_id IS NOT NULL THEN 1 ELSE 0 END AS repeated
FROM ev e
JOIN explained x ON x.event_id = e.event_id
LEFT JOIN pair_rules pr ON pr.staff_id = e.staff_id AND pr.subject_id = e.subject_id
LEFT JOIN off_duty od ON od.event_id = e.event_id
LEFT JOIN repeated rp ON rp.staff_id = e.staff_id AND rp.subject_id = e.subject_id
                     AND rp.day_num = e.day_num
"""
FLAGGED = f"""{EVENT_FACTS}
WHERE pr.staff_id IS NOT NULL
   OR x.cited_state IN {BAD_CITATIONS}
   OR rp.staff_id IS NOT NULL
   OR (od.event_id IS NOT NULL AND x.explanation IS NULL)
"""

VOLUME_EVENTS = """
SELECT e.event_id, e.at_us, e.day_num, e.staff_id, e.system, e.action, e.batch_id, e.team_id,
       v.searches, v.own_median, v.team_median
FROM ev e JOIN volume v ON v.staff_id = e.staff_id AND v.day_num = e.day_num
WHERE e.action = 'search'
"""

COUNTS = """
SELECT count(*) AS events,
       sum(CASE WHEN x.explanation = 'no_person' THEN 0 ELSE 1 END) AS about_people,
       sum(CASE WHEN x.explanation IS NULL OR x.explanation = 'no_person' THEN 0 ELSE 1 END) AS explained,
       sum(CASE WHEN x.explanation = 'cited_case' THEN 1 ELSE 0 END) AS cited_case,
       sum(CASE WHEN x.explanation = 'assigned_case' THEN 1 ELSE 0 END) AS assigned_case,
       sum(CASE WHEN x.explanation = 'team_case' THEN 1 ELSE 0 END) AS team_case,
       sum(CASE WHEN x.explanation = 'referral' THEN 1 ELSE 0 END) AS referral
FROM explained x
"""


class Engine(Protocol):
    """Where the queries run: DuckDB here, Spark at national scale (spark.py)."""

    def load(self, name: str, table: pa.Table) -> None: ...

    def load_events(self, events_dir: str | None) -> None: ...

    def keep(self, name: str, select: str) -> None: ...

    def rows(self, select: str) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Findings:
    flagged: list[dict[str, Any]]
    volume: list[dict[str, Any]]
    counts: dict[str, int]


def evaluate(engine: Engine, references: Mapping[str, pa.Table], events_dir: str | None,
             window: tuple[int, int], limits: Thresholds,
             phase: Callable[[str], None] | None = None) -> Findings:  # fmt: skip
    """Run every detector over the events in the window [start, end) (microseconds since the epoch).

    `phase`, if given, is told each phase as it starts: `PHASES_AROUND_STEPS` of them plus one per detector
    query (`steps`), for a progress bar."""
    tell = phase or (lambda _what: None)
    tell("Loading the reference data")
    for name, table in references.items():
        engine.load(name, table)
    tell("Loading the accesses")
    engine.load_events(events_dir)
    for name, select in steps(window, limits):
        tell(f"Detector: {name}")
        engine.keep(name, select)
    tell("Collecting the findings")
    counts = {key: int(value or 0) for key, value in engine.rows(COUNTS)[0].items()}
    return Findings(engine.rows(FLAGGED), engine.rows(VOLUME_EVENTS), counts)


PHASES_AROUND_STEPS = 3  # the phases `evaluate` reports besides one per detector query


def phase_count() -> int:
    """How many phases `evaluate` reports (the number of detector queries depends on no setting)."""
    return len(steps((0, 0), Thresholds())) + PHASES_AROUND_STEPS


class DuckEngine:
    """DuckDB over the Parquet store; reference tables registered straight from Arrow."""

    def __init__(self, con: Any) -> None:
        self.con = con

    def load(self, name: str, table: pa.Table) -> None:
        self.con.register(f"{name}_arrow", table)
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_arrow")

    def load_events(self, events_dir: str | None) -> None:
        if events_dir is None:
            columns = ", ".join(f"NULL::{kind} AS {name}" for name, kind in _EMPTY_EVENTS)
            self.con.execute(f"CREATE OR REPLACE TEMP VIEW events AS SELECT {columns} WHERE false")
        else:
            self.con.execute(
                "CREATE OR REPLACE TEMP VIEW events AS SELECT * FROM "
                f"read_parquet('{events_dir}/*/*.parquet', hive_partitioning = true)"
            )

    def keep(self, name: str, select: str) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {select}")

    def rows(self, select: str) -> list[dict[str, Any]]:
        cursor = self.con.execute(select)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


_EMPTY_EVENTS = (
    ("event_id", "VARCHAR"),
    ("at_us", "BIGINT"),
    ("day_num", "INTEGER"),
    ("system", "VARCHAR"),
    ("staff_id", "VARCHAR"),
    ("action", "VARCHAR"),
    ("subject_id", "VARCHAR"),
    ("case_ref", "VARCHAR"),
    ("batch_id", "VARCHAR"),
    ("leaf", "INTEGER"),
)
