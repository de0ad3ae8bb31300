"""Every route of the app with the requirement it declares, and the ids its path parameters need.

Shared by the permission matrix and the CSRF tests. A route's requirement is read from its dependency tree:
`web.deps.require` carries a Permission, `require_scope` a Scope, `require_any_token` admits any bearer token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.routing import BaseRoute, Mount, Route

from custodes.disclosure import service as disclosure
from custodes.identity import service as identity
from custodes.identity.permissions import Permission, Role, Scope
from custodes.settings import Settings
from custodes.web.app import create_app
from custodes.web.deps import require, require_any_token, require_scope
from tests.agreements.helpers import make_register
from tests.conftest import TEST_SECRET, make_account
from tests.disclosure import world as disclosure_world
from tests.learning.helpers import make_learning

# Routes anyone may reach without logging in. Adding a route to the app without a permission fails the
# matrix unless it is listed here on purpose.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("GET", "/api/v1/health"),
    }
)
# Routes that are not FastAPI endpoints at all (no dependencies to read).
PUBLIC_OTHER = frozenset({"/api/v1/openapi.json", "/static"})

TARGET = "TARGET1"
REQUESTER = "REQADMIN1"
CONFIG_KEY = "review_days"


@dataclass(frozen=True, slots=True)
class RouteInfo:
    method: str
    path: str
    permission: Permission | None
    scope: Scope | None
    any_token: bool

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def public(self) -> bool:
        return self.permission is None and self.scope is None and not self.any_token

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def route_table_app() -> FastAPI:
    """The app, built without a database: only its route table is read."""
    return create_app(Settings(secret_key=TEST_SECRET, database_url="sqlite://"), checkpointer=False)


def _flat_routes(app: FastAPI) -> Iterator[tuple[str, BaseRoute, Any]]:
    """(effective path, original route, route context) for every route, however routers were included."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI releases that flatten included routers into app.routes
        for route in app.routes:
            yield str(getattr(route, "path", "")), route, route
        return
    for context in iter_route_contexts(app.routes):
        yield str(context.path), context.original_route, context


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def api_routes(app: FastAPI) -> list[RouteInfo]:
    """Every FastAPI endpoint, one entry per method, with its declared requirement."""
    found = []
    for path, route, context in _flat_routes(app):
        if not isinstance(route, APIRoute):
            continue
        calls = list(_calls(context.dependant))
        permissions = {call.permission for call in calls if isinstance(call, require)}
        scopes = {call.scope for call in calls if isinstance(call, require_scope)}
        any_token = require_any_token in calls
        assert len(permissions) + len(scopes) <= 1, f"{path} declares several requirements"
        for method in sorted(route.methods or ()):
            found.append(
                RouteInfo(
                    method,
                    path,
                    next(iter(permissions), None),
                    next(iter(scopes), None),
                    any_token and not scopes,
                )
            )
    return sorted(found, key=lambda r: (r.path, r.method))


def other_routes(app: FastAPI) -> list[str]:
    """Paths of routes that are not FastAPI endpoints (mounts, plain Starlette routes)."""
    return sorted(
        path
        for path, route, _context in _flat_routes(app)
        if not isinstance(route, APIRoute) and isinstance(route, Mount | Route)
    )


@dataclass(frozen=True, slots=True)
class World:
    """Existing objects whose ids fill path parameters."""

    values: dict[str, str]

    def url(self, route: RouteInfo) -> str:
        try:
            return route.path.format(**self.values)
        except KeyError as missing:
            raise AssertionError(
                f"{route}: tests/web/routemap.py needs an existing value for path parameter {missing}"
            ) from None


def make_disclosures(db: Session) -> dict[str, str]:
    """A released scheme disclosure with a correction notice outstanding (its own small force)."""
    disclosure_world.make_world(db)
    aic, officer = disclosure_world.principal("S1002"), disclosure_world.principal("S1001")
    request = disclosure_world.scheme_request()
    disclosure_id = disclosure.create_draft(db, request, officer)
    disclosure.submit(db, disclosure_id, officer)
    disclosure.authorise(db, disclosure_id, aic)
    disclosure.release(db, disclosure_id, aic)
    _, notices = disclosure.report_correction(
        db, aic, description="wrong record", system="Genesis", record_id="CI-88"
    )
    return {
        "disclosure_id": str(disclosure_id),
        "notice_id": str(notices[0].id),
        "record_type": "disclosure_draft",
        "document": "authority",
    }


