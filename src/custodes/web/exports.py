"""Downloads: one way to send a file, and one CSV writer that no spreadsheet can be tricked by."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from custodes.web.forms import cell

# A cell starting with one of these is run as a formula by spreadsheets (CSV injection, OWASP).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def attachment(content: bytes, media_type: str, filename: str) -> Response:
    """A download; the name is given plainly (ASCII) and exactly (RFC 5987)."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename)
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename)}"
        },
    )


def csv_cell(value: Any) -> str:
    """A value as a CSV cell: blank for None, dates ISO, lists `;`-joined; a would-be formula is quoted
    with an apostrophe so that it shows as text."""
    if value is None:
        return ""
    text = cell(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def csv_download(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    return attachment(csv_text(header, rows).encode(), "text/csv; charset=utf-8", filename)
