"""Synthetic data.police.uk stop-and-search files for tests, the demo and the benchmarks (stopsearch.md).

`write_force(directory, force, first_month, months, records_per_month, seed)` writes one CSV per month,
`YYYY-MM-<force>-stop-and-search.csv`, with exactly the 15 published columns (`schemas.PUBLISHED_COLUMNS`)
and, with `force_columns=True`, the force-system columns after them (`schemas.FORCE_COLUMNS`). The same
arguments always give byte-identical files; each month is a function of the seed, the force and the month
only, so months can be written in any order. The published columns are the same with or without the
force-system columns (those are drawn from a separate stream).

What makes the files realistic (the figures are those of the real Metropolitan Police 2018 and City of
London 2017-2020 files in `../shared/data/stop-search/`):

- `Type`: about 74% `Person search`, 24.5% `Person and Vehicle search`, 1.5% `Vehicle search`; a vehicle-only
  search has blank gender, age range and both ethnicities, and a blank strip-search column;
- the self-defined labels are data.police.uk's 17 (`SELF_DEFINED_LABELS`), about 15% `Other ethnic group -
  Not stated` and 1% blank; the officer-defined group agrees with the person's group most of the time
  (officers have no Mixed category, as in the real files);
- people are searched in proportion to the force area's population times a per-group rate relative to White
  (`ForceProfile.relative_rates`): Black people several times as often as White people;
- finds (`Outcome linked to object of search` True) are rarer for Black people than for White people, rarer
  for supply than for possession-only drug searches; about 30% of rows leave the linked column blank;
- outcomes use the old vocabulary before April 2018 and the new one from then on (`schemas.OLD_OUTCOMES`,
  `schemas.NEW_OUTCOMES`); about 15% of rows have no coordinates;
- dates are data.police.uk's, `2018-01-01T00:05:00+00:00`, sorted, busiest in the afternoon and evening.

Writing is vectorised (numpy draws, pyarrow string columns, DuckDB's CSV writer): a million records take a
few seconds.
"""

from __future__ import annotations

import calendar
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from custodes.stopsearch.schemas import (
    CENSUSES,
    FORCE_COLUMNS,
    POPULATION_GROUPS,
    PUBLISHED_COLUMNS,
)
from custodes.workforce.demo import AREA_TEAMS, AREAS

__all__ = [
    "DEMO_AREA",
    "NEW_VOCABULARY_FROM",
    "NOT_STATED_LABEL",
    "PROFILES",
    "SELF_DEFINED_LABELS",
    "WEAK_GROUNDS",
    "ForceProfile",
    "file_name",
    "month_table",
    "population_rows",
    "profile_for",
    "write_force",
]

# The demo force's divisions (workforce/demo.py) are in Kent: its records are generated for the Kent force
# area's people and places, and imported as the demo force's own (stopsearch/demo.py), not as Kent Police's.
DEMO_AREA = "kent"
NEW_VOCABULARY_FROM = "2018-04"  # data.police.uk's outcome vocabulary changed in April 2018
NOT_STATED_LABEL = "Other ethnic group - Not stated"

# The person's ethnic group (the generator's truth), in the order of schemas.GROUPS without "Not stated".
_GROUPS = POPULATION_GROUPS  # White, Black, Asian, Mixed, Other

