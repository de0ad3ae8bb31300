"""What the usability review of the agreement, partner and scheme screens found, put right."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.agreements import service as agreements
from custodes.identity.permissions import Role
from tests.agreements.helpers import ACTOR, DOCUMENT, make_register
from tests.conftest import csrf_token


def _docx(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def follow(client: TestClient, response: Any) -> str:
    assert response.status_code == 303, response.text
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    return str(page.text)


# --------------------------------------------------------------------------- 1: the signed document


@pytest.mark.parametrize(
    ("filename", "content", "media"),
    [
        ("signed.pdf", b"%PDF-1.7 signed", "application/pdf"),
        ("Signed.PDF", b"%PDF-1.4 signed", "application/pdf"),
        (
            "signed.docx",
            _docx("[Content_Types].xml", "word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("signed.doc", bytes.fromhex("D0CF11E0A1B11AE1") + b"\0" * 64, "application/msword"),
    ],
)
def test_a_signed_pdf_or_word_copy_is_stored_with_its_own_type(
    db: Session, filename: str, content: bytes, media: str
) -> None:
    make_register(db)
    info = agreements.attach_document(db, "KMISA-1", filename, "application/octet-stream", content, ACTOR)
    assert info.content_type == media
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == content


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("notes.txt", b"notes\n", "notes.txt is a text file — upload the signed PDF or Word copy."),
        ("scan.png", b"\x89PNG\r\n", "scan.png is a picture — upload the signed PDF or Word copy."),
        ("notes", b"%PDF-1.7", "notes has no .pdf, .docx or .doc ending — upload the signed PDF or Word"),
        ("notes.pdf", b"notes\n", "notes.pdf is named as a PDF but is not one"),
        ("sheet.docx", _docx("xl/workbook.xml"), "sheet.docx is named as a Word document but is not one"),
        ("broken.docx", b"PK\x03\x04 not a zip", "broken.docx is named as a Word document but is not one"),
        ("old.doc", b"{\\rtf1 text}", "old.doc is named as a Word document but is not one"),
        ("data.xyz", b"%PDF-1.7", "data.xyz is a .xyz file — upload the signed PDF or Word copy."),
    ],
)
def test_anything_but_a_pdf_or_word_copy_is_refused(
    db: Session, filename: str, content: bytes, problem: str
) -> None:
    make_register(db)
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.attach_document(db, "KMISA-1", filename, "application/pdf", content, ACTOR)
    ((field, said),) = refused.value.problems
    assert field == "document" and said.startswith(problem)
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == DOCUMENT  # the signed copy held before stays


def test_the_screen_refuses_a_text_file_at_its_field(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    make_register(db)
    logged_in(Role.DPU)
    refused = client.post(
        "/agreements/KMISA-1/document",
        data={"csrftoken": csrf_token(client)},
        files={"document": ("notes.txt", b"notes\n", "text/plain")},
    )
    assert refused.status_code == 400
    assert (
        "<li>The signed document: notes.txt is a text file — upload the signed PDF or Word copy.</li>"
        in refused.text
    )
    assert '<div class="field wrong"><label for="document">' in refused.text
    assert 'accept=".pdf,.docx,.doc' in refused.text
    stored = agreements.get_document(db, "KMISA-1")
    assert stored is not None and stored.content == DOCUMENT
