"""Synthetic police forces for testing, demonstrating and benchmarking misuse detection (monitoring.md).

`generate(ForceSpec(...))` builds, deterministically for a seed, everything the monitoring rules read — staff,
nominals, cases, rosters and declarations, as rows of strings ready for `custodes.imports.load_records` — and
a stream of access events:

- legitimate work, inside rostered shifts: assigned staff on their open cases, team-mates picking up a
  colleague's case, searches that found nobody, and a thin scatter (about 2.5%) of quick checks no case
  explains, each to a different person; analysts search several times an officer's volume every day;
- labelled misuse (`Incident`), a few events each, of every rule pattern but UNEXPLAINED (`PATTERNS`: that
  rule raises an alert only with another, so it comes with most incidents and is never injected alone);
- labelled hard negatives (`SyntheticForce.hard_negatives`): legitimate events that look suspicious.

Legitimate events never touch a nominal that lives near the searcher (or any member of the team whose case
it is), a member of the workforce, a public figure or a declared person, except the few labelled
`neighbour_via_case` hard negatives. Postcodes follow a ~280 m grid, so a postcode unit is a place.

Reference data is built eagerly. Legitimate events are built lazily with numpy, in chunks of about
`ForceSpec.chunk_rows` rows, each chunk a function of the seed and its number only: `event_tables()` can be
iterated any number of times and 100 million events are never in memory at once. The injected and
hard-negative events come last, in one table (also built from arrays), with the highest event ids.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from custodes.kit.names import forename_tokens, surname_key
from custodes.kit.tabular import normalise_postcode
from custodes.monitoring.demo import STREETS, TOWNS, post_town
from custodes.monitoring.schemas import EVENT_COLUMNS, STAFF_FLAG_PREFIX, Action, NominalFlag, Rule
from custodes.workforce.demo import AREA_TEAMS, AREAS, FORCE_TEAMS, FORENAMES, STAFF_KINDS, SURNAMES
from custodes.workforce.schemas import STAFF_COLUMNS, DeclarationKind, Relationship

__all__ = [
    "EVENT_SCHEMA",
    "HARD_NEGATIVE_KINDS",
    "PATTERNS",
    "ForceSpec",
    "Incident",
    "SyntheticForce",
    "generate",
]

EVENT_SCHEMA = pa.schema(
    [
        pa.field(name, pa.timestamp("us", tz="UTC") if name == "occurred_at" else pa.string())
        for name in EVENT_COLUMNS
    ]
)
# The misuse patterns injected: every rule code but UNEXPLAINED (which accompanies most of them).
PATTERNS: tuple[str, ...] = tuple(rule.value for rule in Rule if rule is not Rule.UNEXPLAINED)
HARD_NEGATIVE_KINDS = (
    "common_surname_far",
    "analyst_volume",
    "night_shift",
    "teammate_case",
    "neighbour_via_case",
)

_Ints = npt.NDArray[np.int64]
_Floats = npt.NDArray[np.float64]
_Bools = npt.NDArray[np.bool_]

DAY = 86_400
HOUR = 3_600
try:
    _LONDON: tzinfo = ZoneInfo("Europe/London")  # shifts start at local times; rosters carry the offset
except ZoneInfoNotFoundError:  # no time zone database: UTC throughout
    _LONDON = UTC
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_M_PER_DEGREE = 111_195.0
# The postcode grid around each area's centre: 3 x 3 districts of 40 x 40 cells of about 280 m.
_BOX_LAT, _BOX_LON = 0.15, 0.24
_CELL_LAT, _CELL_LON = 0.0025, 0.004
_DISTRICT_CELLS = 40
# Legitimate accesses keep this far from the searcher's home (the NEIGHBOUR rule's default is 300 m).
_CLEAR_METRES = 450.0
_COMMON_SURNAMES = tuple(SURNAMES[:10])
_MC_SURNAMES = ("McDonald", "McKenzie", "McLeod", "McGregor", "McCarthy", "McIntyre")
_SYSTEMS = ("Athena", "PNC", "PND", "Genesis", "Storm")
_SYSTEM_P = (0.45, 0.30, 0.10, 0.10, 0.05)
_ACTIONS = tuple(action.value for action in Action)  # search, view, update, print, export
_ACTION_P = (0.28, 0.55, 0.10, 0.04, 0.03)
_SEARCH = _ACTIONS.index(Action.SEARCH.value)
# Event paths of legitimate work.
_OWN, _TEAM, _NULL, _CHECK = 0, 1, 2, 3
_CHECK_SHARE = 0.025


# --------------------------------------------------------------------------- public API


@dataclass(frozen=True)
class ForceSpec:
    seed: int = 7
    staff: int = 300  # ignored when staff_rows are given
    days: int = 60
    end: date = date(2026, 11, 1)  # events run over the `days` days before `end` (UTC midnights)
    events: int | None = None  # target number of access events; None = realistic volume from staff x shifts
    start_number: int = 1  # id offset so generated ids never clash with other demo data
    incidents_per_pattern: int | None = None  # None: scaled with events (8 at about 150,000 events)
    chunk_rows: int = 1_000_000  # about this many rows in each table event_tables() yields


@dataclass(frozen=True)
class Incident:
    """A label: one injected misuse pattern."""

    incident_id: str
    pattern: str  # one of PATTERNS (monitoring rule codes)
    staff_id: str
    subject_id: str | None  # None for VOLUME_ANOMALY
    event_ids: tuple[str, ...]  # the injected events
    detail: str = ""  # how it was made, in words


@dataclass
class SyntheticForce:
    staff: list[dict[str, str]]  # STAFF_COLUMNS
    nominals: list[dict[str, str]]  # NOMINAL_COLUMNS + address
    cases: list[dict[str, str]]  # CASE_COLUMNS
    rosters: list[dict[str, str]]  # ROSTER_COLUMNS
    declarations: list[dict[str, str]]  # DECLARATION_COLUMNS
    incidents: list[Incident]
    hard_negatives: dict[str, tuple[str, ...]]  # HARD_NEGATIVE_KINDS -> legitimate event ids
    spec: ForceSpec = field(default_factory=ForceSpec)
    plan: _Plan | None = field(default=None, repr=False, compare=False)

    def event_tables(self) -> Iterator[pa.Table]:
        """Every event, in tables of about `spec.chunk_rows` rows (EVENT_SCHEMA): the legitimate events by
        shift start (sorted by time within a table), then one table of injected and hard-negative events."""
        if self.plan is None:
            return
        yield from self.plan.tables()

    def write_events(
        self, directory: Path, fmt: str = "parquet", rows_per_file: int = 1_000_000
    ) -> list[Path]:
        """Write every event to `directory` as events-00001.<fmt>, … of `rows_per_file` rows each.
        `fmt`: parquet, csv or jsonl; CSV and JSON Lines have EVENT_COLUMNS and ISO 8601 times with offset."""
        if fmt not in ("parquet", "csv", "jsonl"):
            raise ValueError(f"unknown format {fmt!r}: parquet, csv or jsonl")
        if rows_per_file < 1:
            raise ValueError("rows_per_file must be at least 1")
        directory.mkdir(parents=True, exist_ok=True)
        paths: list[Path] = []
        for number, parts in enumerate(_rebatch(self.event_tables(), rows_per_file), start=1):
            path = directory / f"events-{number:05d}.{fmt}"
            _write_file(path, fmt, parts)
            paths.append(path)
        return paths

    @property
    def injected_event_ids(self) -> frozenset[str]:
        return frozenset(event_id for incident in self.incidents for event_id in incident.event_ids)

    @property
    def event_count(self) -> int:
        return 0 if self.plan is None else self.plan.total

    @property
    def window(self) -> tuple[datetime, datetime]:
        """[start, end) of the events, UTC."""
        end = datetime.combine(self.spec.end, time(), UTC)
        return end - timedelta(days=self.spec.days), end


def generate(spec: ForceSpec, staff_rows: Sequence[Mapping[str, str]] | None = None) -> SyntheticForce:
    """A synthetic force for `spec`; around `staff_rows` (dicts with STAFF_COLUMNS) when given."""
    if spec.days < 1:
        raise ValueError("days must be at least 1")
    return _Builder(spec, staff_rows).build()


# --------------------------------------------------------------------------- writing events


def _rebatch(tables: Iterator[pa.Table], rows: int) -> Iterator[list[pa.Table]]:
    """Slices of the stream, `rows` rows per group (the last may be short)."""
    parts: list[pa.Table] = []
    held = 0
    for table in tables:
        offset = 0
        while offset < table.num_rows:
            take = min(rows - held, table.num_rows - offset)
            parts.append(table.slice(offset, take))
            offset += take
            held += take
            if held == rows:
                yield parts
                parts, held = [], 0
    if held:
        yield parts


def _as_text(table: pa.Table) -> pa.Table:
    """occurred_at as ISO 8601 text with offset (2026-10-01T08:15:02+00:00)."""
    seconds = pc.cast(table["occurred_at"], pa.timestamp("s", tz="UTC"), safe=False)
    text = pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S+00:00")
    return table.set_column(table.schema.get_field_index("occurred_at"), "occurred_at", text)


def _write_file(path: Path, fmt: str, parts: list[pa.Table]) -> None:
    if fmt == "parquet":
        with pq.ParquetWriter(path, EVENT_SCHEMA) as writer:
            for part in parts:
                writer.write_table(part)
        return
    events = pa.concat_tables([_as_text(part) for part in parts])
    options = "FORMAT CSV, HEADER TRUE" if fmt == "csv" else "FORMAT JSON"
    target = str(path).replace("'", "''")
    with duckdb.connect() as connection:
        connection.register("events", events)
        # The path is quoted above and the options are constants: nothing here comes from a user.
        connection.execute(f"COPY (SELECT * FROM events) TO '{target}' ({options})")  # noqa: S608


# --------------------------------------------------------------------------- geography


def _metres(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    """Distance in metres (equirectangular: exact enough within a county). NaN where a point is unknown."""
    k = np.cos(np.radians((np.asarray(lat1) + np.asarray(lat2)) / 2))
    return np.hypot((np.asarray(lat1) - lat2) * _M_PER_DEGREE, (np.asarray(lon1) - lon2) * _M_PER_DEGREE * k)


def _offset(lat: float, lon: float, metres: float, bearing: float) -> tuple[float, float]:
    north, east = metres * math.cos(bearing), metres * math.sin(bearing)
    return (
        lat + north / _M_PER_DEGREE,
        lon + east / (_M_PER_DEGREE * math.cos(math.radians(lat))),
    )


_AREA_LAT = np.array([area.lat for area in AREAS])
_AREA_LON = np.array([area.lon for area in AREAS])
# Town centres per area (offsets from the area centre), where most nominals live.
_TOWNS = ((0.02, -0.05), (-0.04, 0.06), (0.05, 0.09))


def _clip_to_grid(area: _Ints, lat: _Floats, lon: _Floats) -> tuple[_Floats, _Floats]:
    margin = 0.0005
    lat = np.clip(lat, _AREA_LAT[area] - _BOX_LAT + margin, _AREA_LAT[area] + _BOX_LAT - margin)
    lon = np.clip(lon, _AREA_LON[area] - _BOX_LON + margin, _AREA_LON[area] + _BOX_LON - margin)
    return lat, lon


def _cell(lat: _Floats, lon: _Floats) -> _Ints:
    """The grid cell (about 280 m square) of each point, as one number."""
    return np.floor(lat / _CELL_LAT).astype(np.int64) * 1_000_000 + np.floor(lon / _CELL_LON).astype(np.int64)


def _cells_around(lat: _Floats, lon: _Floats) -> _Ints:
    """Every cell within two cells of the points' cells: a place within _CLEAR_METRES of a point is in one
    (two cells are over 550 m)."""
    known = ~np.isnan(lat)
    centre = _cell(lat[known], lon[known])
    steps = np.array([dr * 1_000_000 + dc for dr in range(-2, 3) for dc in range(-2, 3)], dtype=np.int64)
    return np.unique((centre[:, None] + steps[None, :]).ravel())


def _grid_postcodes(area: _Ints, lat: _Floats, lon: _Floats) -> list[str]:
    """The postcode unit of each point: the area's outward codes over a 3 x 3 grid of districts, each of
    40 x 40 cells of about 280 m, every cell its own unit (two people share one only when close)."""
    cells = 3 * _DISTRICT_CELLS
    row = np.clip(((lat - (_AREA_LAT[area] - _BOX_LAT)) / _CELL_LAT).astype(np.int64), 0, cells - 1)
    col = np.clip(((lon - (_AREA_LON[area] - _BOX_LON)) / _CELL_LON).astype(np.int64), 0, cells - 1)
    district = (row // _DISTRICT_CELLS) * 3 + col // _DISTRICT_CELLS
    outwards = np.array([len(a.postcodes) for a in AREAS])[area]
    unit = (row % _DISTRICT_CELLS) * _DISTRICT_CELLS + col % _DISTRICT_CELLS
    unit = unit + (district // outwards) * _DISTRICT_CELLS**2  # districts sharing an outward code
    return [
        f"{AREAS[a].postcodes[o]} {u // 400}{_LETTERS[(u % 400) // 20]}{_LETTERS[u % 20]}"
        for a, o, u in zip(area.tolist(), (district % outwards).tolist(), unit.tolist(), strict=True)
    ]


# --------------------------------------------------------------------------- who works where, and how


@dataclass(frozen=True)
class _Profile:
    rota: str  # shift (earlies, lates, nights), nhp (days and evenings), day
    rate: float  # events per shift
    slots: int  # cases held at once
    case_days: float  # mean case length
    case_kinds: tuple[str, ...]
    analyst: bool = False
    rostered: bool = True


_PROFILES = {
    "RESP": _Profile("shift", 14.0, 3, 6.0, ("incident", "crime")),
    "CUST": _Profile("shift", 8.0, 2, 3.0, ("custody",)),
    "NHP": _Profile("nhp", 12.0, 4, 30.0, ("asb", "problem_solving", "crime")),
    "CID": _Profile("day", 16.0, 5, 25.0, ("crime",)),
    "INT": _Profile("day", 38.0, 6, 30.0, ("intelligence",), analyst=True),
    "ANL": _Profile("day", 50.0, 8, 40.0, ("analysis",), analyst=True),
    "DPU": _Profile("day", 10.0, 4, 15.0, ("disclosure",)),
    "PSD": _Profile("day", 8.0, 3, 60.0, ("professional_standards",)),
    "COMMAND": _Profile("day", 2.5, 1, 30.0, ("review",)),
    "AUD": _Profile("day", 0.0, 0, 30.0, ("audit",), rostered=False),
    "ICT": _Profile("day", 0.0, 0, 30.0, ("support",), rostered=False),
    "OTHER": _Profile("day", 8.0, 3, 20.0, ("crime",)),
}
_ROLE_KINDS = (("analyst", "ANL"), ("aic", "INT"), ("dpu", "DPU"), ("ccu", "PSD"), ("auditor", "AUD"))
_KIND_IN_TEAM = re.compile(r"(RESP|CUST|NHP|CID|INT|ANL|DPU|PSD|COMMAND|AUD|ICT)")

# Shift templates: (start hour, end hour, end day offset), local time.
_TEMPLATES = ((7, 16, 0), (14, 23, 0), (22, 7, 1), (7, 15, 0), (8, 16, 0), (9, 17, 0), (14, 22, 0))
_NIGHT = 2
_DAY_TEMPLATES = (3, 4, 4, 5)
_ROTA = np.array([0, 0, 1, 1, 2, 2, -1, -1, -1, -1])  # earlies, lates, nights, four rest days


def _kind(team_id: str, roles: set[str]) -> str:
    if "analyst" in roles:
        return "ANL"
    found = _KIND_IN_TEAM.search(team_id.upper())
    if found:
        return found.group(1)
    return next((kind for role, kind in _ROLE_KINDS if role in roles), "ICT" if "admin" in roles else "OTHER")


def _generated_staff(spec: ForceSpec, rng: np.random.Generator) -> list[dict[str, str]]:
    """About `spec.staff` people in the demo's shape: area teams (response, neighbourhood, CID,
    intelligence, custody) under area commanders, and force-wide units at headquarters."""
    areas = list(range(min(len(AREAS), max(1, spec.staff // 70))))
    hq = areas[-1]
    plan: list[tuple[str, str, int, str, int]] = []  # team id, kind, area, member role, weight
    for number in range(1, 6):
        for a in areas:
            for kind, teams, size in AREA_TEAMS:
                if number <= teams:
                    code = AREAS[a].code
                    plan.append(
                        (f"{code}-{kind}{number}", kind, a, STAFF_KINDS.get(kind, "officer"), size + 1)
                    )
        if number == 1:
            plan += [(f"HQ-{kind}", kind, hq, role, size + 1) for kind, size, role in FORCE_TEAMS[:3]]
    plan += [(f"HQ-{kind}", kind, hq, role, size + 1) for kind, size, role in FORCE_TEAMS[3:]]
    budget = max(2, spec.staff - 1 - len(areas))
    plan = plan[: max(1, budget // 3)]
    weights = np.array([weight for *_, weight in plan], dtype=float)
    sizes = np.maximum(2, np.floor(budget * weights / weights.sum()).astype(np.int64))
    spare = budget - int(sizes.sum())
    for index in np.argsort(-weights, kind="stable")[: max(0, spare)]:
        sizes[index] += 1
    surname_p = _surname_weights()
    people: list[tuple[str, str, str, int]] = []  # role, team, manager, area

    def add(role: str, team: str, manager: str, area: int) -> str:
        people.append((role, team, manager, area))
        return f"S{spec.start_number + len(people) - 1}"

    chief = add("supervisor", "HQ-COMMAND", "", hq)
    commanders = {a: add("supervisor", f"{AREAS[a].code}-COMMAND", chief, a) for a in areas}
    for (team, kind, a, role, _), size in zip(plan, sizes.tolist(), strict=True):
        hq_unit = team.startswith("HQ-")
        sergeant = add(
            f"supervisor;{role}" if hq_unit else "supervisor", team, chief if hq_unit else commanders[a], a
        )
        for member in range(size - 1):
            add("aic" if kind == "INT" and member == 0 else role, team, sergeant, a)
    count = len(people)
    home_area = np.array(
        [p[3] if not p[1].startswith("HQ-") else areas[i % len(areas)] for i, p in enumerate(people)]
    )
    lat = _AREA_LAT[home_area] + rng.uniform(-0.14, 0.14, count)
    lon = _AREA_LON[home_area] + rng.uniform(-0.22, 0.22, count)
    lat, lon = _clip_to_grid(home_area, lat, lon)
    postcodes = _grid_postcodes(home_area, lat, lon)
    surnames = rng.choice(len(SURNAMES), count, p=surname_p)
    forenames = rng.integers(0, len(FORENAMES), count)
    born = rng.integers(0, 365 * 40, count)
    rows = []
    for number, (role, team, manager, area) in enumerate(people):
        rows.append(
            {
                "staff_id": f"S{spec.start_number + number}",
                "surname": SURNAMES[surnames[number]],
                "forenames": FORENAMES[forenames[number]],
                "date_of_birth": (date(1962, 1, 1) + timedelta(days=int(born[number]))).isoformat(),
                "role": role,
                "team_id": team,
                "area_code": AREAS[area].code,
                "line_manager_id": manager,
                "home_postcode": postcodes[number],
                "home_lat": f"{lat[number]:.5f}",
                "home_lon": f"{lon[number]:.5f}",
            }
        )
    return rows


def _surname_weights() -> _Floats:
    weights = 1.0 / (np.arange(len(SURNAMES)) + 20.0)
    return weights / weights.sum()


def _float(text: str | None) -> float:
    try:
        return float(text) if text else math.nan
    except ValueError:
        return math.nan


# --------------------------------------------------------------------------- the lazy event stream


@dataclass
class _Chunk:
    t: _Ints
    staff: _Ints
    subject: _Ints
    case: _Ints
    cite: _Ints
    action: _Ints
    system: _Ints
    query: _Ints
    nodevice: _Bools
    path: _Ints
    night_late: _Bools


@dataclass
class _Plan:
    """Everything the lazy event chunks are made from (arrays, not Python objects per event)."""

    seed: int
    first_id: int
    # shifts, by start
    shift_staff: _Ints
    shift_a: _Ints  # first and last moments events may have (inside the shift and the window)
    shift_b: _Ints
    shift_start: _Ints
    shift_night: _Bools
    counts: _Ints
    edges: _Ints  # chunk k is shifts edges[k]:edges[k+1]
    # staff
    staff_ids: pa.Array
    devices: pa.Array
    path_cum: _Floats  # (staff, 3) cumulative path probabilities
    nslots: _Ints
    slot_base: _Ints
    team_of: _Ints
    team_off: _Ints
    team_size: _Ints
    team_members: _Ints
    home_lat: _Floats
    home_lon: _Floats
    home_pc: _Ints
    # cases (slot cases: case_key sorted, case_of_key the case at each key)
    t0: int
    span: int
    case_key: _Ints
    case_of_key: _Ints
    case_sub_off: _Ints
    case_nsub: _Ints
    case_sub_flat: _Ints
    case_primary: _Ints
    case_second: _Ints
    case_refs: pa.Array
    # nominals
    nominal_ids: pa.Array
    nominal_lat: _Floats
    nominal_lon: _Floats
    nominal_pc: _Ints
    queries: pa.Array  # one per nominal, then the no-result search texts
    n_null_queries: int
    check_pool: _Ints
    batch: pa.Table
    cached: dict[int, pa.Table] = field(default_factory=dict)

    @property
    def chunks(self) -> int:
        return len(self.edges) - 1

    @property
    def legit(self) -> int:
        return int(self.counts.sum())

    @property
    def total(self) -> int:
        return self.legit + self.batch.num_rows

    def first_of(self, k: int) -> int:
        start = int(self.edges[k])
        return self.first_id + (int(self.counts[:start].sum()) if start else 0)

    def tables(self) -> Iterator[pa.Table]:
        for k in range(self.chunks):
            cached = self.cached.get(k)
            yield cached if cached is not None else self.table(self.chunk(k), self.first_of(k))
        if self.batch.num_rows:
            yield self.batch

    def near(self, staff: _Ints, nominal: _Ints) -> _Bools:
        """Does the nominal live near the member of staff (or in the same postcode unit)?"""
        close = _metres(
            self.home_lat[staff], self.home_lon[staff], self.nominal_lat[nominal], self.nominal_lon[nominal]
        )
        same = (self.home_pc[staff] >= 0) & (self.home_pc[staff] == self.nominal_pc[nominal])
        return np.asarray((close < _CLEAR_METRES) | same, dtype=bool)

    def chunk(self, k: int) -> _Chunk:
        rng = np.random.default_rng([self.seed % 2**63, 7919, k])
        lo, hi = int(self.edges[k]), int(self.edges[k + 1])
        shift = np.repeat(np.arange(lo, hi, dtype=np.int64), self.counts[lo:hi])
        n = len(shift)
        staff = self.shift_staff[shift]
        a, b = self.shift_a[shift], self.shift_b[shift]
        t = a + (rng.random(n) * (b - a)).astype(np.int64)
        path = (rng.random(n)[:, None] >= self.path_cum[staff]).sum(axis=1).astype(np.int64)
        # The team path: a case of a team-mate (maybe their own).
        owner = staff.copy()
        team_path = np.flatnonzero(path == _TEAM)
        teams = self.team_of[staff[team_path]]
        pick = (rng.random(len(team_path)) * self.team_size[teams]).astype(np.int64)
        owner[team_path] = self.team_members[self.team_off[teams] + pick]
        owner = np.where((path == _TEAM) & (self.nslots[owner] == 0), staff, owner)
        path[(path <= _TEAM) & (self.nslots[owner] == 0)] = _NULL
        on_case = np.flatnonzero(path <= _TEAM)
        holder = owner[on_case]
        slot = self.slot_base[holder] + (rng.random(len(on_case)) * self.nslots[holder]).astype(np.int64)
        key = slot * self.span + (t[on_case] - self.t0)
        case_index = self.case_of_key[np.searchsorted(self.case_key, key, side="right") - 1]
        case = np.full(n, -1, dtype=np.int64)
        subject = np.full(n, -1, dtype=np.int64)
        case[on_case] = case_index
        which = (rng.random(len(on_case)) * self.case_nsub[case_index]).astype(np.int64)
        subject[on_case] = self.case_sub_flat[self.case_sub_off[case_index] + which]
        # Quick checks no case explains: a random person, never one living near the searcher.
        checks = np.flatnonzero(path == _CHECK)
        if len(self.check_pool) and len(checks):
            chosen = self.check_pool[(rng.random(len(checks)) * len(self.check_pool)).astype(np.int64)]
            for _ in range(8):
                bad = self.near(staff[checks], chosen)
                if not bad.any():
                    break
                redraw = (rng.random(int(bad.sum())) * len(self.check_pool)).astype(np.int64)
                chosen[bad] = self.check_pool[redraw]
            bad = self.near(staff[checks], chosen)
            subject[checks[~bad]] = chosen[~bad]
            path[checks[bad]] = _NULL
        else:
            path[checks] = _NULL
        u = rng.random(n)
        cite = np.where(((path == _OWN) & (u < 0.45)) | ((path == _TEAM) & (u < 0.3)), case, -1)
        has_subject = subject >= 0
        action = np.searchsorted(np.cumsum(_ACTION_P)[:-1], rng.random(n), side="right").astype(np.int64)
        action[~has_subject] = _SEARCH
        system = np.searchsorted(np.cumsum(_SYSTEM_P)[:-1], rng.random(n), side="right").astype(np.int64)
        query = np.full(n, -1, dtype=np.int64)
        searches = action == _SEARCH
        query[searches & has_subject] = subject[searches & has_subject]
        blind = searches & ~has_subject
        query[blind] = len(self.nominal_lat) + rng.integers(0, self.n_null_queries, int(blind.sum()))
        nodevice = rng.random(n) < 0.02
        night_late = self.shift_night[shift] & (t - self.shift_start[shift] >= 2 * HOUR + 60)
        order = np.argsort(t, kind="stable")
        return _Chunk(
            t=t[order],
            staff=staff[order],
            subject=subject[order],
            case=case[order],
            cite=cite[order],
            action=action[order],
            system=system[order],
            query=query[order],
            nodevice=nodevice[order],
            path=path[order],
            night_late=night_late[order],
        )

    def table(self, chunk: _Chunk, first_id: int, case_refs: pa.Array | None = None) -> pa.Table:
        n = len(chunk.t)
        refs = self.case_refs if case_refs is None else case_refs
        subject = self.nominal_ids.take(pa.array(chunk.subject, mask=chunk.subject < 0))
        has_subject = pc.is_valid(subject)
        columns = {
            "event_id": _ids("E", np.arange(first_id, first_id + n, dtype=np.int64)),
            "occurred_at": pa.array(chunk.t * 1_000_000, type=pa.timestamp("us", tz="UTC")),
            "system": pa.array(_SYSTEMS).take(pa.array(chunk.system)),
            "staff_id": self.staff_ids.take(pa.array(chunk.staff)),
            "action": pa.array(_ACTIONS).take(pa.array(chunk.action)),
            "record_type": pc.if_else(has_subject, pa.scalar("nominal"), pa.scalar(None, pa.string())),
            "record_id": subject,
            "subject_id": subject,
            "query_text": self.queries.take(pa.array(chunk.query, mask=chunk.query < 0)),
            "case_ref": refs.take(pa.array(chunk.cite, mask=chunk.cite < 0)),
            "device_id": self.devices.take(pa.array(chunk.staff, mask=chunk.nodevice)),
        }
        return pa.Table.from_arrays([columns[name] for name in EVENT_COLUMNS], schema=EVENT_SCHEMA)


def _ids(prefix: str, numbers: _Ints) -> pa.Array:
    return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")


# --------------------------------------------------------------------------- the builder


@dataclass
class _Event:
    """An injected or hard-negative event (few of them; a volume spike is a _Bulk)."""

    t: int
    staff: int
    subject: int  # -1: none
    action: str
    case_ref: str | None  # "#case<index>", "#special<index>", "#ghost<number>" until refs are known
    tag: int | str  # incident number, or a hard-negative kind


@dataclass
class _Bulk:
    """A volume spike: searches by one member of staff, as arrays."""

    t: _Ints
    staff: int
    subject: _Ints  # -1: the search found nobody
    blind: _Ints  # which no-result search text
    tag: int


@dataclass
class _PendingIncident:
    pattern: str
    staff: int
    subject: int | None
    detail: str


class _Builder:
    def __init__(self, spec: ForceSpec, staff_rows: Sequence[Mapping[str, str]] | None) -> None:
        self.spec = spec
        self.rng = np.random.default_rng([spec.seed % 2**63, 20260])
        end = datetime.combine(spec.end, time(), UTC)
        self.ws = int((end - timedelta(days=spec.days)).timestamp())
        self.we = int(end.timestamp())
        rows = (
            [{column: str(row.get(column, "") or "") for column in STAFF_COLUMNS} for row in staff_rows]
            if staff_rows is not None
            else _generated_staff(spec, self.rng)
        )
        self.staff_rows = rows
        self.postcodes: dict[str, int] = {}
        # nominals: columns as lists; specials are appended as they are made
        self.n_surname: list[str] = []
        self.n_forenames: list[str] = []
        self.n_dob: list[int] = []  # date ordinal
        self.n_lat: list[float] = []
        self.n_lon: list[float] = []
        self.n_area: list[int] = []
        self.n_postcode: list[str] = []
        self.n_flags: list[str] = []
        self.n_reserved: list[bool] = []
        self.declarations: list[dict[str, str]] = []
        self.events: list[_Event] = []
        self.bulk: list[_Bulk] = []
        self.pending: list[_PendingIncident] = []
        self.special_cases: list[tuple[int, int, list[int], str]] = []  # staff, opened, subjects, kind
        self.used_staff: set[int] = set()

    # ----------------------------------------------------------------- staff

    def _read_staff(self) -> None:
        rows = self.staff_rows
        n = len(rows)
        self.n_staff = n
        self.staff_ids = [row["staff_id"] for row in rows]
        self.roles = [set(filter(None, (r.strip() for r in row["role"].split(";")))) for row in rows]
        self.kinds = [_kind(row["team_id"], roles) for row, roles in zip(rows, self.roles, strict=True)]
        self.profiles = [_PROFILES[kind] for kind in self.kinds]
        self.home_lat = np.array([_float(row["home_lat"]) for row in rows])
        self.home_lon = np.array([_float(row["home_lon"]) for row in rows])
        self.home_postcode = [normalise_postcode(row["home_postcode"]) or "" for row in rows]
        self.home_pc = np.array([self._pc(code) for code in self.home_postcode], dtype=np.int64)
        codes = {area.code: index for index, area in enumerate(AREAS)}
        area = []
        for i, row in enumerate(rows):
            if row["area_code"] in codes:
                area.append(codes[row["area_code"]])
            elif not math.isnan(self.home_lat[i]):
                area.append(int(np.argmin(_metres(self.home_lat[i], self.home_lon[i], _AREA_LAT, _AREA_LON))))
            else:
                area.append(0)
        self.staff_area = np.array(area, dtype=np.int64)
        self.areas_used = sorted(set(area))
        teams: dict[str, int] = {}
        team_of = []
        for i, row in enumerate(rows):
            name = row["team_id"] or f"~{self.staff_ids[i]}"
            team_of.append(teams.setdefault(name, len(teams)))
        self.team_names = list(teams)
        self.team_of = np.array(team_of, dtype=np.int64)
        order = np.argsort(self.team_of, kind="stable")
        self.team_size = np.bincount(self.team_of, minlength=len(teams)).astype(np.int64)
        self.team_off = np.concatenate([[0], np.cumsum(self.team_size)[:-1]]).astype(np.int64)
        self.team_members = order.astype(np.int64)
        self.team_area = np.full(len(teams), -1, dtype=np.int64)
        for team, name in enumerate(self.team_names):
            members = self.members(team)
            if not name.upper().startswith("HQ"):
                self.team_area[team] = int(np.bincount(self.staff_area[members]).argmax())
        multiplier = self.rng.lognormal(0.0, 0.25, n)
        self.staff_rate = np.array(
            [
                p.rate * m * (0.6 if "supervisor" in roles and kind != "COMMAND" else 1.0)
                for p, m, roles, kind in zip(self.profiles, multiplier, self.roles, self.kinds, strict=True)
            ]
        )
        self.analyst = np.array(
            [p.analyst or "analyst" in r for p, r in zip(self.profiles, self.roles, strict=True)]
        )
        self.nslots = np.array([p.slots if p.rate > 0 else 0 for p in self.profiles], dtype=np.int64)
        self.slot_base = np.concatenate([[0], np.cumsum(self.nslots)[:-1]]).astype(np.int64)
        own = np.where(self.analyst, 0.30, 0.62)
        mates = np.where(self.analyst, 0.40, 0.12)
        mates = np.where(self.team_size[self.team_of] > 1, mates, 0.0)
        null = 1.0 - own - mates - _CHECK_SHARE
        self.path_cum = np.stack([own, own + mates, own + mates + null], axis=1)

    def members(self, team: int) -> _Ints:
        start = self.team_off[team]
        return self.team_members[start : start + self.team_size[team]]

    def _pc(self, postcode: str) -> int:
        return self.postcodes.setdefault(postcode, len(self.postcodes)) if postcode else -1

    # ----------------------------------------------------------------- shifts

    def _shifts(self) -> None:
        first = (datetime.fromtimestamp(self.ws, UTC) - timedelta(days=1)).date()
        days = [first + timedelta(days=d) for d in range(self.spec.days + 1)]
        starts = np.zeros((len(_TEMPLATES), len(days)), dtype=np.int64)
        ends = np.zeros_like(starts)
        start_text: list[list[str]] = []
        end_text: list[list[str]] = []
        for k, (begin, finish, overnight) in enumerate(_TEMPLATES):
            row_start, row_end = [], []
            for d, when in enumerate(days):
                opened = datetime.combine(when, time(begin), _LONDON)
                closed = datetime.combine(when + timedelta(days=overnight), time(finish), _LONDON)
                starts[k, d], ends[k, d] = int(opened.timestamp()), int(closed.timestamp())
                row_start.append(opened.isoformat())
                row_end.append(closed.isoformat())
            start_text.append(row_start)
            end_text.append(row_end)
        weekday = np.array([day.weekday() for day in days])
        week = (np.array([day.toordinal() for day in days]) - days[0].toordinal() + weekday[0]) // 7
        day_index = np.arange(len(days))
        staff_parts, day_parts, template_parts = [], [], []
        for s in range(self.n_staff):
            profile = self.profiles[s]
            rng = self.rng
            if profile.rota == "shift":
                name = self.team_names[self.team_of[s]]
                number = re.search(r"(\d+)$", name)
                phase = 2 * int(number.group(1)) if number else sum(map(ord, name))
                template = _ROTA[(day_index + phase) % len(_ROTA)]
                on = template >= 0
            elif profile.rota == "nhp":
                parity = int(rng.integers(0, 2))
                template = np.where((week + parity) % 2 == 0, 4, 6)
                on = weekday < 5
            else:
                template = np.full(len(days), _DAY_TEMPLATES[int(rng.integers(0, len(_DAY_TEMPLATES)))])
                on = weekday < 5
            if profile.rota != "shift":  # 4 or 5 days a week
                dropped = np.where(rng.random(week.max() + 1) < 0.35, rng.integers(0, 5, week.max() + 1), -1)
                on = on & (weekday != dropped[week])
            if rng.random() < 0.35:  # a week or so of leave
                leave = int(rng.integers(0, len(days)))
                on[leave : leave + int(rng.integers(4, 11))] = False
            on = on & (rng.random(len(days)) >= 0.03)  # sickness, courses
            picked = np.flatnonzero(on)
            staff_parts.append(np.full(len(picked), s, dtype=np.int64))
            day_parts.append(picked)
            template_parts.append(template[picked].astype(np.int64))
        staff = np.concatenate(staff_parts) if staff_parts else np.zeros(0, dtype=np.int64)
        day = np.concatenate(day_parts) if day_parts else np.zeros(0, dtype=np.int64)
        template = np.concatenate(template_parts) if template_parts else np.zeros(0, dtype=np.int64)
        start, end = starts[template, day], ends[template, day]
        order = np.lexsort((staff, start))
        self.shift_staff, self.shift_start, self.shift_end = staff[order], start[order], end[order]
        self.shift_night = template[order] == _NIGHT
        self.shift_a = np.maximum(self.shift_start, self.ws) + 120
        self.shift_b = np.minimum(self.shift_end, self.we) - 120
        rostered = np.array([p.rostered for p in self.profiles])
        self.rosters = [
            {"staff_id": self.staff_ids[s], "start": start_text[k][d], "end": end_text[k][d]}
            for s, k, d in zip(
                staff[order].tolist(), template[order].tolist(), day[order].tolist(), strict=True
            )
            if rostered[s]
        ]
        by_staff = np.argsort(self.shift_staff, kind="stable")
        self.staff_shift_off = np.searchsorted(self.shift_staff[by_staff], np.arange(self.n_staff + 1))
        self.staff_shifts = by_staff
        usable = self.shift_b - self.shift_a > HOUR
        self.usable_shifts = np.bincount(self.shift_staff[usable], minlength=self.n_staff)

    def shifts_of(self, s: int) -> _Ints:
        return self.staff_shifts[self.staff_shift_off[s] : self.staff_shift_off[s + 1]]

    # ----------------------------------------------------------------- cases (slot timelines)

    def _cases(self) -> None:
        rng = self.rng
        slot_staff, opens = [], []
        for s in range(self.n_staff):
            mean = self.profiles[s].case_days * DAY
            for _ in range(int(self.nslots[s])):
                first = self.ws - rng.uniform(0.2, 2.0) * mean
                lengths = np.maximum(0.3 * DAY, rng.exponential(mean, int((self.we - first) / mean * 2) + 8))
                times = first + np.concatenate([[0.0], np.cumsum(lengths)])
                while times[-1] < self.we:
                    times = np.concatenate(
                        [times, times[-1] + np.cumsum(rng.exponential(mean, 8) + 0.3 * DAY)]
                    )
                # Case openings before the window's end, and the next one (which closes the last of them).
                opens.append(times[: int(np.searchsorted(times, self.we)) + 1].astype(np.int64))
                slot_staff.append(s)
        slot = np.concatenate([np.full(len(o) - 1, g, dtype=np.int64) for g, o in enumerate(opens)])
        opened = np.concatenate([o[:-1] for o in opens])
        following = np.concatenate([o[1:] for o in opens])
        self.case_slot = slot
        self.case_opened = opened
        closes = following + (rng.random(len(following)) * 2 * DAY).astype(np.int64)
        last = np.concatenate([np.arange(len(o) - 1) == len(o) - 2 for o in opens])
        self.case_closed = np.where(last | (closes >= self.we), -1, closes)
        owner = np.array(slot_staff, dtype=np.int64)[slot]
        self.case_primary = owner
        self.case_team = self.team_of[owner]
        second = np.full(len(slot), -1, dtype=np.int64)
        pair = np.flatnonzero((rng.random(len(slot)) < 0.3) & (self.team_size[self.case_team] > 1))
        for c in pair.tolist():
            members = self.members(int(self.case_team[c]))
            other = members[members != owner[c]]
            second[c] = int(other[int(rng.integers(0, len(other)))])
        self.case_second = second
        self.case_kind = [
            self.profiles[o].case_kinds[int(k) % len(self.profiles[o].case_kinds)]
            for o, k in zip(owner.tolist(), rng.integers(0, 6, len(slot)).tolist(), strict=True)
        ]
        self.case_nsub = rng.choice(np.arange(1, 5), len(slot), p=[0.35, 0.35, 0.2, 0.1]).astype(np.int64)

    # ----------------------------------------------------------------- nominals

    def _base_nominals(self) -> None:
        rng = self.rng
        count = max(300, int(0.9 * self.case_nsub.sum()))
        self.n_base = count
        area = np.array(self.areas_used, dtype=np.int64)[rng.integers(0, len(self.areas_used), count)]
        town = rng.integers(0, len(_TOWNS), count)
        in_town = rng.random(count) < 0.55
        towns = np.array(_TOWNS)
        lat = np.where(
            in_town,
            _AREA_LAT[area] + towns[town, 0] + rng.normal(0, 0.012, count),
            _AREA_LAT[area] + rng.uniform(-0.12, 0.12, count),
        )
        lon = np.where(
            in_town,
            _AREA_LON[area] + towns[town, 1] + rng.normal(0, 0.018, count),
            _AREA_LON[area] + rng.uniform(-0.2, 0.2, count),
        )
        lat, lon = _clip_to_grid(area, lat, lon)
        surnames = rng.choice(len(SURNAMES), count, p=_surname_weights())
        forenames = rng.integers(0, len(FORENAMES), count)
        born = date(1940, 1, 1).toordinal() + rng.integers(0, 365 * 68, count)
        protected = rng.random(count) < 0.005
        self.n_surname += [SURNAMES[i] for i in surnames.tolist()]
        self.n_forenames += [FORENAMES[i] for i in forenames.tolist()]
        self.n_dob += born.tolist()
        self.base_lat, self.base_lon = lat, lon
        self.n_lat += lat.tolist()
        self.n_lon += lon.tolist()
        self.n_area += area.tolist()
        self.n_postcode += _grid_postcodes(area, lat, lon)
        self.n_flags += [NominalFlag.PROTECTED.value if p else "" for p in protected.tolist()]
        self.n_reserved += [False] * count

    def nominal(
        self,
        surname: str,
        forenames: str,
        *,
        lat: float,
        lon: float,
        area: int,
        dob: int | None = None,
        postcode: str | None = None,
        flags: str = "",
    ) -> int:
        """A special nominal: never the subject of legitimate work (reserved)."""
        if postcode is None:  # the unit of the place (or of the grid's edge, for a place off the grid)
            one = np.array([area], dtype=np.int64)
            postcode = _grid_postcodes(one, *_clip_to_grid(one, np.array([lat]), np.array([lon])))[0]
        if dob is None:
            dob = date(1945, 1, 1).toordinal() + int(self.rng.integers(0, 365 * 60))
        self.n_surname.append(surname)
        self.n_forenames.append(forenames)
        self.n_dob.append(dob)
        self.n_lat.append(lat)
        self.n_lon.append(lon)
        self.n_area.append(area)
        self.n_postcode.append(postcode)
        self.n_flags.append(flags)
        self.n_reserved.append(True)
        return len(self.n_surname) - 1

    def _name(self, not_surname: str = "") -> tuple[str, str]:
        while True:
            surname = SURNAMES[int(self.rng.choice(len(SURNAMES), p=_surname_weights()))]
            if surname != not_surname:
                return surname, FORENAMES[int(self.rng.integers(0, len(FORENAMES)))]

    def _far_place(self, s: int, metres: float = 2500.0) -> tuple[float, float, int]:
        """Somewhere in the force area at least `metres` from the staff member's home."""
        while True:
            area = self.areas_used[int(self.rng.integers(0, len(self.areas_used)))]
            lat = AREAS[area].lat + self.rng.uniform(-0.12, 0.12)
            lon = AREAS[area].lon + self.rng.uniform(-0.2, 0.2)
            if not _metres(self.home_lat[s], self.home_lon[s], lat, lon) < metres:
                return lat, lon, area

    def _near_place(self, s: int, low: float, high: float) -> tuple[float, float]:
        return _offset(
            float(self.home_lat[s]),
            float(self.home_lon[s]),
            float(self.rng.uniform(low, high)),
            float(self.rng.uniform(0, 2 * math.pi)),
        )

    def _staff_nominal(self, s: int, *, flagged: bool = True) -> int:
        """The member of staff as a nominal (a victim or witness once): name, birth date and home, and the
        flag that marks them as staff unless `flagged` is false."""
        row = self.staff_rows[s]
        born = row["date_of_birth"]
        lat, lon = self.home_lat[s], self.home_lon[s]
        if math.isnan(lat):
            lat, lon, _ = self._far_place(s, 0.0)
        return self.nominal(
            row["surname"],
            row["forenames"],
            lat=float(lat),
            lon=float(lon),
            area=int(self.staff_area[s]),
            dob=date.fromisoformat(born).toordinal() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", born) else None,
            postcode=self.home_postcode[s] or None,
            flags=f"{STAFF_FLAG_PREFIX}{self.staff_ids[s]}" if flagged else "",
        )

    # ----------------------------------------------------------------- declarations

    def _declare(
        self,
        s: int,
        relationship: str,
        *,
        subject: int | None,
        surname: str,
        forenames: str,
        dob: int | None,
        postcode: str,
        kind: str | None = None,
    ) -> None:
        declared = self.ws - int(self.rng.integers(20, 900)) * DAY - int(self.rng.integers(8, 18)) * HOUR
        self.declarations.append(
            {
                "declaration_id": "",
                "staff_id": self.staff_ids[s],
                "kind": kind
                or (
                    DeclarationKind.REPORTABLE_ASSOCIATION.value
                    if relationship in (Relationship.FRIEND, Relationship.ACQUAINTANCE)
                    and self.rng.random() < 0.5
                    else DeclarationKind.CONFLICT_OF_INTEREST.value
                ),
                "subject_id": "" if subject is None else f"#{subject}",  # resolved once ids are known
                "surname": surname,
                "forenames": forenames,
                "date_of_birth": "" if dob is None else date.fromordinal(dob).isoformat(),
                "postcode": postcode,
                "relationship": relationship,
                "declared_at": datetime.fromtimestamp(declared, _LONDON).isoformat(),
            }
        )

    def _background_declarations(self) -> None:
        """Declarations nobody breaches: relatives, partners, ex-partners, neighbours, friends."""
        rng = self.rng
        relationships = [
            Relationship.RELATIVE,
            Relationship.PARTNER,
            Relationship.EX_PARTNER,
            Relationship.NEIGHBOUR,
            Relationship.FRIEND,
            Relationship.ACQUAINTANCE,
        ]
        for s in np.flatnonzero(rng.random(self.n_staff) < 0.1).tolist():
            relationship = relationships[int(rng.integers(0, len(relationships)))].value
            own_surname = self.staff_rows[s]["surname"]
            surname, forenames = self._name()
            if relationship == Relationship.RELATIVE and rng.random() < 0.5:
                surname = own_surname
            has_home = not math.isnan(self.home_lat[s])
            if relationship == Relationship.NEIGHBOUR and has_home:
                lat, lon = self._near_place(s, 20, 150)
                person = self.nominal(surname, forenames, lat=lat, lon=lon, area=int(self.staff_area[s]))
            elif relationship == Relationship.PARTNER and has_home:
                person = self.nominal(
                    surname,
                    forenames,
                    lat=float(self.home_lat[s]),
                    lon=float(self.home_lon[s]),
                    area=int(self.staff_area[s]),
                    postcode=self.home_postcode[s] or None,
                )
            elif rng.random() < 0.6:
                lat, lon, area = self._far_place(s, 1000.0)
                person = self.nominal(surname, forenames, lat=lat, lon=lon, area=area)
            else:  # not on police systems at all
                lat, lon, area = self._far_place(s, 1000.0)
                one = np.array([area], dtype=np.int64)
                code = _grid_postcodes(one, *_clip_to_grid(one, np.array([lat]), np.array([lon])))[0]
                dob = date(1950, 1, 1).toordinal() + int(rng.integers(0, 365 * 50))
                self._declare(
                    s,
                    relationship,
                    subject=None,
                    surname=surname,
                    forenames=forenames,
                    dob=dob,
                    postcode=code,
                )
                continue
            by_id = rng.random() < 0.5
            self._declare(
                s,
                relationship,
                subject=person if by_id else None,
                surname=surname,
                forenames=forenames if by_id or rng.random() < 0.5 else forenames[0],
                dob=self.n_dob[person] if not by_id or rng.random() < 0.5 else None,
                postcode=self.n_postcode[person] if rng.random() < 0.5 else "",
            )

    def _reserve_lookalikes(self) -> None:
        """Base nominals a declaration could be read as naming (surname, first initial or name, and birth
        date or postcode), or who could be read as a member of staff (name and birth date or home postcode, as
        SELF and COLLEAGUE read them), are never the subject of legitimate work."""
        people = [
            (row["surname"], row["forenames"], row["date_of_birth"], row["postcode"])
            for row in self.declarations
        ]
        people += [
            (row["surname"], row["forenames"], row["date_of_birth"], home)
            for row, home in zip(self.staff_rows, self.home_postcode, strict=True)
        ]
        base = self.n_base
        keys: dict[str, int] = {}
        by_surname = {
            n: keys.setdefault(surname_key(n), len(keys)) for n in sorted(set(self.n_surname[:base]))
        }
        surname_code = np.array([by_surname[n] for n in self.n_surname[:base]])
        tokens = {n: (forename_tokens(n) or ("",))[0] for n in set(self.n_forenames[:base])}
        first = [tokens[n] for n in self.n_forenames[:base]]
        token_code: dict[str, int] = {}
        forename_code = np.array([token_code.setdefault(t, len(token_code)) for t in first])
        initial = np.array([ord(t[:1] or " ") for t in first])
        dob = np.array(self.n_dob[:base])
        pcs = np.array([self._pc(code) for code in self.n_postcode[:base]])
        order = np.argsort(surname_code, kind="stable")
        bounds = np.searchsorted(surname_code[order], np.arange(len(keys) + 1))
        for surname, forenames, born, postcode in people:
            key = keys.get(surname_key(surname)) if surname and forenames else None
            if key is None:
                continue
            bucket = order[bounds[key] : bounds[key + 1]]
            declared = (forename_tokens(forenames) or ("",))[0]
            agree = (initial[bucket] == ord(declared[:1] or " ")) | (
                forename_code[bucket] == token_code.get(declared, -2)
            )
            same = np.zeros(len(bucket), dtype=bool)
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}", born or ""):
                same |= dob[bucket] == date.fromisoformat(born).toordinal()
            if postcode:
                same |= pcs[bucket] == self._pc(postcode)
            for index in bucket[agree & same].tolist():
                self.n_reserved[index] = True

    # ----------------------------------------------------------------- injected misuse

    def _eligible(self, *, home: bool = False, analyst: bool | None = None, shifts: int = 1) -> list[int]:
        """Staff who do searches, are rostered and have `shifts` usable shifts in the window."""
        ok = (self.staff_rate > 0) & (self.usable_shifts >= shifts) & (self.nslots > 0)
        if home:
            ok &= ~np.isnan(self.home_lat)
        if analyst is not None:
            ok &= self.analyst == analyst
        rostered = np.array([p.rostered for p in self.profiles])
        return np.flatnonzero(ok & rostered).tolist()

    def _pick(self, candidates: Sequence[int], avoid: set[int] | None = None) -> int | None:
        pool = [s for s in candidates if s not in (avoid or set())]
        if not pool:
            return None
        fresh = [s for s in pool if s not in self.used_staff]
        chosen = (fresh or pool)[int(self.rng.integers(0, len(fresh or pool)))]
        self.used_staff.add(chosen)
        return chosen

    def _time_in_shift(
        self,
        s: int,
        margin: int = 0,
        exclude_days: set[int] | None = None,
        between: tuple[int, int] | None = None,
    ) -> int | None:
        """A moment inside one of the staff member's shifts (in the window), at least `margin` seconds
        before its end; not on `exclude_days` (day numbers); a shift starting `between` these times."""
        shifts = self.shifts_of(s)
        shifts = shifts[self.shift_b[shifts] - self.shift_a[shifts] > margin + 300]
        if between is not None:
            shifts = shifts[(self.shift_a[shifts] >= between[0]) & (self.shift_a[shifts] < between[1])]
        if exclude_days:
            days = self.shift_start[shifts] // DAY
            shifts = shifts[~np.isin(days, list(exclude_days))]
        if not len(shifts):
            return None
        shift = int(shifts[int(self.rng.integers(0, len(shifts)))])
        a, b = int(self.shift_a[shift]), int(self.shift_b[shift]) - margin
        return a + int(self.rng.integers(0, b - a))

    def _session(
        self,
        s: int,
        subject: int,
        start: int,
        count: int,
        tag: int | str,
        case_ref: str | None = None,
        mostly_views: bool = False,
    ) -> None:
        """A search for the person, then views (and sometimes a print or export), minutes apart."""
        t = start
        for number in range(count):
            if number == 0 and not mostly_views:
                action = Action.SEARCH.value
            else:
                action = str(self.rng.choice(["view", "view", "view", "update", "print", "export"]))
            self.event(t, s, subject, action, tag=tag, case_ref=case_ref)
            t += int(self.rng.integers(20, 420))

    def event(
        self, t: int, s: int, subject: int, action: str, *, tag: int | str, case_ref: str | None = None
    ) -> None:
        self.events.append(_Event(t, s, subject, action, case_ref, tag))

    def _query(self, subject: int) -> str:
        born = date.fromordinal(self.n_dob[subject]).isoformat()
        return f"{self.n_surname[subject].upper()}/{self.n_forenames[subject].upper()}/{born}"

    def _incident(self, pattern: str, s: int, subject: int | None, detail: str) -> int:
        self.pending.append(_PendingIncident(pattern, s, subject, detail))
        return len(self.pending) - 1

    def _days_sessions(self, s: int, subject: int, days: int, events: int, tag: int) -> bool:
        """`events` events about `subject` over `days` different days of the staff member's shifts."""
        taken: set[int] = set()
        per_day = [events // days + (1 if i < events % days else 0) for i in range(days)]
        for count in per_day:
            start = self._time_in_shift(
                s,
                margin=count * 420 + 60,
                exclude_days=taken | {d + 1 for d in taken} | {d - 1 for d in taken},
            )
            if start is None:
                return False
            taken.add(start // DAY)
            self._session(s, subject, start, max(1, count), tag)
        return True

    def _inject(self, count: int, scale: float) -> None:
        rng = self.rng
        s: int | None
        officers = self._eligible()
        with_home = self._eligible(home=True)
        # SELF and COLLEAGUE: members of the workforce who are also on police systems.
        flagged_staff = []
        pool = list(officers)
        rng.shuffle(pool)
        for index, member in enumerate(pool[: min(len(pool), count * 2 + max(3, self.n_staff // 50))]):
            # Half the people who look themselves up, and half the colleagues looked up, are on record
            # without the staff flag: the detectors must know them by name with date of birth or home
            # postcode, as SELF and COLLEAGUE say. Someone with neither on the staff register keeps the flag
            # (nothing else could say who they are).
            row = self.staff_rows[member]
            known = bool(
                re.fullmatch(r"\d{4}-\d{2}-\d{2}", row["date_of_birth"]) or self.home_postcode[member]
            )
            flagged = index % 2 == 0 or not known
            flagged_staff.append((member, self._staff_nominal(member, flagged=flagged)))
        for number in range(count):  # SELF
            if number >= len(flagged_staff):
                break
            s, person = flagged_staff[number]
            self.used_staff.add(s)
            tag = self._incident(Rule.SELF, s, person, "looked themselves up")
            start = self._time_in_shift(s, margin=1800)
            if start is not None:
                self._session(s, person, start, int(rng.integers(1, 4)), tag)
        others = flagged_staff[count:] or flagged_staff
        for number in range(count):  # COLLEAGUE
            if not others:
                break
            colleague, person = others[number % len(others)]
            s = self._pick(officers, avoid={colleague})
            if s is None:
                break
            same_team = self.team_of[s] == self.team_of[colleague]
            how = "" if self.n_flags[person] else " (on record without the staff flag)"
            tag = self._incident(
                Rule.COLLEAGUE, s, person, f"looked up {'a team-mate' if same_team else 'a colleague'}{how}"
            )
            start = self._time_in_shift(s, margin=1800)
            if start is not None:
                self._session(s, person, start, int(rng.integers(1, 4)), tag)
        for number in range(count):  # RELATIVE_OR_HOUSEHOLD
            s = self._pick(with_home)
            if s is None:
                break
            surname = self.staff_rows[s]["surname"]
            forenames = self._name()[1]
            same_postcode = number % 2 == 0 and bool(self.home_postcode[s])
            lat, lon = self._near_place(s, 10, 60 if same_postcode else 90)
            person = self.nominal(
                surname,
                forenames,
                lat=lat,
                lon=lon,
                area=int(self.staff_area[s]),
                postcode=self.home_postcode[s] if same_postcode else None,
            )
            detail = "same surname at the same postcode" if same_postcode else "same surname within 100 m"
            tag = self._incident(Rule.RELATIVE_OR_HOUSEHOLD, s, person, detail)
            self._days_sessions(s, person, int(rng.integers(1, 3)), int(rng.integers(2, 5)), tag)
        for _ in range(count):  # NEIGHBOUR
            s = self._pick(with_home)
            if s is None:
                break
            surname, forenames = self._name(not_surname=self.staff_rows[s]["surname"])
            distance = float(rng.uniform(60, 250))
            lat, lon = _offset(
                float(self.home_lat[s]), float(self.home_lon[s]), distance, float(rng.uniform(0, 2 * math.pi))
            )
            person = self.nominal(surname, forenames, lat=lat, lon=lon, area=int(self.staff_area[s]))
            tag = self._incident(Rule.NEIGHBOUR, s, person, f"lives {distance:.0f} m away")
            self._days_sessions(s, person, int(rng.integers(1, 3)), int(rng.integers(1, 5)), tag)
        self._inject_declared(count, officers)
        public = []
        for _ in range(count + max(8, self.n_base // 400)):
            area = self.areas_used[int(rng.integers(0, len(self.areas_used)))]
            surname, forenames = self._name()
            lat = AREAS[area].lat + rng.uniform(-0.1, 0.1)
            lon = AREAS[area].lon + rng.uniform(-0.15, 0.15)
            public.append(
                self.nominal(
                    surname, forenames, lat=lat, lon=lon, area=area, flags=NominalFlag.PUBLIC_FIGURE.value
                )
            )
        for number in range(count):  # PUBLIC_FIGURE
            person = public[number]
            s = self._pick(officers)
            if s is None:
                break
            tag = self._incident(Rule.PUBLIC_FIGURE, s, person, "looked up a public figure")
            start = self._time_in_shift(s, margin=1800)
            if start is not None:
                self._session(s, person, start, int(rng.integers(1, 4)), tag)
        for number in range(count):  # CASE_MISMATCH
            s = self._pick(officers)
            if s is None:
                break
            person = self._unrelated(s)
            other = np.flatnonzero(self.case_team != self.team_of[s])
            if number % 2 == 0 or not len(other):
                ref, detail = f"#ghost{number}", "cited a case reference that does not exist"
            else:
                case = int(other[int(rng.integers(0, len(other)))])
                ref, detail = f"#case{case}", "cited another team's case, which does not involve the subject"
            tag = self._incident(Rule.CASE_MISMATCH, s, person, detail)
            start = self._time_in_shift(s, margin=1800)
            if start is not None:
                self._session(s, person, start, int(rng.integers(1, 4)), tag, case_ref=ref, mostly_views=True)
        regulars = self._eligible(shifts=6)
        for _ in range(count):  # REPEATED_INTEREST
            s = self._pick(regulars)
            if s is None:
                break
            person = self._unrelated(s)
            days = int(rng.integers(3, 6))
            tag = self._incident(Rule.REPEATED_INTEREST, s, person, f"looked up on {days} days")
            self._repeated(s, person, days, tag)
        for _ in range(count):  # VOLUME_ANOMALY
            s = self._pick(self._eligible(analyst=False))
            if s is None:
                break
            self._volume(s, scale)
        for _ in range(count):  # OFF_DUTY
            for _attempt in range(5):
                s = self._pick(officers)
                if s is None or self._off_duty(s):
                    break

    def _unrelated(self, s: int) -> int:
        surname, forenames = self._name(not_surname=self.staff_rows[s]["surname"])
        lat, lon, area = self._far_place(s)
        return self.nominal(surname, forenames, lat=lat, lon=lon, area=area)

    def _inject_declared(self, count: int, officers: list[int]) -> None:
        """DECLARED_CONFLICT: the declared person looked up, matched by id or by name with a spelling variant
        and the date of birth or postcode."""
        rng = self.rng
        styles = (
            "id",
            "dob-upper",
            "postcode-mc",
            "dob-initial",
            "postcode-hyphen",
            "id",
            "dob-mc",
            "postcode-upper",
        )
        relationships = (
            Relationship.FRIEND,
            Relationship.EX_PARTNER,
            Relationship.RELATIVE,
            Relationship.ACQUAINTANCE,
            Relationship.PARTNER,
        )
        for number in range(count):
            s = self._pick(officers)
            if s is None:
                break
            style = styles[number % len(styles)]
            relationship = relationships[number % len(relationships)].value
            surname, forenames = self._name(not_surname=self.staff_rows[s]["surname"])
            declared_surname, declared_forenames = surname, forenames
            if style.endswith("mc"):
                surname = _MC_SURNAMES[int(rng.integers(0, len(_MC_SURNAMES)))]
                declared_surname = "Mac" + surname[2:] if rng.random() < 0.5 else "Mac " + surname[2:]
            elif style.endswith("hyphen"):
                surname = f"{surname}-{self._name(not_surname=surname)[0]}"
                declared_surname = surname.replace("-", " ")
            elif style.endswith("upper"):
                declared_surname, declared_forenames = surname.upper(), forenames.upper()
            elif style.endswith("initial"):
                declared_forenames = forenames[0]
            lat, lon, area = self._far_place(s)
            person = self.nominal(surname, forenames, lat=lat, lon=lon, area=area)
            by_id = style == "id"
            self._declare(
                s,
                relationship,
                subject=person if by_id else None,
                surname=declared_surname,
                forenames=declared_forenames,
                dob=None if style.startswith("postcode") else self.n_dob[person],
                postcode=self.n_postcode[person] if style.startswith("postcode") or by_id else "",
            )
            how = (
                "by id"
                if by_id
                else f"by name ({_VARIANTS[style.split('-')[1]]}) and {_VARIANTS[style.split('-')[0]]}"
            )
            tag = self._incident(Rule.DECLARED_CONFLICT, s, person, f"declared {relationship}, matched {how}")
            self._days_sessions(s, person, int(rng.integers(1, 3)), int(rng.integers(1, 4)), tag)

    def _repeated(self, s: int, person: int, days: int, tag: int) -> None:
        """Sessions on `days` shifts at least 36 hours apart (so on separate days, however days are
        counted), all within 28 days."""
        shifts = self.shifts_of(s)
        shifts = shifts[self.shift_b[shifts] - self.shift_a[shifts] > HOUR]
        rng = self.rng
        for _ in range(50):
            if not len(shifts):
                return
            anchor = int(self.shift_a[shifts[int(rng.integers(0, len(shifts)))]])
            near = shifts[(self.shift_a[shifts] >= anchor) & (self.shift_a[shifts] < anchor + 26 * DAY)]
            chosen: list[int] = []
            for shift in rng.permutation(near).tolist():
                if all(
                    abs(int(self.shift_a[shift]) - int(self.shift_a[other])) >= 36 * HOUR for other in chosen
                ):
                    chosen.append(shift)
                if len(chosen) == days:
                    break
            if len(chosen) < days:
                continue
            for shift in sorted(chosen):
                a, b = int(self.shift_a[shift]), int(self.shift_b[shift]) - 900
                start = a + int(rng.integers(0, max(1, b - a)))
                self._session(s, person, start, int(rng.integers(1, 3)), tag)
            return

    def _volume(self, s: int, scale: float) -> None:
        """One shift with 11-14 times the staff member's usual number of searches, most finding nobody,
        the rest random people (never living near them, never on a case)."""
        rng = self.rng
        shifts = self.shifts_of(s)
        full = shifts[(self.shift_b[shifts] - self.shift_a[shifts] > 6 * HOUR) & ~self.shift_night[shifts]]
        if not len(full):
            full = shifts[self.shift_b[shifts] - self.shift_a[shifts] > HOUR]
        if not len(full):
            return
        shift = int(full[int(rng.integers(0, len(full)))])
        blind_share = float(self.path_cum[s, 2] - self.path_cum[s, 1])
        usual = float(self.staff_rate[s]) * scale * (blind_share + (1 - blind_share) * _ACTION_P[_SEARCH])
        count = max(60, math.ceil(rng.uniform(11, 14) * usual))
        tag = self._incident(
            Rule.VOLUME_ANOMALY, s, None, f"{count} searches in one shift (usually about {usual:.0f})"
        )
        a, b = int(self.shift_a[shift]), int(self.shift_b[shift])
        times = np.sort(a + rng.integers(0, b - a, count)).astype(np.int64)
        subject = np.full(count, -1, dtype=np.int64)
        person = np.flatnonzero(rng.random(count) < 0.3)
        if len(self.check_candidates) and len(person):
            picks = self.check_candidates[rng.integers(0, len(self.check_candidates), len(person))]
            codes = np.array([self._pc(self.n_postcode[i]) for i in picks.tolist()], dtype=np.int64)
            distance = _metres(self.home_lat[s], self.home_lon[s], self.base_lat[picks], self.base_lon[picks])
            far = ~(distance < _CLEAR_METRES) & ~((codes == self.home_pc[s]) & (codes >= 0))
            subject[person[far]] = picks[far]
            for index in np.unique(picks[far]).tolist():
                self.n_reserved[index] = True  # never explained by a case, never someone's quick check
        blind = rng.integers(0, len(self.null_queries), count).astype(np.int64)
        self.bulk.append(_Bulk(times, s, subject, blind, tag))

    def _off_duty(self, s: int) -> bool:
        """Looked up at a time well away (3 hours or more) from any of the staff member's shifts, but between
        two of them (inside the span their rosters cover): mostly in the small hours, else on a rest day."""
        rng = self.rng
        shifts = self.shifts_of(s)
        if not len(shifts):
            return False
        starts, ends = self.shift_start[shifts], self.shift_end[shifts]
        low = max(self.ws + HOUR, int(starts.min()) + DAY)
        high = min(self.we - HOUR, int(ends.max()) - DAY)
        if high - low < DAY:
            return False
        for _ in range(400):
            if rng.random() < 0.6:  # the small hours, local time
                day = date.fromordinal(
                    datetime.fromtimestamp(low, UTC).date().toordinal()
                    + int(rng.integers(0, (high - low) // DAY + 1))
                )
                small_hours = datetime.combine(
                    day, time(int(rng.integers(0, 5)), int(rng.integers(0, 60))), _LONDON
                )
                t = int(small_hours.timestamp())
            else:
                t = low + int(rng.integers(0, high - low))
            if t < low or t > high:
                continue
            if np.any((starts - 3 * HOUR <= t + 1800) & (ends + 3 * HOUR >= t)):
                continue
            person = self._unrelated(s)
            local = datetime.fromtimestamp(t, _LONDON).strftime("%a %d %b %H:%M")
            tag = self._incident(Rule.OFF_DUTY, s, person, f"looked up off duty ({local}, not rostered)")
            self._session(s, person, t, int(rng.integers(1, 4)), tag)
            return True
        return False

    # ----------------------------------------------------------------- hard negatives made on purpose

    def _special_hard_negatives(self, count: int) -> None:
        rng = self.rng
        officers = [s for s in self._eligible(home=True) if not self.analyst[s]]
        common = [s for s in officers if self.staff_rows[s]["surname"] in _COMMON_SURNAMES]
        for _ in range(count):  # common_surname_far
            if not common:
                break
            s = common[int(rng.integers(0, len(common)))]
            lat, lon, area = self._far_place(s, 5000.0)
            person = self.nominal(self.staff_rows[s]["surname"], self._name()[1], lat=lat, lon=lon, area=area)
            self._special_case(s, person, "common_surname_far")
        for _ in range(max(1, round(count / 4))):  # neighbour_via_case
            if not officers:
                break
            s = officers[int(rng.integers(0, len(officers)))]
            surname, forenames = self._name(not_surname=self.staff_rows[s]["surname"])
            lat, lon = self._near_place(s, 100, 250)
            person = self.nominal(surname, forenames, lat=lat, lon=lon, area=int(self.staff_area[s]))
            self._special_case(s, person, "neighbour_via_case")

    def _special_case(self, s: int, person: int, kind: str) -> None:
        rng = self.rng
        opened = self.ws - int(rng.integers(2, 20)) * DAY - int(rng.integers(0, DAY))
        self.special_cases.append((s, opened, [person], self.profiles[s].case_kinds[0]))
        ref = f"#special{len(self.special_cases) - 1}"
        first = self._time_in_shift(s, margin=1800, between=(self.ws, self.we - 14 * DAY))
        first = self._time_in_shift(s, margin=1800) if first is None else first
        if first is None:
            return
        for number in range(int(rng.integers(1, 4))):  # within a fortnight: one piece of work
            start = first if number == 0 else self._time_in_shift(s, 1800, between=(first, first + 14 * DAY))
            if start is not None:
                self._session(
                    s,
                    person,
                    start,
                    int(rng.integers(1, 3)),
                    kind,
                    case_ref=ref if rng.random() < 0.5 else None,
                )

    # ----------------------------------------------------------------- case subjects

    def _case_subjects(self, reserved: _Bools) -> None:
        """Subjects for every slot case: mostly people of the team's area, never living near (or in the
        postcode unit of) any member of the team."""
        rng = self.rng
        lat, lon = np.array(self.n_lat), np.array(self.n_lon)
        pcs = np.array([self._pc(code) for code in self.n_postcode], dtype=np.int64)
        self.n_pc = pcs
        area = np.array(self.n_area, dtype=np.int64)
        cells = _cell(lat, lon)
        eligible = np.flatnonzero(~reserved)
        by_area = {a: eligible[area[eligible] == a] for a in self.areas_used}
        subjects = np.zeros(int(self.case_nsub.sum()), dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(self.case_nsub)]).astype(np.int64)
        order = np.argsort(self.case_team, kind="stable")
        team_sorted = self.case_team[order]
        for team in np.unique(team_sorted).tolist():
            cases = order[
                np.searchsorted(team_sorted, team) : np.searchsorted(team_sorted, team, side="right")
            ]
            slots = _ranges(offsets[cases], self.case_nsub[cases])
            members = self.members(team)
            mlat, mlon = self.home_lat[members], self.home_lon[members]
            known = ~np.isnan(mlat)
            mlat, mlon = mlat[known], mlon[known]
            mpcs = self.home_pc[members]
            mpcs = mpcs[mpcs >= 0]
            local = by_area.get(int(self.team_area[team]), eligible)
            if not len(local):
                local = eligible
            need = len(slots)
            chosen = np.where(
                rng.random(need) < 0.85,
                local[(rng.random(need) * len(local)).astype(np.int64)],
                eligible[(rng.random(need) * len(eligible)).astype(np.int64)],
            )
            near_members = _cells_around(mlat, mlon)
            for _ in range(30):
                bad = np.isin(pcs[chosen], mpcs) | np.isin(cells[chosen], near_members)
                if not bad.any():
                    break
                chosen[bad] = eligible[(rng.random(int(bad.sum())) * len(eligible)).astype(np.int64)]
            subjects[slots] = chosen
        self.case_sub_flat = subjects
        self.case_sub_off = offsets[:-1]

    # ----------------------------------------------------------------- assembling

    def build(self) -> SyntheticForce:
        spec, rng = self.spec, self.rng
        self._read_staff()
        self._shifts()
        self._cases()
        self._base_nominals()
        # Expected events per shift (before the Poisson draw).
        frac = np.clip((self.shift_b - self.shift_a) / np.maximum(1, self.shift_end - self.shift_start), 0, 1)
        frac[self.shift_b <= self.shift_a] = 0.0
        expected = (
            self.staff_rate[self.shift_staff]
            * np.where(self.shift_night, 0.75, 1.0)
            * frac
            * rng.gamma(6.0, 1 / 6, len(frac))
        )
        total_expected = float(expected.sum())
        scale = spec.events / total_expected if spec.events is not None and total_expected > 0 else 1.0
        estimate = spec.events if spec.events is not None else total_expected
        count = spec.incidents_per_pattern
        if count is None:
            count = int(min(500, max(2, round(8 * math.sqrt(max(estimate, 1) / 150_000)))))
        self.null_queries = _null_queries(rng, 4000)
        self._background_declarations()
        # Nominals checks may land on (needed for volume spikes): base ones not reserved so far.
        self.check_candidates = np.flatnonzero(~np.array(self.n_reserved[: self.n_base]))
        self._inject(count, scale)
        self._special_hard_negatives(count)
        self._reserve_lookalikes()
        reserved = np.array(self.n_reserved, dtype=bool)
        self._case_subjects(reserved)
        batch_size = len(self.events) + sum(len(bulk.t) for bulk in self.bulk)
        adjust = 1.0 if spec.events is None else max(0, spec.events - batch_size) / max(1, spec.events)
        counts = rng.poisson(expected * scale * adjust).astype(np.int64)
        counts[self.shift_b <= self.shift_a] = 0
        return self._assemble(counts, reserved)

    def _assemble(self, counts: _Ints, reserved: _Bools) -> SyntheticForce:
        spec, rng = self.spec, self.rng
        n_nominals = len(self.n_surname)
        # Ids in a random order, so nothing about a nominal's id says how it was made.
        rank = rng.permutation(n_nominals)
        nominal_ids = [f"N{spec.start_number + int(r)}" for r in rank.tolist()]
        slot_cases = len(self.case_slot)
        all_opened = np.concatenate(
            [self.case_opened, np.array([o for _, o, _, _ in self.special_cases], dtype=np.int64)]
        )
        case_rank = np.argsort(np.argsort(all_opened, kind="stable"), kind="stable")
        case_refs = [f"C{spec.start_number + int(r)}" for r in case_rank.tolist()]
        # The lazy plan.
        order = np.lexsort((self.case_opened, self.case_slot))
        t0 = int(min(self.case_opened.min(initial=self.ws), self.ws)) - 1
        span = int(self.we - t0 + DAY)
        cumulative = np.cumsum(counts)
        total = int(cumulative[-1]) if len(cumulative) else 0
        cuts = (
            np.searchsorted(cumulative, np.arange(spec.chunk_rows, total, spec.chunk_rows), side="left") + 1
        )
        edges = np.unique(np.concatenate([[0], cuts, [len(counts)]])).astype(np.int64)
        first_id = spec.start_number
        devices = [
            (
                f"MDT{spec.start_number + s:06d}"
                if self.profiles[s].rota == "shift"
                else f"WS{spec.start_number + s:06d}"
            )
            for s in range(self.n_staff)
        ]
        plan = _Plan(
            seed=spec.seed,
            first_id=first_id,
            shift_staff=self.shift_staff,
            shift_a=self.shift_a,
            shift_b=self.shift_b,
            shift_start=self.shift_start,
            shift_night=self.shift_night,
            counts=counts,
            edges=edges,
            staff_ids=pa.array(self.staff_ids, pa.string()),
            devices=pa.array(devices, pa.string()),
            path_cum=self.path_cum,
            nslots=self.nslots,
            slot_base=self.slot_base,
            team_of=self.team_of,
            team_off=self.team_off,
            team_size=self.team_size,
            team_members=self.team_members,
            home_lat=self.home_lat,
            home_lon=self.home_lon,
            home_pc=self.home_pc,
            t0=t0,
            span=span,
            case_key=self.case_slot[order] * span + (self.case_opened[order] - t0),
            case_of_key=order.astype(np.int64),
            case_sub_off=self.case_sub_off,
            case_nsub=self.case_nsub,
            case_sub_flat=self.case_sub_flat,
            case_primary=self.case_primary,
            case_second=self.case_second,
            case_refs=pa.array(case_refs[:slot_cases], pa.string()),
            nominal_ids=pa.array(nominal_ids, pa.string()),
            nominal_lat=np.array(self.n_lat),
            nominal_lon=np.array(self.n_lon),
            nominal_pc=self.n_pc,
            queries=pa.array([self._query(i) for i in range(n_nominals)] + self.null_queries, pa.string()),
            n_null_queries=len(self.null_queries),
            check_pool=np.flatnonzero(~reserved).astype(np.int64),
            batch=EVENT_SCHEMA.empty_table(),
        )
        batch_first = first_id + total
        plan.batch, tags = self._batch(plan, case_refs, batch_first)
        hard = self._lazy_hard_negatives(plan)
        by_tag = np.argsort(tags, kind="stable")
        sorted_tags = tags[by_tag]
        tag_values, tag_starts = np.unique(sorted_tags, return_index=True)
        groups = np.split(by_tag, tag_starts[1:]) if len(tags) else []
        tagged = {
            int(value): [f"E{batch_first + int(i)}" for i in np.sort(group).tolist()]
            for value, group in zip(tag_values.tolist(), groups, strict=True)
        }
        for number, kind in enumerate(HARD_NEGATIVE_KINDS):
            hard[kind] += tagged.get(-2 - number, [])
        incidents: list[Incident] = []
        for number, pending in enumerate(self.pending):
            ids = tuple(tagged.get(number, ()))
            if not ids:
                continue
            incidents.append(
                Incident(
                    incident_id=f"I{spec.start_number + len(incidents)}",
                    pattern=str(pending.pattern),
                    staff_id=self.staff_ids[pending.staff],
                    subject_id=None if pending.subject is None else nominal_ids[pending.subject],
                    event_ids=ids,
                    detail=pending.detail,
                )
            )
        return SyntheticForce(
            staff=self.staff_rows,
            nominals=self._nominal_rows(nominal_ids, rank),
            cases=self._case_rows(case_refs, nominal_ids),
            rosters=self.rosters,
            declarations=self._declaration_rows(nominal_ids),
            incidents=incidents,
            hard_negatives={kind: tuple(hard[kind]) for kind in HARD_NEGATIVE_KINDS},
            spec=spec,
            plan=plan,
        )

    def _lazy_hard_negatives(self, plan: _Plan) -> dict[str, list[str]]:
        """Hard negatives among the legitimate events of the first chunk (kept if it is the only one)."""
        hard: dict[str, list[str]] = {kind: [] for kind in HARD_NEGATIVE_KINDS}
        if not plan.chunks or not plan.legit:
            return hard
        chunk = plan.chunk(0)
        first = plan.first_of(0)
        if plan.chunks == 1:
            plan.cached[0] = plan.table(chunk, first)
        rng = np.random.default_rng([self.spec.seed % 2**63, 4242])

        def ids(mask: _Bools, limit: int) -> list[str]:
            where = np.flatnonzero(mask)
            if len(where) > limit:
                where = np.sort(rng.choice(where, limit, replace=False))
            return [f"E{first + int(i)}" for i in where.tolist()]

        analyst = self.analyst[chunk.staff]
        if analyst.any():
            day = chunk.t // DAY
            key = chunk.staff * 100_000 + day
            keys, counts = np.unique(key[analyst], return_counts=True)
            busiest = keys[np.argsort(-counts, kind="stable")[:4]]
            hard["analyst_volume"] = ids(np.isin(key, busiest) & analyst, 1000)
        hard["night_shift"] = ids(chunk.night_late, 100)
        case = np.maximum(chunk.case, 0)
        teammate = (
            (chunk.path == _TEAM)
            & (chunk.staff != self.case_primary[case])
            & (chunk.staff != self.case_second[case])
        )
        hard["teammate_case"] = ids(teammate, 100)
        return hard

    def _batch(self, plan: _Plan, case_refs: list[str], first_id: int) -> tuple[pa.Table, _Ints]:
        """The injected and hard-negative events as one table (by time, ids from `first_id`), and the tag of
        each row: incident number, or -2 - the index of a hard-negative kind in HARD_NEGATIVE_KINDS."""
        rng = self.rng
        small = self.events
        ghosts: list[str] = []
        cite = []
        for event in small:
            marker = event.case_ref
            if marker is None:
                cite.append(-1)
            elif marker.startswith("#ghost"):
                cite.append(len(case_refs) + len(ghosts))
                ghosts.append(f"C{self.spec.start_number + len(case_refs) + 10_000 + len(ghosts)}")
            elif marker.startswith("#case"):
                cite.append(int(marker[5:]))
            else:
                cite.append(len(self.case_slot) + int(marker[8:]))
        n_nominals = len(self.n_surname)
        action = np.array([_ACTIONS.index(e.action) for e in small], dtype=np.int64)
        subject = np.array([e.subject for e in small], dtype=np.int64)
        tags = [e.tag if isinstance(e.tag, int) else -2 - HARD_NEGATIVE_KINDS.index(e.tag) for e in small]
        parts = {
            "t": [np.array([e.t for e in small], dtype=np.int64)],
            "staff": [np.array([e.staff for e in small], dtype=np.int64)],
            "subject": [subject],
            "cite": [np.array(cite, dtype=np.int64)],
            "action": [action],
            "query": [np.where((action == _SEARCH) & (subject >= 0), subject, -1)],
            "tag": [np.array(tags, dtype=np.int64)],
        }
        for bulk in self.bulk:
            count = len(bulk.t)
            parts["t"].append(bulk.t)
            parts["staff"].append(np.full(count, bulk.staff, dtype=np.int64))
            parts["subject"].append(bulk.subject)
            parts["cite"].append(np.full(count, -1, dtype=np.int64))
            parts["action"].append(np.full(count, _SEARCH, dtype=np.int64))
            parts["query"].append(np.where(bulk.subject >= 0, bulk.subject, n_nominals + bulk.blind))
            parts["tag"].append(np.full(count, bulk.tag, dtype=np.int64))
        columns = {name: np.concatenate(arrays).astype(np.int64) for name, arrays in parts.items()}
        n = len(columns["t"])
        order = np.argsort(columns["t"], kind="stable")
        chunk = _Chunk(
            t=columns["t"][order],
            staff=columns["staff"][order],
            subject=columns["subject"][order],
            case=columns["cite"][order],
            cite=columns["cite"][order],
            action=columns["action"][order],
            system=np.searchsorted(np.cumsum(_SYSTEM_P)[:-1], rng.random(n), side="right").astype(np.int64),
            query=columns["query"][order],
            nodevice=rng.random(n) < 0.02,
            path=np.zeros(n, dtype=np.int64),
            night_late=np.zeros(n, dtype=bool),
        )
        table = plan.table(chunk, first_id, case_refs=pa.array(case_refs + ghosts, pa.string()))
        return table, columns["tag"][order]

    # ----------------------------------------------------------------- rows

    def _nominal_rows(self, nominal_ids: list[str], rank: _Ints) -> list[dict[str, str]]:
        rng = self.rng
        numbers = rng.integers(1, 180, len(nominal_ids)).tolist()
        streets = rng.integers(0, len(STREETS), len(nominal_ids)).tolist()
        rows = [
            {
                "subject_id": nominal_ids[i],
                "surname": self.n_surname[i],
                "forenames": self.n_forenames[i],
                "date_of_birth": date.fromordinal(self.n_dob[i]).isoformat(),
                "postcode": self.n_postcode[i],
                "lat": f"{self.n_lat[i]:.5f}",
                "lon": f"{self.n_lon[i]:.5f}",
                "flags": self.n_flags[i],
                "address": f"{numbers[i]} {STREETS[streets[i]]}, "
                f"{post_town(self.n_postcode[i], AREAS[self.n_area[i]].code)}",
            }
            for i in range(len(nominal_ids))
        ]
        return [rows[i] for i in np.argsort(rank).tolist()]

    def _case_rows(self, case_refs: list[str], nominal_ids: list[str]) -> list[dict[str, str]]:
        def moment(t: int) -> str:
            return datetime.fromtimestamp(t, _LONDON).isoformat()

        rows = []
        flat = self.case_sub_flat.tolist()
        for c in range(len(self.case_slot)):
            start = int(self.case_sub_off[c])
            subjects = sorted({nominal_ids[i] for i in flat[start : start + int(self.case_nsub[c])]})
            staff = [self.staff_ids[int(self.case_primary[c])]]
            if self.case_second[c] >= 0:
                staff.append(self.staff_ids[int(self.case_second[c])])
            closed = int(self.case_closed[c])
            rows.append(
                {
                    "case_ref": case_refs[c],
                    "kind": self.case_kind[c],
                    "opened_at": moment(int(self.case_opened[c])),
                    "closed_at": moment(closed) if closed >= 0 else "",
                    "team_id": self.team_names[int(self.case_team[c])],
                    "assigned_staff": ";".join(staff),
                    "subject_ids": ";".join(subjects),
                }
            )
        for number, (s, opened, people, kind) in enumerate(self.special_cases):
            rows.append(
                {
                    "case_ref": case_refs[len(self.case_slot) + number],
                    "kind": kind,
                    "opened_at": moment(opened),
                    "closed_at": "",
                    "team_id": self.team_names[int(self.team_of[s])],
                    "assigned_staff": self.staff_ids[s],
                    "subject_ids": ";".join(sorted(nominal_ids[p] for p in people)),
                }
            )
        rows.sort(key=lambda row: int(row["case_ref"][1:]))
        return rows

    def _declaration_rows(self, nominal_ids: list[str]) -> list[dict[str, str]]:
        order = self.rng.permutation(len(self.declarations)).tolist()
        rows = []
        for number, index in enumerate(order):
            row = dict(self.declarations[index])
            row["declaration_id"] = f"D{self.spec.start_number + number}"
            if row["subject_id"].startswith("#"):
                row["subject_id"] = nominal_ids[int(row["subject_id"][1:])]
            rows.append(row)
        return rows


_VARIANTS = {
    "upper": "in capitals",
    "initial": "an initial for the forename",
    "mc": "Mac for Mc",
    "hyphen": "a space for the hyphen",
    "dob": "date of birth",
    "postcode": "postcode",
}


def _ranges(starts: _Ints, lengths: _Ints) -> _Ints:
    """starts[0] .. starts[0]+lengths[0]-1, starts[1] .. : the concatenated ranges."""
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return (np.repeat(starts - before, lengths) + np.arange(total)).astype(np.int64)


def _null_queries(rng: np.random.Generator, count: int) -> list[str]:
    """Searches that find nobody: vehicles, phone numbers, addresses, names not held."""
    letters = "ABCDEFGHJKLMNOPRSTUVWXY"
    others = (
        "KOWALSKI",
        "NOWAK",
        "OKONKWO",
        "FERREIRA",
        "DUBOIS",
        "ROSSI",
        "MULLER",
        "IVANOV",
        "HANSEN",
        "BAKSHI",
    )
    queries = []
    for _ in range(count):
        kind = int(rng.integers(0, 4))
        if kind == 0:
            plate = "".join(letters[int(i)] for i in rng.integers(0, len(letters), 5))
            queries.append(f"VRM {plate[:2]}{int(rng.integers(10, 75))} {plate[2:]}")
        elif kind == 1:
            queries.append(f"PHONE 07700 9{int(rng.integers(0, 100_000)):05d}")
        elif kind == 2:
            town = TOWNS[AREAS[int(rng.integers(0, len(AREAS)))].code].upper()
            street = STREETS[int(rng.integers(0, len(STREETS)))].upper()
            queries.append(f"ADDRESS {int(rng.integers(1, 200))} {street} {town}")
        else:
            forename = FORENAMES[int(rng.integers(0, len(FORENAMES)))].upper()
            queries.append(f"{others[int(rng.integers(0, len(others)))]}/{forename}")
    return queries
