"""Register forms: one pydantic model a form, shared by its add and change handlers (FastAPI form models)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, Field

FieldText = Annotated[str, Field(max_length=4000)]


def cell(value: Any) -> str:
    """A stored value as a form shows it: booleans as true/false, lists `;`-joined, dates ISO."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple | list):
        return ";".join(str(item) for item in value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def date_of_birth_in(values: dict[str, str], errors: dict[str, str]) -> date | None:
    """The optional date of birth typed into a person search, or None; a wrong one is put in `errors`."""
    typed = values.get("date_of_birth", "")
    if not typed:
        return None
    try:
        return date.fromisoformat(typed)
    except ValueError:
        errors["date_of_birth"] = (
            f"Date of birth: {typed!r} is not a date. Give it as YYYY-MM-DD, or leave it empty."
        )
        return None


class RegisterForm(BaseModel):
    """A register's add-and-change form; the id is posted when adding, and comes from the path on a change."""

    def values(self) -> dict[str, str]:
        """What was posted, as the text values the register service reads (lists `;`-joined)."""
        return {name: cell(value) for name, value in self}

    @classmethod
    def showing(cls, record: Any) -> dict[str, str]:
        """A stored record as the text values its form shows."""
        return {
            name: "" if (value := getattr(record, name)) is None else cell(value)
            for name in cls.model_fields
            if hasattr(record, name)
        }