# data.police.uk's self-defined labels by group, with their share within the group.
_SELF_LABELS: dict[str, tuple[tuple[str, float], ...]] = {
    "White": (
        ("White - English/Welsh/Scottish/Northern Irish/British", 0.78),
        ("White - Any other White background", 0.19),
        ("White - Irish", 0.03),
    ),
    "Black": (
        ("Black/African/Caribbean/Black British - African", 0.34),
        ("Black/African/Caribbean/Black British - Caribbean", 0.28),
        ("Black/African/Caribbean/Black British - Any other Black/African/Caribbean background", 0.38),
    ),
    "Asian": (
        ("Asian/Asian British - Any other Asian background", 0.30),
        ("Asian/Asian British - Bangladeshi", 0.22),
        ("Asian/Asian British - Pakistani", 0.20),
        ("Asian/Asian British - Indian", 0.22),
        ("Asian/Asian British - Chinese", 0.06),
    ),
    "Mixed": (
        ("Mixed/Multiple ethnic groups - White and Black Caribbean", 0.35),
        ("Mixed/Multiple ethnic groups - Any other Mixed/Multiple ethnic background", 0.41),
        ("Mixed/Multiple ethnic groups - White and Black African", 0.13),
        ("Mixed/Multiple ethnic groups - White and Asian", 0.11),
    ),
    "Other": (("Other ethnic group - Any other ethnic group", 1.0),),
}
SELF_DEFINED_LABELS = (*(label for g in _GROUPS for label, _ in _SELF_LABELS[g]), NOT_STATED_LABEL)
_NOT_STATED_SHARE = 0.15  # of person searches: the person declined to state (a large share, as published)
_SELF_BLANK_SHARE = 0.01

# Officer-defined group given the person's group: (White, Black, Asian, Other, blank).
_OFFICER_LABELS = ("White", "Black", "Asian", "Other", None)
_OFFICER_GIVEN_GROUP = np.array(
    [
        [0.950, 0.008, 0.008, 0.019, 0.015],  # White
        [0.020, 0.930, 0.008, 0.027, 0.015],  # Black
        [0.040, 0.010, 0.880, 0.055, 0.015],  # Asian
        [0.340, 0.440, 0.080, 0.125, 0.015],  # Mixed
        [0.200, 0.080, 0.250, 0.455, 0.015],  # Other
    ]
)

_TYPES = (("Person search", 0.74), ("Person and Vehicle search", 0.245), ("Vehicle search", 0.015))
_GENDERS = (("Male", 0.915), ("Female", 0.072), ("Other", 0.001), (None, 0.012))
_AGES = (("18-24", 0.32), ("25-34", 0.22), ("over 34", 0.17), ("10-17", 0.19), ("under 10", 0.0005))
_AGE_BLANK = 1.0 - sum(share for _, share in _AGES)

_DRUGS = "Misuse of Drugs Act 1971 (section 23)"
_PACE = "Police and Criminal Evidence Act 1984 (section 1)"
_S60 = "Criminal Justice and Public Order Act 1994 (section 60)"
# (legislation, object of search, share, find probability for a White person)
_GROUNDS_FOR: tuple[tuple[str | None, str | None, float, float], ...] = (
    (_DRUGS, "Controlled drugs", 0.600, 0.34),
    (_PACE, "Offensive weapons", 0.140, 0.14),
    (_PACE, "Stolen goods", 0.090, 0.22),
    (_PACE, "Evidence of offences under the Act", 0.040, 0.25),
    (_PACE, "Article for use in theft", 0.050, 0.20),
    (_PACE, "Articles for use in criminal damage", 0.010, 0.15),
    (_PACE, "Fireworks", 0.004, 0.20),
    (_S60, "Anything to threaten or harm anyone", 0.035, 0.05),
    ("Firearms Act 1968 (section 47)", "Firearms", 0.010, 0.10),
    ("Psychoactive Substances Act 2016 (s36(2))", "Psychoactive substances", 0.002, 0.30),
    (_PACE, None, 0.004, 0.15),
    (None, None, 0.001, 0.15),
)
_DRUGS_OBJECT = 0
_SUPPLY_SHARE = 0.2  # of drug searches: suspected supply rather than possession only
_SUPPLY_FIND_FACTOR = 0.65
# Finds per search relative to White, by the person's group (lower find rates where the search rate is
# higher: the disparity the inspectorate asked forces to look for); "Not stated" sits between.
_FIND_FACTOR = np.array([1.0, 0.8, 0.88, 0.92, 0.9])
_NOT_STATED_FIND_FACTOR = 0.85

