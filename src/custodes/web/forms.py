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
