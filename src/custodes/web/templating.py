"""Jinja2 templates from every module's templates/ folder, with the helpers every page uses."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from custodes.kit.timefmt import LONDON, london, london_day
from custodes.kit.words import plural
from custodes.web.navigation import menu_for
from custodes.web.notices import notice

_ROOT = Path(__file__).parent.parent
_MODULE_FOLDERS = sorted(p for p in _ROOT.glob("*/templates") if p.parent.name != "web")
_FOLDERS = [_ROOT / "web" / "templates", *_MODULE_FOLDERS]

environment = Environment(
    loader=ChoiceLoader([FileSystemLoader(str(folder)) for folder in _FOLDERS]),
    autoescape=select_autoescape(["html", "xml"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["london"] = london
environment.filters["london_seconds"] = lambda moment: london(moment, with_seconds=True)
environment.filters["thousands"] = lambda number: f"{number:,}" if number is not None else ""


def uk_date(value: Any) -> str:
    """A day as every screen writes it, "6 Dec 2026" (no leading zero); a date-time is its day in London;
    "—" for none."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = london_day(value)
    return f"{value.day} {value:%b %Y}"


environment.filters["uk_date"] = uk_date


def uk_time(moment: datetime | None) -> str:
    """A moment in London as "6 Dec 2026 14:05", the day written as `uk_date` writes it; "" for none."""
    if moment is None:
        return ""
    local = moment.astimezone(LONDON) if moment.tzinfo is not None else moment
    return f"{local.day} {local:%b %Y %H:%M}"


environment.filters["uk_time"] = uk_time


def scroll_tables(content: str) -> Markup:
    """Every table of a page's content in a box that scrolls sideways on its own, so that a table wider
    than a phone's screen does not make the whole page wider (the base layout applies it to every page).
    `content` is rendered, escaped markup: text that reads "<table" arrives as "&lt;table" and is kept."""
    wrapped = re.sub(r"<table\b", '<div class="table-scroll"><table', str(content))
    return Markup(wrapped.replace("</table>", "</table></div>"))  # noqa: S704 - markup already escaped


environment.filters["scroll_tables"] = scroll_tables
environment.filters["plural"] = plural
templates = Jinja2Templates(env=environment)


def csrf_token(request: Request) -> str:
    getter = request.scope.get("csrftoken")
    return getter() if callable(getter) else ""


def render(
    request: Request, name: str, status_code: int = 200, *, nav_path: str | None = None, **context: Any
) -> Any:
    """`nav_path`: the menu entry to mark as current when the page's own path would mark the wrong one
    (a declaration being decided lives under /declarations/ but belongs to "Decide declarations")."""
    principal = getattr(request.state, "principal", None)
    settings = request.app.state.settings
    context.update(
        principal=principal,
        navigation=menu_for(principal, nav_path or request.url.path),
        force_name=settings.force_name,
        csrf_token=csrf_token(request),
        flash=notice(request),  # only a message the app signed: never text from a crafted link
    )
    return templates.TemplateResponse(request, name, context, status_code=status_code)