def make_referral(db: Session) -> str:
    """An open gate referral for someone with no line manager, so any referral handler may open it."""
    from custodes.kit.db import utcnow
    from custodes.workforce.models import Referral

    row = Referral(
        staff_id=TARGET,
        manager_id=None,
        system="PNC",
        subject_id="N9",
        codes="SELF",
        declaration_ids="",
        status="open",
        created_at=utcnow(),
    )
    db.add(row)
    db.flush()
    return str(row.id)


def make_workforce_integrity(db: Session) -> dict[str, str]:
    """A declaration awaiting decision (by S1001 of the disclosure world, who has no line manager), a team
    and a publishable register (training, vetting and declarations screens)."""
    from custodes.workforce import service as workforce
    from custodes.workforce.schemas import DeclarationForm

    form = DeclarationForm(
        kind="gift_hospitality",
        organisation="Acme Ltd",
        description="Lunch",
        value_pounds="20",
        gift_accepted="declined",
    )
    declaration_id = workforce.make_declaration(db, "S1001", form, actor="system:test")
    return {"declaration_id": declaration_id, "team_id": "T-CZ", "register": "gifts-and-hospitality"}


def make_monitoring(db: Session) -> dict[str, str]:
    """Misuse alerts (tests/monitoring/test_casework.py) and an open investigation built on one of them."""
    from custodes.kit.db import utcnow
    from custodes.monitoring import casework
    from custodes.monitoring.models import AccessIngest, QuarantinedRow
    from tests.monitoring import test_casework as monitoring_world

    monitoring_world.make_people(db)
    monitoring_world.make_alerts(db)
    unit = monitoring_world.principal(db, monitoring_world.UNIT)
    investigation_id = casework.open_investigation(db, ["AL-CELEBRITY"], unit, "Matrix", "Matrix test")
    db.add(
        AccessIngest(
            ingest_id="I-MATRIX", actor="system:test", files='["a.csv"]', received=2, stored=1,
            duplicates=0, quarantined=1, at=utcnow(),
        )
    )  # fmt: skip
    db.flush()
    db.add(QuarantinedRow(ingest_id="I-MATRIX", source="a.csv", line=3, problems="action: is required",
                          raw='{"event_id": "e2", "staff_id": "S1001"}'))  # fmt: skip
    return {
        "alert_id": "AL-NEIGHBOUR",
        "investigation_id": str(investigation_id),
        "ingest_id": "I-MATRIX",
        "event_id": "E-MATRIX",  # no such access: the explanation answers 404 to those allowed
    }


def make_stopsearch(db: Session) -> dict[str, str]:
    """A supervisory sample of one record and a published report, as rows (no records imported: the
    report screens then say there is nothing to report)."""
    from custodes.kit.db import utcnow
    from custodes.stopsearch.models import GroundsReview, GroundsSample, PublishedReport

    sample = GroundsSample(
        reference="SSS/900/26", force="kent", period_from="2025-01", period_to="2025-12", size=1, seed=7,
        stratify=None, population_size=10, drawn_at=utcnow(), drawn_by="system:test",
    )  # fmt: skip
    db.add(sample)
    db.flush()
    db.add(GroundsReview(sample_id=sample.id, position=1, record_key="kent/2025-01/2", month="2025-01",
                         ethnic_group="White", team=None, record='{"grounds":"Smelt cannabis"}'))  # fmt: skip
    db.add(
        PublishedReport(
            reference="SSR/900/26", force="kent", period_from="2025-01", period_to="2025-12",
            ethnicity="self", census="census2011", report_json="{}", html="<!doctype html><title>r</title>",
            pdf=b"%PDF-1.7", sha256="0" * 64, published_at=utcnow(), published_by="system:test",
        )
    )  # fmt: skip
    db.flush()
    return {"sample_ref": "SSS-900-26", "position": "1", "publication_ref": "SSR-900-26"}


def make_world(db: Session) -> World:
    """A target account, a pending role request, an API token and ledger entries to point routes at."""
    make_account(db, TARGET, {Role.OFFICER}, password=None)
    make_account(db, REQUESTER, {Role.ADMIN}, password=None)
    result = identity.change_roles(
        db, REQUESTER, {Role.ADMIN, Role.CCU}, identity.principal_for(db, REQUESTER)
    )
    assert result.request_id is not None
    identity.create_api_token(db, "matrix client", [Scope.ACCESS_CHECK], "system:test")
    db.commit()
    token_id = max(t.id for t in identity.list_api_tokens(db))
    return World(
        {
            "staff_id": TARGET,
            "request_id": str(result.request_id),
            "token_id": str(token_id),
            "key": CONFIG_KEY,
            "index": "0",
            **make_register(db),
            **make_disclosures(db),
            **make_workforce_integrity(db),
            "referral_id": make_referral(db),
            **make_learning(db),
            **make_monitoring(db),
            **make_stopsearch(db),
        }
    )
