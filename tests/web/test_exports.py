"""Every CSV download goes through one writer: formulas are defused, values written one way."""

from __future__ import annotations

import csv
import io
from datetime import date

from custodes.web.exports import csv_cell, csv_download, csv_text


def test_cells_a_spreadsheet_would_run_are_quoted() -> None:
    for dangerous in ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert csv_cell(dangerous) == "'" + dangerous
    assert csv_cell("Smith = ok") == "Smith = ok"


def test_values_are_written_one_way() -> None:
    assert [csv_cell(v) for v in (None, date(2026, 1, 2), True, ("a", "b"), 3)] == [
        "",
        "2026-01-02",
        "true",
        "a;b",
        "3",
    ]
    rows = list(csv.reader(io.StringIO(csv_text(["a", "b"], [["=1", None]]))))
    assert rows == [["a", "b"], ["'=1", ""]]


def test_download_names_the_file_plainly_and_exactly() -> None:
    response = csv_download("registre-été.csv", ["a"], [])
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"registre-_t_.csv\"; filename*=UTF-8''registre-%C3%A9t%C3%A9.csv"
    )
    assert response.media_type == "text/csv; charset=utf-8"
