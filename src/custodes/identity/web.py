"""Log-in, log-out and the administrators' screens for accounts, roles, API tokens and configuration."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from custodes.identity import service as identity
from custodes.identity.permissions import (
    NEEDS_SECOND_ADMIN,
    ROLE_TITLES,
    SCOPE_REACH,
    Permission,
    Role,
    Scope,
)
from custodes.identity.schemas import Principal
from custodes.kit.db import utcnow
from custodes.web.deps import (
    SESSION_COOKIE,
    Db,
    client_address,
    cookie_signer,
    optional_principal,
    require,
    session_token,
)
from custodes.web.notices import done_redirect
from custodes.web.templating import render
from custodes.workforce import service as workforce

router = APIRouter()
Viewer = Annotated[Principal, Depends(require(Permission.ACCOUNTS_VIEW))]
Manager = Annotated[Principal, Depends(require(Permission.ACCOUNTS_MANAGE))]
TokenManager = Annotated[Principal, Depends(require(Permission.TOKENS_MANAGE))]
ConfigManager = Annotated[Principal, Depends(require(Permission.CONFIG_MANAGE))]
Holder = Annotated[Principal, Depends(require(Permission.SELF_VIEW))]  # every member of staff, any role
Secret = Annotated[str, Form(max_length=1024)]
OWN_PASSWORD = "/me/password"  # noqa: S105 - a path, not a secret


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a log-in to another site.

    Browsers drop tabs and newlines inside URLs (`/<tab>/evil.example` is read as `//evil.example`), so a
    target with any control character is refused too.
    """
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and target.isprintable()
    ):
        return target
    return "/"


def _back(path: str, message: str) -> RedirectResponse:
    return done_redirect(path, message)


# --------------------------------------------------------------------------- log-in


@router.get("/login")
def login_form(request: Request, db: Db, next: str = "/") -> Any:
    if optional_principal(request, db) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "login.html", title="Log in", next=_safe_next(next))


