"""Printable documents: HTML rendered to PDF by WeasyPrint."""

from __future__ import annotations

import logging

from weasyprint import HTML

logging.getLogger("fontTools").setLevel(logging.WARNING)
logging.getLogger("weasyprint").setLevel(logging.ERROR)


def html_to_pdf(html: str) -> bytes:
    return HTML(string=html).write_pdf()