# Outcomes given a find / no find, in the new vocabulary, and the old label for each.
_NEW_FOUND = (
    ("Arrest", 0.38),
    ("Community resolution", 0.16),
    ("Khat or Cannabis warning", 0.16),
    ("Penalty Notice for Disorder", 0.10),
    ("Summons / charged by post", 0.10),
    ("Caution (simple or conditional)", 0.03),
    ("A no further action disposal", 0.07),
)
_NEW_NOT_FOUND = (
    ("A no further action disposal", 0.885),
    ("Arrest", 0.09),
    ("Community resolution", 0.012),
    ("Summons / charged by post", 0.008),
    ("Penalty Notice for Disorder", 0.005),
)
_OLD_FOR_NEW = {
    "A no further action disposal": "Nothing found - no further action",
    "Arrest": "Suspect arrested",
    "Community resolution": "Local resolution",
    "Khat or Cannabis warning": "Offender given drugs possession warning",
    "Penalty Notice for Disorder": "Offender given penalty notice",
    "Summons / charged by post": "Suspect summonsed to court",
    "Caution (simple or conditional)": "Offender cautioned",
}
_OLD_FOUND_NO_ACTION = "Article found - Detailed outcome unavailable"
_OUTCOME_BLANK = 0.004
_LINKED_BLANK = 0.30
_COORDINATES_BLANK = 0.15
_OPERATION_SHARE = 0.004
_OPERATIONS = ("Operation Sceptre", "Operation Orochi", "Operation Viper")

# Searches by hour of day (relative), busiest in the afternoon and evening.
_HOURLY = np.array([5, 4, 3, 2, 1.5, 1, 1, 1.5, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8, 7.5, 7, 6])

# Force-system columns.
_GOOD_GROUNDS: dict[str | None, tuple[str, ...]] = {
    "Controlled drugs": (
        "Strong smell of cannabis coming from the male, who was seen passing a small package to another",
        "Seen by officers exchanging small wraps for cash in a known drug-dealing location",
        "Intelligence report (graded B2) that the person carries class A drugs; matched the description",
        "Strong smell of cannabis from the vehicle; the driver admitted smoking cannabis earlier",
        "CCTV operator saw the person hand over a package and receive cash, then walk away quickly",
    ),
    "Offensive weapons": (
        'Caller reported a male "waving a knife" nearby; the person matched the description given',
        "Seen concealing a bladed article in the waistband when officers approached",
        "Outline of a knife visible in the jacket pocket; the person tried to leave on seeing police",
    ),
    "Stolen goods": (
        "Matched the description of a shoplifting suspect given minutes earlier, carrying store bags",
        "Seen leaving a burgled premises carrying a laptop, in the area of a reported burglary",
    ),
    "Article for use in theft": (
        "Seen trying car door handles along the street, one after another",
        "Seen looking into parked cars with a torch at 03:00; screwdriver visible in hand",
    ),
}
_DEFAULT_GOOD_GROUNDS = (
    "Matched the description of a suspect circulated on the radio minutes earlier",
    "Seen by officers committing the offence; admitted carrying the item when asked",
    "Information from a named witness at the scene about the item carried",
)
WEAK_GROUNDS = (
    "Acting suspiciously",
    "Nervous when approached by officers",
    "Known to police",
    "In a high crime area late at night",
    "Smell of cannabis",
)
_GROUNDS_QUALITY = (0.78, 0.16, 0.06)  # good, weak, blank: about 80% with grounds recorded
_BODY_WORN_VIDEO = (("yes", 0.86), ("no", 0.14))


@dataclass(frozen=True, slots=True)
class ForceProfile:
    """What a synthetic force looks like: where it is, who lives there, and whom it searches how often."""

    force: str
    centre: tuple[float, float]  # latitude, longitude
    spread: tuple[float, float]  # standard deviations in degrees
    population: dict[str, int] | None  # Census 2011 by group (Asian includes Chinese); None: no figure
    relative_rates: dict[str, float]  # person searches per resident, relative to White
    operation_column: str | None = "False"  # `Part of a policing operation` when not part of one
    officers: int = 400


