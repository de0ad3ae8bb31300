"""`custodes import stop-searches` and `population`: every layout, every rule, all or nothing, replacement."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from custodes.kit.tabular import BatchRejected
from custodes.ledger.models import LedgerEntry
from custodes.settings import Settings
from custodes.stopsearch import service
from custodes.stopsearch.models import PopulationFigure, StopSearchMonth
from custodes.stopsearch.schemas import ReportRequest
from tests.stopsearch.rows import api_json, search, write

ACTOR = "system:test"


def _import(
    db: Session, settings: Settings, *paths: Path, force: str | None = None, month: str | None = None
) -> Any:
    summary = service.import_stop_searches(db, settings, list(paths), actor=ACTOR, force=force, month=month)
    db.commit()
    return summary


def _problems(
    db: Session, settings: Settings, *paths: Path, force: str | None = None, month: str | None = None
) -> list[str]:
    with pytest.raises(BatchRejected) as rejected:
        service.import_stop_searches(db, settings, list(paths), actor=ACTOR, force=force, month=month)
    return [str(problem) for problem in rejected.value.problems]


def _month_rows(db: Session, force: str = "kent") -> dict[str, int]:
    rows = db.scalars(select(StopSearchMonth).where(StopSearchMonth.force == force))
    return {row.month: row.records for row in rows}


def _report(
    db: Session, settings: Settings, force: str = "kent", first: str = "2019-05", last: str = "2019-05"
):
    return service.report(db, settings, ReportRequest(force, first, last))


def test_force_and_month_come_from_the_file_name(db: Session, settings: Settings, tmp_path: Path) -> None:
    path = write(
        tmp_path, "2019-05", "kent", [search(), search(group="Black"), search(kind="Vehicle search")]
    )
    summary = _import(db, settings, path)
    assert str(summary) == "stop-searches: 3 records in 1 force-month(s)"
    (month,) = db.scalars(select(StopSearchMonth)).all()
    assert (month.force, month.month, month.records, month.person_searches, month.vocabulary) == (
        "kent", "2019-05", 3, 2, "new",
    )  # fmt: skip
    assert (settings.home / "stopsearch" / "kent" / month.data_file).exists()
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.object_type == "stop_search_month")).one()
    assert (entry.op, entry.object_id) == ("collection", "kent/2019-05")


def test_reimporting_a_month_replaces_it_and_identical_rows_are_kept(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    first = write(tmp_path / "a", "2019-05", "kent", [search()] * 4)
    _import(db, settings, first)
    old_file = db.scalars(select(StopSearchMonth)).one().data_file
    second = write(tmp_path / "b", "2019-05", "kent", [search(), search(), search(group="Asian")])
    summary = _import(db, settings, second)
    assert summary.replaced == ("kent/2019-05",)  # type: ignore[attr-defined]
    report = _report(db, settings)
    assert report["records"] == 3, "replaced, not added to"
    assert report["groups"]["White"]["searches"] == 2, "identical rows are separate searches"
    assert not (settings.home / "stopsearch" / "kent" / old_file).exists()
    ops = db.scalars(select(LedgerEntry.op).where(LedgerEntry.object_type == "stop_search_month")).all()
    assert sorted(ops) == ["alteration", "collection"]


def test_force_option_and_its_conflicts(db: Session, settings: Settings, tmp_path: Path) -> None:
    unnamed = write(tmp_path, "2019-05", "kent", [search()], name="searches_2019-05.csv")
    assert _problems(db, settings, unnamed) == [
        f"{unnamed}:0: --force: no force: name the file YYYY-MM-<force>-stop-and-search.csv or give --force"
    ]
    named = write(tmp_path, "2019-05", "kent", [search()])
    assert _problems(db, settings, named, force="Essex") == [
        f"{named}:0: --force: the file name says 'kent' but --force says 'essex'"
    ]
    assert _problems(db, settings, unnamed, force="Atlantis Police") == [
        f"{unnamed}:0: --force: 'Atlantis Police' is not a police force"
    ]
    _import(db, settings, unnamed, force="Kent Police")
    assert _report(db, settings)["records"] == 1


def test_every_bad_cell_is_named_and_nothing_is_stored(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    good = write(tmp_path / "good", "2019-04", "kent", [search("2019-04")])
    bad_rows = [
        search(),
        search(kind="Foot search"),
        {**search(), "Date": "05/05/2019"},
        {**search(), "Outcome linked to object of search": "Maybe"},
        {**search(), "Latitude": "91.5", "Longitude": "east"},
        {**search(), "Self-defined ethnicity": "Martian - Green"},
        {**search(), "Officer-defined ethnicity": "Purple"},
        search(drug_search_type="dealing"),
    ]
    bad = write(tmp_path / "bad", "2019-05", "kent", bad_rows)
    problems = _problems(db, settings, good, bad)
    assert problems == [
        f"{bad}:3: Type: must be one of: Person search, Person and Vehicle search, Vehicle search",
        f"{bad}:4: Date: must be a date and time like 2018-04-01T13:05:00+00:00",
        f"{bad}:5: Outcome linked to object of search: must be True, False or blank",
        f"{bad}:6: Latitude: must be a number from -90 to 90, or blank",
        f"{bad}:6: Longitude: must be a number from -180 to 180, or blank",
        f"{bad}:7: Self-defined ethnicity: is not a recognised self-defined ethnicity (e.g. 'White - Irish')",
        f"{bad}:8: Officer-defined ethnicity: must be one of White, Black, Asian, Mixed, Other, or blank",
        f"{bad}:9: Drug search type: must be possession, supply or blank",
    ]
    assert db.scalars(select(StopSearchMonth)).all() == [], "the good file is not stored either"
    assert list((settings.home / "stopsearch").glob("*/*.parquet")) == []


def test_header_problems(db: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "2019-05-kent-stop-and-search.csv"
    path.write_text("Type,Date,Colour\nPerson search,2019-05-01T10:00:00+00:00,red\n")
    problems = _problems(db, settings, path)
    assert problems[0] == f"{path}:1: Colour: unknown column (expected the data.police.uk columns, see docs)"
    assert f"{path}:1: Outcome: required column is missing" in problems
    missing = tmp_path / "2019-06-kent-stop-and-search.csv"
    assert _problems(db, settings, missing) == [f"{missing}:0: -: file not found"]


def test_line_numbers_count_line_breaks_inside_quoted_grounds(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    rows = [search(grounds="Smelt of cannabis.\nAdmitted possession."), search(kind="Hovercraft search")]
    path = write(tmp_path, "2019-05", "kent", rows)
    assert _problems(db, settings, path) == [
        f"{path}:4: Type: must be one of: Person search, Person and Vehicle search, Vehicle search"
    ]


def test_both_outcome_vocabularies_and_blank_is_not_false(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    old = write(tmp_path, "2018-03", "kent", [
        search("2018-03", outcome="Suspect arrested", linked="True"),
        search("2018-03", outcome="Nothing found - no further action", linked=""),
    ])  # fmt: skip
    new = write(tmp_path, "2018-04", "kent", [
        search("2018-04", outcome="Arrest", linked="False"),
        search("2018-04", outcome="Community resolution", linked="True"),
    ])  # fmt: skip
    _import(db, settings, old, new)
    report = _report(db, settings, first="2018-03", last="2018-04")
    white = report["groups"]["White"]
    assert (white["searches"], white["arrests"], white["find_known"], white["finds"]) == (4, 2, 3, 2)
    assert report["data_quality"]["outcome_vocabulary"] == {"old": ["2018-03"], "new": ["2018-04"]}
    assert [m.vocabulary for m in db.scalars(select(StopSearchMonth).order_by(StopSearchMonth.month))] == [
        "old",
        "new",
    ]


def test_api_json_and_its_flattened_csv(
    db: Session, settings: Settings, tmp_path: Path, reference_data: Path
) -> None:
    api = [
        {
            "age_range": "18-24",
            "outcome": "Arrest",
            "involved_person": True,
            "self_defined_ethnicity": "Black/African/Caribbean/Black British - Caribbean",
            "gender": "Male",
            "legislation": "Misuse of Drugs Act 1971 (section 23)",
            "outcome_linked_to_object_of_search": True,
            "datetime": "2020-02-26T14:31:00+00:00",
            "removal_of_more_than_outer_clothing": False,
            "outcome_object": {"id": "bu-arrest", "name": "Arrest"},
            "location": {
                "latitude": "52.639335",
                "street": {"id": 883362, "name": "On or near Gravel Street"},
                "longitude": "-1.133940",
            },
            "operation": False,
            "officer_defined_ethnicity": "Black",
            "type": "Person search",
            "operation_name": None,
            "object_of_search": "Controlled drugs",
        },
    ]
    path = tmp_path / "leicester.json"
    path.write_text(json.dumps(api))
    _import(db, settings, path, force="leicestershire", month="2020-02")
    report = _report(db, settings, "leicestershire", "2020-02", "2020-02")
    black = report["groups"]["Black"]
    assert (black["searches"], black["arrests"], black["finds"], black["find_known"]) == (1, 1, 1, 1)
    flattened = reference_data / "api-flattened-example_leicestershire_2020-02.csv"
    _import(db, settings, flattened, force="leicestershire")
    assert _report(db, settings, "leicestershire", "2020-02", "2020-02")["records"] == 63, (
        "replaces the month"
    )


def test_semicolon_re_export_takes_force_and_month_from_its_file_name_column(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "processed.csv"
    path.write_text(
        '"id";"type";"date";"part_of_a_policing_operation";"policing_operation";"latitude";"longitude";"gender";'
        '"age_range";"self_defined_ethnicity";"officer_defined_ethnicity";"legislation";"object_of_search";'
        '"outcome";"outcome_linked_to_object_of_search";"removal_of_more_than_just_outer_clothing";"file_name"\n'
        '1;Person search;2023-12-01 03:40:12.000;"";"";"";"";Male;"25-34";White - Irish;White;"";'
        'Controlled drugs;Arrest;"1";"0";"2023-12-city-of-london-stop-and-search.csv"\n'
        '2;Person search;2023-11-30 03:40:12.000;"";"";"";"";Male;"25-34";White - Irish;White;"";'
        'Controlled drugs;Arrest;"0";"0";"2023-11-city-of-london-stop-and-search.csv"\n'
    )
    summary = _import(db, settings, path)
    assert summary.months == ("city-of-london/2023-11", "city-of-london/2023-12")  # type: ignore[attr-defined]
    report = _report(db, settings, "city-of-london", "2023-11", "2023-12")
    assert (report["groups"]["White"]["finds"], report["groups"]["White"]["find_known"]) == (1, 2)
    assert report["groups"]["White"]["population"] is None
    assert report["groups"]["White"]["rate_per_1000"] is None


def test_a_force_month_from_two_files_in_one_import_is_refused(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    one = write(tmp_path / "a", "2019-05", "kent", [search()])
    two = write(tmp_path / "b", "2019-05", "kent", [search()])
    assert _problems(db, settings, one, two) == [
        f"{two}:0: -: kent/2019-05 is also in {one}; import it from one file"
    ]


def test_population_long_and_by_force(db: Session, settings: Settings, tmp_path: Path) -> None:
    long = tmp_path / "population.csv"
    long.write_text(
        "force,census,group,population\nKent,census2021,White,1600000\nkent,census2021,Black,40000\n"
    )
    summary = service.import_population(db, [long], actor=ACTOR)
    assert str(summary) == "population: 2 new, 0 updated, 0 unchanged"
    wide = tmp_path / "by-force.csv"
    wide.write_text(
        "Police force,White,Black (or Black British),Asian (or Asian British),Chinese,Mixed,Other\n"
        "Kent,1607681,22879,54186,7043,27283,8593\n"
    )
    service.import_population(db, [wide], actor=ACTOR, census="census2011")
    figures = {
        (row.census, row.group): row.population
        for row in db.scalars(select(PopulationFigure).where(PopulationFigure.force == "kent"))
    }
    assert figures[("census2011", "Asian")] == 54186 + 7043, "Chinese is counted with Asian"
    assert figures[("census2021", "Black")] == 40000


def test_population_problems(db: Session, settings: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "population.csv"
    bad.write_text("force,census,group,population\nNarnia,census1066,Green,lots\n")
    with pytest.raises(BatchRejected) as rejected:
        service.import_population(db, [bad], actor=ACTOR)
    assert [str(p) for p in rejected.value.problems] == [
        f"{bad}:2: force: is not a police force",
        f"{bad}:2: census: must be one of census2011, census2021",
        f"{bad}:2: group: must be one of White, Black, Asian, Mixed, Other",
        f"{bad}:2: population: must be a whole number",
    ]
    wide = tmp_path / "wide.csv"
    wide.write_text("Police force,White\nKent,1\n")
    with pytest.raises(BatchRejected) as rejected:
        service.import_population(db, [wide], actor=ACTOR)
    assert [str(p) for p in rejected.value.problems] == [
        f"{wide}:1: --census: a table by force needs --census census2011|census2021"
    ]


def test_a_rolled_back_import_keeps_the_old_month_and_drops_the_new_file(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    _import(db, settings, write(tmp_path / "a", "2019-05", "kent", [search()] * 2))
    kept = db.scalars(select(StopSearchMonth)).one().data_file
    replacement = write(tmp_path / "b", "2019-05", "kent", [search()])
    service.import_stop_searches(db, settings, [replacement], actor=ACTOR)
    db.rollback()  # e.g. the commit failed, or the process stopped before it
    folder = settings.home / "stopsearch" / "kent"
    assert [path.name for path in folder.glob("*.parquet")] == [kept]
    assert _report(db, settings)["records"] == 2


def test_files_left_by_a_crash_are_swept_by_the_next_import(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    folder = settings.home / "stopsearch" / "kent"
    folder.mkdir(parents=True)
    orphan = folder / "2019-04.deadbeef0000.parquet"
    orphan.write_bytes(b"written, never committed")
    young = folder / "2019-04.0123456789ab.parquet"
    young.write_bytes(b"another import, still running")
    os.utime(orphan, (0, 0))
    _import(db, settings, write(tmp_path, "2019-05", "kent", [search()]))
    assert not orphan.exists()
    assert young.exists(), "a file younger than an hour may belong to an import in progress"


def test_data_flags_name_missing_months_and_the_vocabulary_change(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    files = [
        write(tmp_path, "2018-02", "kent", [search("2018-02", outcome="Suspect arrested")]),
        write(tmp_path, "2018-04", "kent", [search("2018-04", kind="Vehicle search")]),
        write(tmp_path, "2018-05", "kent", [search("2018-05", outcome="Arrest"), search("2018-05")]),
    ]
    _import(db, settings, *files)
    (force,) = service.force_summaries(db)
    assert service.data_flags(force) == [
        "No records for March 2018.",
        "No person searches in April 2018.",
        "Outcomes change list in April 2018: only arrests compare across the change.",
    ]


def test_a_file_is_one_force_month_and_never_replaces_a_month_its_rows_spill_into(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    _import(db, settings, write(tmp_path, "2019-05", "kent", [search("2019-05")] * 5))
    # data.police.uk dates are UTC: June's file starts with searches made just after midnight on 1 June BST.
    spill = {**search("2019-06"), "Date": "2019-05-31T23:30:00+00:00"}
    june = tmp_path / "stops-force.json"
    june.write_text(json.dumps(api_json([spill, search("2019-06"), search("2019-06", "Black")])))
    assert _problems(db, settings, june, force="kent") == [
        f"{june}:0: --month: no month: a file is imported as one force-month, and this file's name gives "
        "none (API files never do); name it YYYY-MM-<force>-stop-and-search.csv or give --month YYYY-MM"
    ]
    summary = _import(db, settings, june, force="kent", month="2019-06")
    assert (summary.months, summary.replaced) == (("kent/2019-06",), ()), "May is not touched"
    assert _month_rows(db) == {"2019-05": 5, "2019-06": 3}
    # The period is still by the month in Date: the spilled search counts in May.
    assert _report(db, settings)["records"] == 6
    assert _report(db, settings, first="2019-06", last="2019-06")["records"] == 2
    # Consecutive API months in one command, each named by its month.
    july, august = tmp_path / "stops-force_2019-07.json", tmp_path / "stops-force_2019-08.json"
    july.write_text(json.dumps(api_json([{**search("2019-07"), "Date": "2019-06-30T23:05:00+00:00"}])))
    august.write_text(json.dumps(api_json([{**search("2019-08"), "Date": "2019-07-31T23:59:00+00:00"}] * 2)))
    summary = _import(db, settings, july, august, force="kent")
    assert (summary.months, summary.replaced) == (("kent/2019-07", "kent/2019-08"), ())
    assert _month_rows(db) == {"2019-05": 5, "2019-06": 3, "2019-07": 1, "2019-08": 2}


def test_the_month_option_and_its_conflicts(db: Session, settings: Settings, tmp_path: Path) -> None:
    named = write(tmp_path, "2019-05", "kent", [search("2019-05")])
    assert _problems(db, settings, named, month="2019-06") == [
        f"{named}:0: --month: the file name says 2019-05 but --month says 2019-06"
    ]
    unnamed = write(tmp_path, "2019-05", "kent", [search("2019-05")], name="searches.csv")
    assert _problems(db, settings, unnamed, force="kent", month="May") == [
        f"{unnamed}:0: --month: must be a month as YYYY-MM, not 'May'"
    ]
    # A wrong --month is caught by the dates: only a day either side of the month is allowed.
    rows = [search("2019-05"), {**search("2019-05"), "Date": "2019-04-30T23:00:00+00:00"}]
    rows.append({**search("2019-05"), "Date": "2019-06-01T22:00:00+00:00"})
    dated = write(tmp_path, "2019-05", "kent", rows, name="dated.csv")
    rule = "is not in the file's month, 2019-04 (a day either side is allowed, for times in UTC)"
    assert _problems(db, settings, dated, force="kent", month="2019-04") == [
        f"{dated}:2: Date: {rule}: check the file name or --month",
        f"{dated}:4: Date: {rule}: check the file name or --month",
    ]
    assert _import(db, settings, dated, force="kent", month="2019-05").months == ("kent/2019-05",)
    # Several files given one --month are one force-month twice: refused.
    other = write(tmp_path / "b", "2019-05", "kent", [search("2019-05")], name="other.csv")
    assert _problems(db, settings, dated, other, force="kent", month="2019-05") == [
        f"{other}:0: -: kent/2019-05 is also in {dated}; import it from one file"
    ]


def test_a_re_export_row_must_name_its_month(db: Session, settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "processed.csv"
    header = "type;date;part_of_a_policing_operation;policing_operation;latitude;longitude;gender;age_range;"
    header += "self_defined_ethnicity;officer_defined_ethnicity;legislation;object_of_search;outcome;"
    header += "outcome_linked_to_object_of_search;removal_of_more_than_just_outer_clothing;file_name\n"
    row = "Person search;2023-12-01 03:40:12.000;;;;;Male;25-34;White - Irish;White;;;Arrest;1;0;{}\n"
    path.write_text(
        header + row.format("2023-12-city-of-london-stop-and-search.csv") + row.format("london.csv")
    )
    assert _problems(db, settings, path, force="city-of-london") == [
        f"{path}:3: file_name: must name the month: YYYY-MM-<force>-stop-and-search.csv (or give --month)"
    ]


def test_an_api_month_imported_after_the_published_file_keeps_the_month_before_whole(
    db: Session, settings: Settings, tmp_path: Path, reference_data: Path
) -> None:
    """The review's case: the Met's May 2018 file, then June from the API, whose first 12 searches are dated
    31 May (UTC). June used to become two force-months, and May was replaced by those 12 records."""
    folder = reference_data / "met-2018"
    may = folder / "2018-05-metropolitan-stop-and-search.csv"
    with (folder / "2018-06-metropolitan-stop-and-search.csv").open(newline="", encoding="utf-8-sig") as f:
        june_rows = list(csv.DictReader(f))
    june = tmp_path / "met-june-api.json"
    june.write_text(json.dumps(api_json(june_rows)))
    _import(db, settings, may)
    assert _month_rows(db, "metropolitan") == {"2018-05": 12_353}
    summary = _import(db, settings, june, force="metropolitan", month="2018-06")
    assert (summary.months, summary.replaced) == (("metropolitan/2018-06",), ())
    assert _month_rows(db, "metropolitan") == {"2018-05": 12_353, "2018-06": len(june_rows)}
    spilled = sum(1 for row in june_rows if row["Date"][:7] == "2018-05")
    assert spilled == 12
    may_report = _report(db, settings, "metropolitan", "2018-05", "2018-05")
    assert may_report["records"] == 12_353 - 19 + spilled, "May by Date: less April's 19, plus June's 12"


@pytest.mark.parametrize(
    ("where", "edit", "bad_line"),
    [
        ("a final blank line", lambda text: text + "\n", 4),
        ("blank lines in the middle", lambda text: text.replace("\n", "\n\n", 2), 6),
        ("a blank line before the header, no final line break", lambda text: "\n" + text.rstrip("\n"), 5),
        ("Windows line breaks and blank lines", lambda text: text.replace("\n", "\r\n") + "\r\n\r\n", 4),
    ],
)
def test_blank_lines_are_skipped_and_lines_after_them_named_rightly(
    db: Session, settings: Settings, tmp_path: Path, where: str, edit: Any, bad_line: int
) -> None:
    rows = [search(), search(group="Black"), {**search(), "Type": "Boat search"}]
    bad = write(tmp_path / "bad", "2019-05", "kent", rows)
    bad.write_text(edit(bad.read_text()), newline="")
    assert _problems(db, settings, bad) == [
        f"{bad}:{bad_line}: Type: must be one of: Person search, Person and Vehicle search, Vehicle search"
    ], where
    good = write(tmp_path / "good", "2019-05", "kent", rows[:2])
    good.write_text(edit(good.read_text()), newline="")
    assert _import(db, settings, good).records == 2, where
    assert _report(db, settings)["groups"]["Black"]["searches"] == 1


def test_a_row_with_the_wrong_number_of_cells_is_named_by_its_line(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    rows = [search(), search(), search(), {**search(), "Type": "Boat search"}, search()]
    path = write(tmp_path, "2019-05", "kent", rows)
    lines = path.read_text().split("\n")
    lines[2] = lines[2].rsplit(",", 1)[0]  # 14 cells (a cell lost, as the review found)
    lines[5] = lines[5] + ",extra"  # 16
    path.write_text("\n".join([*lines[:4], "", *lines[4:]]))  # and a blank line between
    boat = "Type: must be one of: Person search, Person and Vehicle search, Vehicle search"
    assert _problems(db, settings, path) == [
        f"{path}:3: -: has 14 cells; the header has 15",
        f"{path}:6: {boat}",
        f"{path}:7: -: has 16 cells; the header has 15",
    ]
    # With line breaks inside quoted grounds, lines still count them.
    grounds = write(
        tmp_path / "g", "2019-05", "kent", [search(grounds="Seen\nhanding over"), search(grounds="x")]
    )
    lines = grounds.read_text().split("\n")
    lines[3] = lines[3].rsplit(",", 1)[0]
    grounds.write_text("\n".join(lines))
    assert _problems(db, settings, grounds) == [f"{grounds}:4: -: has 15 cells; the header has 16"]
    assert db.scalars(select(StopSearchMonth)).all() == []


def test_a_force_census_and_group_given_twice_is_refused_naming_both_rows(
    db: Session, settings: Settings, tmp_path: Path, reference_data: Path
) -> None:
    census = reference_data / "population" / "census2011_police-categories_by_PFA.csv"
    with pytest.raises(BatchRejected) as rejected:
        service.import_population(db, [census, census], actor=ACTOR, census="census2011")
    problems = [str(problem) for problem in rejected.value.problems]
    met_line = next(
        n for n, line in enumerate(census.read_text().splitlines(), 1) if line.startswith("Metrop")
    )
    twice = (
        f"{census}:{met_line}: force: White in metropolitan (census2011) is also given at {census}:{met_line}"
    )
    assert f"{twice}: give each force, census and group once" in problems
    assert len(problems) == 5 * 43, "every group of every force, the second time"
    assert db.scalars(select(PopulationFigure)).all() == [], "all or nothing: nothing is stored"
    long = tmp_path / "population.csv"
    long.write_text(
        "force,census,group,population\nkent,census2011,White,1\nkent,census2011,Black,2\nKent,census2011,White,3\n"
    )
    wide = tmp_path / "wide.csv"
    wide.write_text("Police force,White,Asian,Chinese\nKent,10,20,3\nEssex,1,2,3\n")
    with pytest.raises(BatchRejected) as rejected:
        service.import_population(db, [long, wide], actor=ACTOR, census="census2011")
    assert [str(problem) for problem in rejected.value.problems] == [
        f"{long}:4: force: White in kent (census2011) is also given at {long}:2: give each force, census and "
        "group once",
        f"{wide}:2: force: White in kent (census2011) is also given at {long}:2: give each force, census and "
        "group once",
    ]
    service.import_population(db, [wide], actor=ACTOR, census="census2011")
    assert service.populations(db, "kent", "census2011") == {"White": 10, "Asian": 23}, "Chinese with Asian"


def test_population_of_a_force_with_no_resident_population_is_not_stored(
    db: Session, settings: Settings, tmp_path: Path, reference_data: Path
) -> None:
    census = reference_data / "population" / "census2011_police-categories_by_PFA.csv"
    summary = service.import_population(db, [census], actor=ACTOR, census="census2011")
    assert str(summary) == (
        "population: 210 new, 0 updated, 0 unchanged; not stored for City of London Police: no resident "
        "population to count searches against (their rates and ratios are not computed)"
    )
    assert service.populations(db, "city-of-london", "census2011") == {}
    assert service.populations(db, "metropolitan", "census2011")["White"] == 4_881_636
    long = tmp_path / "population.csv"
    long.write_text("force,census,group,population\nBritish Transport Police,census2021,White,100\n")
    assert service.import_population(db, [long], actor=ACTOR).not_stored == ("British Transport Police",)
    assert service.populations(db, "btp", "census2021") == {}