@router.post("/login")
def login(
    request: Request,
    db: Db,
    staff_id: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Any:
    client = client_address(request)
    if not request.app.state.login_limit.hit(client):
        return render(
            request,
            "login.html",
            429,
            title="Log in",
            next=_safe_next(next),
            staff_id=staff_id,
            error="Too many log-in attempts from this computer. Wait a minute and try again.",
        )
    settings = request.app.state.settings
    outcome = identity.authenticate(
        db, settings, staff_id, password, client, request.app.state.unknown_login_limits
    )
    if not outcome.ok or outcome.token is None:
        return render(
            request,
            "login.html",
            401,
            title="Log in",
            next=_safe_next(next),
            staff_id=staff_id,
            error=outcome.message,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie_signer(settings).dumps(outcome.token),
        max_age=settings.session_max_age_minutes * 60,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )
    return response


@router.post("/logout")
def logout(request: Request, db: Db) -> Response:
    token = session_token(request)
    if token:
        identity.end_session(db, token)
    response = done_redirect("/login", "You have logged out.")
    response.delete_cookie(SESSION_COOKIE)
    return response


# --------------------------------------------------------------------------- one's own password


def _password_page(request: Request, db: Db, holder: Principal, status_code: int = 200, **extra: Any) -> Any:
    own = identity.get_account(db, holder.staff_id)  # one's own account: not logged
    return render(
        request,
        "password.html",
        status_code,
        title="Change your password",
        account=own,
        who=identity.staff_labeller(db, [own.password_set_by if own else None]),
        me=holder.actor,
        rule=identity.PASSWORD_RULE,
        min_length=identity.MIN_PASSWORD_LENGTH,
        **extra,
    )


@router.get(OWN_PASSWORD)
def own_password_form(request: Request, db: Db, holder: Holder) -> Any:
    return _password_page(request, db, holder)


@router.post(OWN_PASSWORD)
def change_own_password(
    request: Request,
    db: Db,
    holder: Holder,
    current_password: Secret = "",
    new_password: Secret = "",
    new_password_again: Secret = "",
) -> Any:
    """Every member of staff changes their own password here; a wrong current password counts as a failed
    log-in does (the log-in rate limit per address, the account's lock-out, a `login_failed` entry)."""
    if not request.app.state.login_limit.hit(client_address(request)):
        return _password_page(
            request,
            db,
            holder,
            429,
            error="Too many password attempts from this computer. Wait a minute and try again.",
            wrong="current_password",
        )
    outcome = identity.change_own_password(
        db,
        request.app.state.settings,
        holder,
        current_password,
        new_password,
        new_password_again,
        client_address(request),
        session_token(request),
    )
    if not outcome.ok:
        return _password_page(request, db, holder, 400, error=outcome.message, wrong=outcome.field)
    return _back(OWN_PASSWORD, outcome.message)


# --------------------------------------------------------------------------- accounts

Reason = Annotated[str, Form(max_length=2000)]


@router.get("/admin/accounts")
def accounts(request: Request, db: Db, viewer: Viewer, q: str = "", role: str = "", page: int = 1) -> Any:
    chosen = Role(role) if role in {r.value for r in Role} else None
    page = max(page, 1)
    rows, total = identity.list_accounts(
        db, q.strip(), chosen, limit=50, offset=(page - 1) * 50, viewer=viewer.actor
    )
    return render(
        request,
        "accounts.html",
        title="Accounts",
        rows=rows,
        total=total,
        q=q,
        role=role,
        roles=list(Role),
        role_titles=ROLE_TITLES,
        page=page,
        pages=max(1, (total + 49) // 50),
    )


def _account_page(
    request: Request,
    db: Db,
    viewer: Principal,
    staff_id: str,
    status_code: int = 200,
    *,
    problem: identity.IdentityError | None = None,
    section: str = "",
    values: dict[str, Any] | None = None,
) -> Any:
    """The account's page; after a refused change, `problem` is shown in the red box at the `section` whose
    form was refused ("roles", "password", "access"), its field highlighted and what was typed kept."""
    found = identity.get_account(db, staff_id)
    if found is None:
        raise HTTPException(404, f"There is no account {staff_id}.")
    staff = workforce.view_staff(db, staff_id, actor=viewer.actor, justification="account administration")
    pending = identity.role_request_views(db, staff_id)
    return render(
        request,
        "account.html",
        status_code,
        nav_path="/admin/accounts",
        title=found.display_name,
        account=found,
        staff=staff,
        area=identity.area_labeller(db),
        team=workforce.team_labeller(db),
        who=identity.staff_labeller(db, [found.password_set_by, *(r.requested_by for r in pending)]),
        roles=list(Role),
        role_titles=ROLE_TITLES,
        sensitive_titles=[ROLE_TITLES[role] for role in Role if role in NEEDS_SECOND_ADMIN],
        can_manage=viewer.can(Permission.ACCOUNTS_MANAGE),
        password_rule=identity.PASSWORD_RULE,
        min_length=identity.MIN_PASSWORD_LENGTH,
        pending=pending,
        problem=str(problem) if problem else "",
        wrong=problem.field if problem else "",
        section=section,
        values=values or {},
    )


@router.get("/admin/accounts/{staff_id}")
def account(request: Request, db: Db, viewer: Viewer, staff_id: str) -> Any:
    return _account_page(request, db, viewer, staff_id)


def _on_account(
    request: Request,
    db: Db,
    manager: Principal,
    staff_id: str,
    section: str,
    action: Callable[[], str],
    values: dict[str, Any] | None = None,
) -> Any:
    """Run one change to an account: done, back to its page with the message in the banner; refused, the
    page again (400) with the reason in the red box by the form that was refused."""
    try:
        message = action()
    except identity.IdentityError as error:
        return _account_page(
            request, db, manager, staff_id, 400, problem=error, section=section, values=values
        )
    return _back(f"/admin/accounts/{quote(staff_id)}", message)


@router.post("/admin/accounts/{staff_id}/roles")
def change_roles(
    request: Request,
    db: Db,
    manager: Manager,
    staff_id: str,
    roles: Annotated[list[str] | None, Form()] = None,
) -> Any:
    return _on_account(
        request,
        db,
        manager,
        staff_id,
        "roles",
        lambda: identity.change_roles(db, staff_id, identity.parse_roles(roles or []), manager).message,
        {"roles": roles or []},
    )


@router.post("/admin/accounts/{staff_id}/password")
def set_password(request: Request, db: Db, manager: Manager, staff_id: str, password: Secret = "") -> Any:
    def action() -> str:
        identity.reset_password(db, staff_id, password, manager)
        return "Password set. Give it to the member of staff in person."

    return _on_account(request, db, manager, staff_id, "password", action)


@router.post("/admin/accounts/{staff_id}/active")
def set_active(
    request: Request,
    db: Db,
    manager: Manager,
    staff_id: str,
    active: Annotated[str, Form()] = "false",
    reason: Reason = "",
) -> Any:
    enable = active == "true"

    def action() -> str:
        identity.set_active(db, staff_id, enable, manager, reason=None if enable else reason)
        return "Account enabled." if enable else "Account disabled and signed out everywhere."

    return _on_account(request, db, manager, staff_id, "access", action, {"reason": reason})


@router.post("/admin/accounts/{staff_id}/unlock")
def unlock(request: Request, db: Db, manager: Manager, staff_id: str) -> Any:
    def action() -> str:
        identity.unlock(db, staff_id, manager)
        return "Account unlocked."

    return _on_account(request, db, manager, staff_id, "access", action)


def _requests_page(
    request: Request, db: Db, status_code: int = 200, *, problem: str = "", failed: int | None = None
) -> Any:
    requests = identity.role_request_views(db)
    return render(
        request,
        "role_requests.html",
        status_code,
        nav_path="/admin/role-requests",
        title="Role changes awaiting approval",
        requests=requests,
        role_titles=ROLE_TITLES,
        who=identity.staff_labeller(db, [p for r in requests for p in (r.requested_by, r.password_set_by)]),
        problem=problem,
        failed=failed,
    )


@router.get("/admin/role-requests")
def role_requests(request: Request, db: Db, _viewer: Viewer) -> Any:
    return _requests_page(request, db)


@router.post("/admin/role-requests/{request_id}")
def decide_role_request(
    request: Request, db: Db, manager: Manager, request_id: int, decision: Annotated[str, Form()] = ""
) -> Any:
    approve = decision == "approve"
    try:
        identity.decide_role_request(db, request_id, approve, manager)
    except identity.IdentityError as error:
        return _requests_page(request, db, 400, problem=str(error), failed=request_id)
    return _back(
        "/admin/role-requests",
        "Role change approved." if approve else "Role change declined.",
    )


# --------------------------------------------------------------------------- API tokens


def _tokens_page(
    request: Request,
    db: Db,
    manager: Principal,
    new_token: str | None = None,
    status_code: int = 200,
    *,
    problem: identity.IdentityError | None = None,
    failed: int | None = None,
    values: dict[str, Any] | None = None,
    **extra: Any,
) -> Any:
    """The tokens page; after a refused form, `problem` is shown in the red box by that form (the new-token
    form, or the row of token `failed`), the field to blame highlighted and what was typed kept."""
    tokens = identity.list_api_tokens(db)
    return render(
        request,
        "tokens.html",
        status_code,
        nav_path="/admin/tokens",
        title="API tokens",
        tokens=tokens,
        who=identity.staff_labeller(db, [p for t in tokens for p in (t.created_by, t.approved_by)]),
        scopes=[(scope, SCOPE_REACH[scope]) for scope in Scope],
        days=request.app.state.settings.api_token_days,
        me=manager.actor,
        now=utcnow(),
        new_token=new_token,
        problem=str(problem) if problem else "",
        wrong=problem.field if problem else "",
        failed=failed,
        values=values or {},
        **extra,
    )


@router.get("/admin/tokens")
def tokens(request: Request, db: Db, manager: TokenManager) -> Any:
    return _tokens_page(request, db, manager)


@router.post("/admin/tokens")
def create_token(
    request: Request,
    db: Db,
    manager: TokenManager,
    name: Annotated[str, Form(max_length=100)] = "",
    scopes: Annotated[list[str] | None, Form()] = None,
    days: Annotated[str, Form(max_length=10)] = "",
) -> Any:
    most = request.app.state.settings.api_token_days
    lifetime = days.strip() or str(most)
    try:
        if not (lifetime.isascii() and lifetime.isdigit()):
            raise identity.IdentityError(f"Lifetime (days): enter a whole number from 1 to {most}", "days")
        token, pending = identity.request_api_token(db, name, scopes or [], int(lifetime), most, manager)
    except identity.IdentityError as error:
        typed = {"name": name, "scopes": scopes or [], "days": days}
        return _tokens_page(request, db, manager, None, 400, problem=error, values=typed)
    return _tokens_page(request, db, manager, new_token=token, pending=pending)


def _on_token(
    request: Request, db: Db, manager: Principal, token_id: int, action: Callable[[], str], **typed: Any
) -> Any:
    try:
        message = action()
    except identity.IdentityError as error:
        return _tokens_page(request, db, manager, None, 400, problem=error, failed=token_id, values=typed)
    return _back("/admin/tokens", message)


@router.post("/admin/tokens/{token_id}/decision")
def decide_token(
    request: Request, db: Db, manager: TokenManager, token_id: int, decision: Annotated[str, Form()] = ""
) -> Any:
    def action() -> str:
        identity.decide_api_token(db, token_id, decision == "approve", manager)
        return "Token approved: it works from now on." if decision == "approve" else "Token declined."

    return _on_token(request, db, manager, token_id, action)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token(request: Request, db: Db, manager: TokenManager, token_id: int, reason: Reason = "") -> Any:
    def action() -> str:
        identity.revoke_api_token(db, token_id, manager.actor, reason=reason)
        return "Token revoked."

    return _on_token(request, db, manager, token_id, action, reason=reason)


# --------------------------------------------------------------------------- configuration


def _config_page(
    request: Request,
    db: Db,
    status_code: int = 200,
    *,
    problem: identity.IdentityError | None = None,
    failed: str = "",
    typed: str = "",
) -> Any:
    items = identity.config_items(db)
    who = identity.staff_labeller(db, [item.changed_by or "" for item in items])
    return render(
        request,
        "config.html",
        status_code,
        nav_path="/admin/config",
        title="Configuration",
        items=items,
        who=who,
        problem=str(problem) if problem else "",
        failed=failed,
        typed=typed,
    )


@router.get("/admin/config")
def configuration(request: Request, db: Db, _manager: ConfigManager) -> Any:
    return _config_page(request, db)


@router.post("/admin/config/{key}")
def set_configuration(
    request: Request,
    db: Db,
    manager: ConfigManager,
    key: str,
    value: Annotated[str, Form(max_length=200)] = "",
) -> Any:
    try:
        identity.set_config(db, key, value, manager)
    except identity.IdentityError as error:
        return _config_page(request, db, 400, problem=error, failed=key, typed=value)
    return _back("/admin/config", "Setting saved.")