_ENGLAND_AND_WALES_2011 = {
    "White": 48_209_395,
    "Black": 1_864_890,
    "Asian": 4_213_531,
    "Mixed": 1_224_400,
    "Other": 563_696,
}
PROFILES = {
    # Census 2011 (census2011_police-categories_by_PFA.csv; Asian = Asian + Chinese).
    "kent": ForceProfile(
        "kent",
        (51.27, 0.72),
        (0.10, 0.30),
        {"White": 1_607_681, "Black": 22_879, "Asian": 61_229, "Mixed": 27_283, "Other": 8_593},
        {"White": 1.0, "Black": 6.5, "Asian": 1.1, "Mixed": 2.2, "Other": 4.0},
    ),
    "metropolitan": ForceProfile(
        "metropolitan",
        (51.51, -0.12),
        (0.08, 0.16),
        {"White": 4_881_636, "Black": 1_088_447, "Asian": 1_510_606, "Mixed": 404_990, "Other": 280_887},
        {"White": 1.0, "Black": 4.0, "Asian": 1.45, "Mixed": 1.35, "Other": 1.5},
        officers=3000,
    ),
    # No population figure (its residents are few and its searches are of commuters and visitors).
    "city-of-london": ForceProfile(
        "city-of-london",
        (51.515, -0.09),
        (0.006, 0.012),
        None,
        {"White": 1.0, "Black": 2.5, "Asian": 1.5, "Mixed": 1.2, "Other": 1.5},
        operation_column=None,
        officers=150,
    ),
}
# Census 2021 is not bundled: a synthetic stand-in that grows each group as England and Wales did.
_GROWTH_2021 = {"White": 1.01, "Black": 1.32, "Asian": 1.33, "Mixed": 1.40, "Other": 2.3}


def profile_for(force: str) -> ForceProfile:
    """The profile of a known force, or a mid-sized force with England and Wales's mix for any other id."""
    known = PROFILES.get(force)
    if known is not None:
        return known
    scale = 1_500_000 / sum(_ENGLAND_AND_WALES_2011.values())
    return ForceProfile(
        force,
        (52.5 + (_stable(force) % 200) / 100, -1.5 + (_stable(force) % 300) / 100),
        (0.12, 0.2),
        {group: round(count * scale) for group, count in _ENGLAND_AND_WALES_2011.items()},
        {"White": 1.0, "Black": 6.0, "Asian": 2.2, "Mixed": 2.4, "Other": 2.8},
    )


def population_rows(
    force: str, census: str = "census2011", *, area: str | None = None
) -> list[dict[str, str]]:
    """The force area's residents by group, as rows of `custodes import population` (imports.md):
    `force, census, group, population`; with `area`, that force's figures under `force`'s name. Census 2021
    figures are synthetic (2011 grown by group)."""
    if census not in CENSUSES:
        raise ValueError(f"unknown census {census!r}; expected one of {', '.join(CENSUSES)}")
    population = profile_for(area or force).population
    if population is None:
        return []
    growth = _GROWTH_2021 if census == "census2021" else dict.fromkeys(_GROUPS, 1.0)
    return [
        {"force": force, "census": census, "group": group, "population": str(round(count * growth[group]))}
        for group, count in population.items()
    ]


def file_name(force: str, month: str) -> str:
    return f"{month}-{force}-stop-and-search.csv"


def write_force(
    directory: Path,
    force: str,
    first_month: str,
    months: int,
    records_per_month: int,
    seed: int,
    force_columns: bool = False,
    area: str | None = None,
) -> list[Path]:
    """Write `months` monthly files from `first_month` (YYYY-MM) into `directory`; return their paths. With
    `area`, the records are that force's (the same as for it) in files named for `force`."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    # DuckDB's CSV writer is data.police.uk's dialect: header unquoted, a field quoted only when it must be,
    # a blank cell for null (pyarrow's quotes every string); and it writes on every core.
    with duckdb.connect() as connection:
        for month in _months(first_month, months):
            table = month_table(force, month, records_per_month, seed, force_columns=force_columns, area=area)
            path = directory / file_name(force, month)
            connection.register("month_records", table)
            connection.execute(f"COPY month_records TO '{_sql_text(path)}' (FORMAT csv, HEADER true)")
            connection.unregister("month_records")
            paths.append(path)
    return paths


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")


def month_table(
    force: str, month: str, records: int, seed: int, *, force_columns: bool = False, area: str | None = None
) -> pa.Table:
    """One month's records as a table of strings (nulls are blank cells), columns in the published order;
    with `area`, the records generated for that force (data.police.uk's rows do not name the force)."""
    force = area or force
    profile = profile_for(force)
    year, number = (int(part) for part in month.split("-"))
    rng = np.random.default_rng([seed, _stable(force), year * 12 + number - 1])
    n = records
    columns: dict[str, pa.Array] = {}

    search_type = _draw(rng, [share for _, share in _TYPES], n)
    vehicle_only = search_type == 2
    columns["Type"] = _labels([label for label, _ in _TYPES], search_type)
    columns["Date"] = _dates(rng, year, number, n)
    operation = rng.random(n) < _OPERATION_SHARE
    columns["Part of a policing operation"] = _where(operation, "True", profile.operation_column)
    columns["Policing operation"] = _labels(_OPERATIONS, rng.integers(0, len(_OPERATIONS), n), ~operation)
    blank_place = rng.random(n) < _COORDINATES_BLANK
    latitude = profile.centre[0] + rng.normal(0.0, profile.spread[0], n)
    longitude = profile.centre[1] + rng.normal(0.0, profile.spread[1], n)
    columns["Latitude"] = _coordinates(latitude, blank_place)
    columns["Longitude"] = _coordinates(longitude, blank_place)
    columns["Gender"] = _labels(
        [label for label, _ in _GENDERS], _draw(rng, [s for _, s in _GENDERS], n), vehicle_only
    )
    ages = [label for label, _ in _AGES] + [None]
    columns["Age range"] = _labels(ages, _draw(rng, [s for _, s in _AGES] + [_AGE_BLANK], n), vehicle_only)

    # The person's group: population × relative search rate.
    population = profile.population or _ENGLAND_AND_WALES_2011
    weights = np.array([population[g] * profile.relative_rates[g] for g in _GROUPS])
    group = _draw(rng, weights, n)
    self_label, not_stated = _self_defined(rng, group, n)
    columns["Self-defined ethnicity"] = _labels((*SELF_DEFINED_LABELS, None), self_label, vehicle_only)
    officer = _draw_given(rng, _OFFICER_GIVEN_GROUP, group)
    columns["Officer-defined ethnicity"] = _labels(_OFFICER_LABELS, officer, vehicle_only)

    grounds_for = _draw(rng, [share for *_, share, _find in _GROUNDS_FOR], n)
    columns["Legislation"] = _labels([row[0] for row in _GROUNDS_FOR], grounds_for)
    columns["Object of search"] = _labels([row[1] for row in _GROUNDS_FOR], grounds_for)
    drugs = grounds_for == _DRUGS_OBJECT
    supply = drugs & (rng.random(n) < _SUPPLY_SHARE)
    find_probability = np.array([row[3] for row in _GROUNDS_FOR])[grounds_for] * np.where(
        not_stated, _NOT_STATED_FIND_FACTOR, _FIND_FACTOR[group]
    )
    find_probability = np.where(supply, find_probability * _SUPPLY_FIND_FACTOR, find_probability)
    found = rng.random(n) < find_probability
    columns["Outcome"] = _outcomes(rng, found, drugs, old=month < NEW_VOCABULARY_FROM)
    linked_blank = rng.random(n) < _LINKED_BLANK
    columns["Outcome linked to object of search"] = _labels(
        ("False", "True"), found.astype(np.int8), linked_blank
    )
    removal = _draw(rng, [0.93, 0.03, 0.04], n)  # False, True, blank
    columns["Removal of more than just outer clothing"] = _labels(
        ("False", "True", None), removal, vehicle_only
    )

    if force_columns:
        extra = np.random.default_rng([seed, _stable(force), year * 12 + number - 1, 1])
        columns.update(_force_columns(extra, profile, grounds_for, drugs, supply, n))
    names = PUBLISHED_COLUMNS + (FORCE_COLUMNS if force_columns else ())
    return pa.table({name: columns[name] for name in names})


# --------------------------------------------------------------------------- the parts


def _stable(text: str) -> int:
    return zlib.crc32(text.encode())


def _months(first: str, count: int) -> list[str]:
    year, month = (int(part) for part in first.split("-"))
    start = year * 12 + month - 1
    return [f"{(start + k) // 12:04d}-{(start + k) % 12 + 1:02d}" for k in range(count)]


def _draw(rng: np.random.Generator, weights: npt.ArrayLike, n: int) -> npt.NDArray[np.intp]:
    """n indices drawn with the given (relative) weights."""
    cumulative = np.cumsum(np.asarray(weights, dtype=float))
    cumulative /= cumulative[-1]
    return np.minimum(np.searchsorted(cumulative, rng.random(n), side="right"), len(cumulative) - 1)


def _draw_given(
    rng: np.random.Generator, table: npt.NDArray[np.float64], given: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp]:
    """For each row, an index drawn from the row of `table` (relative weights) picked by `given`."""
    cumulative = np.cumsum(table, axis=1)
    cumulative /= cumulative[:, -1:]
    chosen = (rng.random(len(given))[:, None] >= cumulative[given]).sum(axis=1)
    return np.minimum(chosen, table.shape[1] - 1)


def _labels(
    vocabulary: Sequence[str | None],
    index: npt.NDArray[np.integer],
    blank: npt.NDArray[np.bool_] | None = None,
) -> pa.Array:
    """`vocabulary[index]` as a string column; rows where `blank` is set (or the label is None) are null."""
    array = pc.take(pa.array(list(vocabulary), pa.string()), pa.array(index))
    if blank is None:
        return array
    return pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), array)


def _where(mask: npt.NDArray[np.bool_], value: str, otherwise: str | None) -> pa.Array:
    return _labels((otherwise, value), mask.astype(np.int8))


_TIMES_OF_DAY = pa.array([f"T{m // 60:02d}:{m % 60:02d}:00+00:00" for m in range(1440)], pa.string())


def _dates(rng: np.random.Generator, year: int, month: int, n: int) -> pa.Array:
    """Minutes of the month, in order, as data.police.uk writes them: `2018-01-01T00:05:00+00:00`."""
    days = calendar.monthrange(year, month)[1]
    day = np.sort(rng.integers(0, days, n))
    minute = _draw(rng, _HOURLY, n) * 60 + rng.integers(0, 60, n)
    # In date order (nothing else drawn depends on the time): sort the minutes within each day.
    minute = minute[np.lexsort((minute, day))]
    dates = pa.array([f"{year:04d}-{month:02d}-{d + 1:02d}" for d in range(days)], pa.string())
    return pc.binary_join_element_wise(
        pc.take(dates, pa.array(day)), pc.take(_TIMES_OF_DAY, pa.array(minute)), ""
    )


def _coordinates(values: npt.NDArray[np.float64], blank: npt.NDArray[np.bool_]) -> pa.Array:
    text = pc.cast(pa.array(np.round(values, 6)), pa.string())
    return pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), text)


def _self_defined(
    rng: np.random.Generator, group: npt.NDArray[np.intp], n: int
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Index into SELF_DEFINED_LABELS (len = blank) and whether the person did not state their group."""
    width = max(len(_SELF_LABELS[g]) for g in _GROUPS)
    table = np.zeros((len(_GROUPS), width))
    offsets = np.zeros(len(_GROUPS), dtype=np.intp)
    position = 0
    for row, name in enumerate(_GROUPS):
        shares = [share for _, share in _SELF_LABELS[name]]
        table[row, : len(shares)] = shares
        offsets[row] = position
        position += len(shares)
    label = offsets[group] + _draw_given(rng, table, group)
    chance = rng.random(n)
    not_stated = chance < _NOT_STATED_SHARE + _SELF_BLANK_SHARE
    label = np.where(chance < _NOT_STATED_SHARE, len(SELF_DEFINED_LABELS) - 1, label)
    label = np.where(not_stated & ~(chance < _NOT_STATED_SHARE), len(SELF_DEFINED_LABELS), label)
    return label, not_stated


def _outcomes(
    rng: np.random.Generator, found: npt.NDArray[np.bool_], drugs: npt.NDArray[np.bool_], *, old: bool
) -> pa.Array:
    vocabulary = [label for label, _ in _NEW_FOUND]
    not_found = np.array([dict(_NEW_NOT_FOUND).get(label, 0.0) for label in vocabulary])
    table = np.array([[share for _, share in _NEW_FOUND], not_found])
    outcome = _draw_given(rng, table, (~found).astype(np.intp))
    warning = vocabulary.index("Khat or Cannabis warning")
    outcome = np.where((outcome == warning) & ~drugs, vocabulary.index("Community resolution"), outcome)
    labels: Sequence[str | None] = vocabulary
    if old:
        labels = [*(_OLD_FOR_NEW[label] for label in vocabulary), _OLD_FOUND_NO_ACTION]
        no_action = vocabulary.index("A no further action disposal")
        outcome = np.where(found & (outcome == no_action), len(vocabulary), outcome)
    return _labels(labels, outcome, rng.random(len(found)) < _OUTCOME_BLANK)


def _teams() -> list[str]:
    """Teams that search people: the response and neighbourhood teams of the demo force's divisions."""
    return [
        f"{area.code}-{kind}{number}"
        for area in AREAS
        for kind, teams, _size in AREA_TEAMS
        if kind in ("RESP", "NHP")
        for number in range(1, teams + 1)
    ]


def _force_columns(
    rng: np.random.Generator,
    profile: ForceProfile,
    grounds_for: npt.NDArray[np.intp],
    drugs: npt.NDArray[np.bool_],
    supply: npt.NDArray[np.bool_],
    n: int,
) -> dict[str, pa.Array]:
    texts: list[str] = []
    offsets = []
    for _legislation, object_of_search, _share, _find in _GROUNDS_FOR:
        offsets.append((len(texts), len(_GOOD_GROUNDS.get(object_of_search, _DEFAULT_GOOD_GROUNDS))))
        texts.extend(_GOOD_GROUNDS.get(object_of_search, _DEFAULT_GOOD_GROUNDS))
    weak_start = len(texts)
    texts.extend(WEAK_GROUNDS)
    start = np.array([first for first, _ in offsets])[grounds_for]
    count = np.array([size for _, size in offsets])[grounds_for]
    good = start + (rng.random(n) * count).astype(np.intp)
    weak = weak_start + rng.integers(0, len(WEAK_GROUNDS), n)
    quality = _draw(rng, _GROUNDS_QUALITY, n)
    grounds = _labels(texts, np.where(quality == 0, good, weak), quality == 2)
    drug_type = _labels(("possession", "supply"), supply.astype(np.int8), ~drugs)
    # Officers search at different rates (a few do most of it); each belongs to one team.
    teams = _teams()
    activity = 1.0 / np.arange(1, profile.officers + 1) ** 0.8
    officer = _draw(rng, activity, n)
    officer_ids = [f"P{_stable(profile.force) % 9 + 1}{k:04d}" for k in range(profile.officers)]
    team_of = [teams[(k * 7) % len(teams)] for k in range(profile.officers)]
    return {
        "Grounds": grounds,
        "Drug search type": drug_type,
        "Officer id": _labels(officer_ids, officer),
        "Team": _labels(team_of, officer),
        "Body-worn video": _labels(
            [v for v, _ in _BODY_WORN_VIDEO], _draw(rng, [s for _, s in _BODY_WORN_VIDEO], n)
        ),
    }
