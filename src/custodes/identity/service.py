"""Identity rules: passwords, log-in and lock-out, sessions, roles (with two-person control), tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import structlog
from pwdlib import PasswordHash
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from custodes.identity.models import Account, AccountRole, ApiToken, ConfigValue, LoginSession, RoleRequest
from custodes.identity.permissions import (
    NEEDS_SECOND_ADMIN,
    ROLE_TITLES,
    SCOPES_NEEDING_SECOND_ADMIN,
    Permission,
    Role,
    Scope,
    permissions_for,
)
from custodes.identity.schemas import (
    AccountView,
    ConfigItem,
    LoginOutcome,
    PasswordChange,
    Principal,
    RoleChangeResult,
    RoleRequestView,
    TokenPrincipal,
)
from custodes.kit.db import locked_row, utcnow
from custodes.kit.ratelimit import RateLimit
from custodes.kit.timefmt import london, london_day
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.settings import DEFAULT_API_TOKEN_DAYS, Settings

log = structlog.get_logger(__name__)

_hasher = PasswordHash.recommended()
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # compared against so unknown names cost the same time
MIN_PASSWORD_LENGTH = 12
# The rule every password meets, however it is set (screens, command line); shown beside the field.
PASSWORD_RULE = f"At least {MIN_PASSWORD_LENGTH} characters, and not the staff number."
MAX_REASON = 1000  # the reason given for disabling an account or revoking a token
TOKEN_PREFIX = "cst_"  # noqa: S105 - a label, not a secret
# The approval states in which a token works (until it expires or is revoked); any other is refused.
_TOKEN_WORKS = frozenset({"approved", "not_needed", "before_approvals"})
_SESSION_TOUCH_INTERVAL = timedelta(seconds=60)
_NAMES_BATCH = 1_000  # staff numbers asked for in one query by display_names


class IdentityError(ValueError):
    """A request the identity rules refuse; the message says why, in plain English. `field` names the form
    field to put right, when one is to blame ("name", "scopes", "days", "password", "reason", a setting's
    key), so the screens can highlight it; "" when none is."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def parse_roles(values: Iterable[str]) -> set[Role]:
    roles = set()
    for value in values:
        value = value.strip()
        if not value:
            continue
        try:
            roles.add(Role(value))
        except ValueError:
            known = ", ".join(role.value for role in Role)
            raise IdentityError(f"unknown role {value!r} (known roles: {known})") from None
    return roles


def _roles_of(account: Account) -> set[Role]:
    return {Role(row.role) for row in account.roles}


def _record_account(
    session: Session, op: Op, actor: str, staff_id: str, justification: str | None = None, **detail: object
) -> None:
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=op,
            object_type="account",
            object_id=staff_id,
            subjects=(staff_id,),
            justification=justification,
            detail=dict(detail),
        ),
    )


def _reason(reason: str | None, what: str) -> str | None:
    """The reason given on the screens for a change that cuts something off, stripped; refused when blank.
    None: the caller (the server's commands) asks for none."""
    if reason is None:
        return None
    reason = reason.strip()
    if not reason:
        raise IdentityError(f"Reason: say why you are {what}; it is kept in the audit ledger", "reason")
    if len(reason) > MAX_REASON:
        raise IdentityError(f"Reason: keep it to {MAX_REASON} characters", "reason")
    return reason


# --------------------------------------------------------------------------- accounts


def ensure_account(session: Session, staff_id: str, display_name: str, roles: set[Role], actor: str) -> bool:
    """Create or update an account from a trusted source (staff import); True if created."""
    display_name = display_name[:200]  # the column's size: 100-character forenames and surname make 201
    account = session.get(Account, staff_id)
    if account is None:
        account = Account(
            staff_id=staff_id,
            display_name=display_name,
            active=True,
            failed_logins=0,
            created_at=utcnow(),
        )
        account.roles = [AccountRole(role=str(role)) for role in sorted(roles)]
        session.add(account)
        _record_account(session, Op.COLLECTION, actor, staff_id, roles=sorted(str(r) for r in roles))
        return True
    changed = []
    if account.display_name != display_name:
        account.display_name = display_name
        changed.append("display_name")
    if _roles_of(account) != roles:
        _set_roles(session, account, roles, actor)
        changed.append("roles")
    if changed:
        _record_account(
            session, Op.ALTERATION, actor, staff_id, fields=changed, roles=sorted(str(r) for r in roles)
        )
    return False


def set_last_day(session: Session, staff_id: str, last_day: date | None, actor: str) -> None:
    """The last day the account may be used (a leaver's last day of service, from the staff register).

    From the day after, log-in is refused and sessions end (`in_service`). An account whose last day has
    already passed is also disabled and its sessions ended now. Removing the date never re-enables a
    disabled account: an administrator does that (Accounts), seeing why it was disabled.
    """
    account = _account(session, staff_id)
    changed = []
    if account.active_until != last_day:
        account.active_until = last_day
        changed.append("active_until")
    if last_day is not None and last_day < london_day(utcnow()) and account.active:
        account.active = False
        _end_sessions(session, staff_id)
        _withdraw_pending(session, actor, staff_id, "has left the force")
        changed.append("active")
    if changed:
        _record_account(session, Op.ALTERATION, actor, staff_id, fields=changed)


def in_service(account: Account, today: date) -> bool:
    """Enabled, and not past its last day."""
    return account.active and (account.active_until is None or today <= account.active_until)


def usable_accounts(session: Session, staff_ids: Iterable[str]) -> set[str]:
    """Which of these people have an account that may be used today (for rule checking: not logged)."""
    wanted = sorted(set(staff_ids))
    today = london_day(utcnow())
    query = select(Account.staff_id).where(
        Account.staff_id.in_(wanted),
        Account.active.is_(True),
        or_(Account.active_until.is_(None), Account.active_until >= today),
    )
    return set(session.scalars(query)) if wanted else set()


def _replace_roles(account: Account, roles: set[Role]) -> None:
    account.roles = [AccountRole(role=str(role)) for role in sorted(roles)]


def role_titles(roles: Iterable[Role]) -> str:
    """Roles in words, as the screens name them: "Counter-Corruption Unit, Police officer"."""
    return ", ".join(sorted(ROLE_TITLES[Role(role)] for role in roles))


def _joined(roles: Iterable[Role]) -> str:
    return ";".join(sorted(str(role) for role in roles))


def _set_roles(session: Session, account: Account, roles: set[Role], actor: str) -> None:
    """Replace an account's roles. Pending requests for the account were asked against the old roles: they
    are cancelled (a request being approved is decided before this is called). So are the pending requests
    the account made, if it no longer manages accounts."""
    before = _roles_of(account)
    _replace_roles(account, roles)
    if (roles - before) & NEEDS_SECOND_ADMIN:
        _end_sessions(session, account.staff_id)  # the new role is used from a new log-in
    pending = RoleRequest.outcome.is_(None)
    _cancel_requests(
        session, actor, pending & (RoleRequest.staff_id == account.staff_id), "the account's roles changed"
    )
    manages = Permission.ACCOUNTS_MANAGE
    if manages in permissions_for(before) and manages not in permissions_for(roles):
        _cancel_requests(
            session,
            actor,
            pending & (RoleRequest.requested_by == account.staff_id),
            f"{account.staff_id}, who asked, no longer manages accounts",
        )
    tokens = Permission.TOKENS_MANAGE
    if tokens in permissions_for(before) and tokens not in permissions_for(roles):
        _cancel_tokens(
            session, actor, account.staff_id, f"{account.staff_id}, who made it, no longer manages tokens"
        )


def _cancel_requests(session: Session, actor: str, where: ColumnElement[bool], reason: str) -> None:
    for request in session.scalars(select(RoleRequest).where(where).order_by(RoleRequest.id)):
        request.outcome = "cancelled"
        request.decided_by = actor.removeprefix("staff:")[:32]
        request.decided_at = utcnow()
        _record_account(
            session, Op.CONFIGURATION, actor, request.staff_id, request=request.id, cancelled=reason
        )


def _record_token_change(
    session: Session, actor: str, token_id: int, detail: dict[str, Any], op: Op = Op.CONFIGURATION
) -> None:
    """The ledger entry for a token made, decided, cancelled or revoked."""
    draft = EntryDraft(actor=actor, op=op, object_type="api_token", object_id=str(token_id), detail=detail)
    ledger.record(session, draft)


def _cancel_tokens(session: Session, actor: str, staff_id: str, reason: str) -> None:
    """Cancel the API tokens this member of staff made on the screens that still await a second
    administrator: approved after their maker lost the admin role or was disabled, they would work."""
    query = select(ApiToken).where(
        ApiToken.created_by == f"staff:{staff_id}",
        ApiToken.approval == "pending",
        ApiToken.revoked_at.is_(None),
    )
    for row in session.scalars(query.order_by(ApiToken.id)):
        row.approval = "cancelled"
        row.approved_by = actor
        row.approved_at = utcnow()
        _record_token_change(
            session, actor, row.id, {"action": "cancelled", "name": row.name, "cancelled": reason}
        )


def _withdraw_pending(session: Session, actor: str, staff_id: str, why: str) -> None:
    """An administrator disabled or gone: the role requests they asked for and the tokens they made that
    still await a second administrator are cancelled, each with a ledger entry saying why."""
    _cancel_requests(
        session,
        actor,
        RoleRequest.outcome.is_(None) & (RoleRequest.requested_by == staff_id),
        f"{staff_id}, who asked, {why}",
    )
    _cancel_tokens(session, actor, staff_id, f"{staff_id}, who made it, {why}")


def _account(session: Session, staff_id: str) -> Account:
    account = session.get(Account, staff_id)
    if account is None:
        raise IdentityError(f"no account {staff_id!r}")
    return account


def _view(account: Account) -> AccountView:
    return AccountView(
        staff_id=account.staff_id,
        display_name=account.display_name,
        roles=tuple(sorted(_roles_of(account))),
        active=account.active,
        locked_until=account.locked_until,
        has_password=account.password_hash is not None,
        last_login_at=account.last_login_at,
        active_until=account.active_until,
        left=account.active_until is not None and account.active_until < london_day(utcnow()),
        password_set_by=account.password_set_by,
        password_changed_at=account.password_changed_at,
    )


def get_account(session: Session, staff_id: str) -> AccountView | None:
    account = session.get(Account, staff_id)
    return None if account is None else _view(account)


def list_accounts(
    session: Session,
    text: str = "",
    role: Role | None = None,
    limit: int = 50,
    offset: int = 0,
    viewer: str | None = None,
) -> tuple[list[AccountView], int]:
    """A page of accounts; `viewer` (the actor looking) records the names shown as a consultation."""
    query = select(Account)
    if text:
        pattern = f"%{text.lower()}%"
        query = query.where(
            or_(func.lower(Account.staff_id).like(pattern), func.lower(Account.display_name).like(pattern))
        )
    if role is not None:
        query = query.where(Account.roles.any(AccountRole.role == str(role)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = session.scalars(query.order_by(Account.staff_id).limit(limit).offset(offset))
    views = [_view(row) for row in page]
    if viewer is not None and views:
        ledger.record_consultation(
            session,
            actor=viewer,
            object_type="account_list",
            object_id=None,
            subjects=tuple(v.staff_id for v in views),
            justification="account administration",
            detail={"search": text, "role": str(role) if role else ""},
        )
    return views, total


def password_problem(staff_id: str, password: str) -> str | None:
    """What is wrong with `password` for this account under the password rule (`PASSWORD_RULE`), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip().casefold() == staff_id.strip().casefold():
        return "a password cannot be the staff number"
    return None


def set_password(
    session: Session, staff_id: str, password: str, actor: str, keep_session: str | None = None
) -> None:
    """Set an account's password and end its sessions: every one, or every one but `keep_session` (the
    session token of the holder changing their own password, who stays logged in there)."""
    problem = password_problem(staff_id, password)
    if problem is not None:
        raise IdentityError(problem, "password")
    account = _account(session, staff_id)
    account.password_hash = _hasher.hash(password)
    account.password_changed_at = utcnow()
    account.password_set_by = actor
    account.failed_logins = 0
    account.locked_until = None
    ended = _end_sessions(session, staff_id, keep=keep_session)
    _record_account(session, Op.ALTERATION, actor, staff_id, fields=["password"], sessions_ended=ended)


def reset_password(session: Session, staff_id: str, password: str, actor: Principal) -> None:
    """An administrator sets someone else's password (screens); every session of the account ends.

    Not for another account holding a sensitive role: whoever knows its password can act as it, so those
    are reset on the server (`custodes account set-password`), where the operator is trusted. Not for the
    administrator's own account either: that is changed, like anyone's, on their own page
    (`change_own_password`), which asks for the current password; else a stolen administrator's session
    could set the password without knowing it, and end the real administrator's sessions."""
    if staff_id == actor.staff_id:
        raise IdentityError(
            "to change your own password use My record, Change your password (/me/password): it asks for "
            "your current one"
        )
    sensitive = _roles_of(_account(session, staff_id)) & NEEDS_SECOND_ADMIN
    if sensitive:
        raise IdentityError(
            f"{staff_id} holds the {role_titles(sensitive)} role: their password can only be "
            "changed by them or on the server (custodes account set-password)",
            "password",
        )
    set_password(session, staff_id, password, actor.actor)


def set_active(
    session: Session, staff_id: str, active: bool, actor: Principal, reason: str | None = None
) -> None:
    """Enable or disable an account. Disabling on the screens needs a `reason` (kept as the ledger entry's
    justification): it signs the holder out everywhere at once, so a misclick must not do it."""
    account = _account(session, staff_id)
    if account.staff_id == actor.staff_id and not active:
        raise IdentityError("you cannot disable your own account")
    why = _reason(reason, "disabling this account") if not active else (reason or "").strip() or None
    if account.active != active:
        account.active = active
        if not active:
            _end_sessions(session, staff_id)
            _withdraw_pending(session, actor.actor, staff_id, "was disabled")
        _record_account(session, Op.ALTERATION, actor.actor, staff_id, why, fields=["active"], active=active)


def unlock(session: Session, staff_id: str, actor: Principal) -> None:
    account = _account(session, staff_id)
    account.locked_until = None
    account.failed_logins = 0
    _record_account(session, Op.ALTERATION, actor.actor, staff_id, fields=["locked_until"])


def change_roles(session: Session, staff_id: str, roles: set[Role], actor: Principal) -> RoleChangeResult:
    """Apply a role change, or hold it for a second administrator when it grants a sensitive role or is
    the administrator's own roles (any change to them: adding, removing or swapping)."""
    account = _account(session, staff_id)
    current = _roles_of(account)
    if roles == current:
        return RoleChangeResult(True, "No change.")
    added = roles - current
    own = staff_id == actor.staff_id
    if own or added & NEEDS_SECOND_ADMIN:
        request = RoleRequest(
            staff_id=staff_id,
            roles=_joined(roles),
            from_roles=_joined(current),
            requested_by=actor.staff_id,
            requested_at=utcnow(),
        )
        session.add(request)
        session.flush()
        _record_account(
            session,
            Op.CONFIGURATION,
            actor.actor,
            staff_id,
            requested_roles=sorted(str(r) for r in roles),
            request=request.id,
        )
        message = (
            "You cannot change your own roles: a second administrator must approve the change."
            if own
            else f"Giving {account.display_name} the {role_titles(added & NEEDS_SECOND_ADMIN)} role waits "
            "for a second administrator's approval."
        )
        return RoleChangeResult(False, message, request.id)
    _set_roles(session, account, roles, actor.actor)
    _record_account(
        session,
        Op.ALTERATION,
        actor.actor,
        staff_id,
        fields=["roles"],
        added=sorted(map(str, added)),
        removed=sorted(map(str, current - roles)),
    )
    return RoleChangeResult(True, "Roles updated.")


def pending_role_requests(session: Session) -> list[RoleRequest]:
    return list(
        session.scalars(select(RoleRequest).where(RoleRequest.outcome.is_(None)).order_by(RoleRequest.id))
    )


def role_request_views(session: Session, staff_id: str | None = None) -> list[RoleRequestView]:
    """The pending role requests (for one account, if `staff_id`), each with the change it makes to the
    account's roles as they are now."""
    views = []
    for request in pending_role_requests(session):
        if staff_id is not None and request.staff_id != staff_id:
            continue
        account = _account(session, request.staff_id)
        current = _roles_of(account)
        requested = parse_roles(request.roles.split(";"))
        asked_against = None if request.from_roles is None else parse_roles(request.from_roles.split(";"))
        views.append(
            RoleRequestView(
                id=request.id,
                staff_id=request.staff_id,
                display_name=account.display_name,
                requested=tuple(sorted(requested)),
                current=tuple(sorted(current)),
                added=tuple(sorted(requested - current)),
                removed=tuple(sorted(current - requested)),
                requested_by=request.requested_by,
                requested_at=request.requested_at,
                changed_since=asked_against != current,
                password_set_by=account.password_set_by if account.password_hash is not None else None,
                password_changed_at=account.password_changed_at
                if account.password_hash is not None
                else None,
                password_blocks=_password_setter(account, requested - current) is not None,
                has_password=account.password_hash is not None,
                active=account.active,
                left=account.active_until is not None and account.active_until < london_day(utcnow()),
                active_until=account.active_until,
                out_of_service=_out_of_service(account),
            )
        )
    return views


def _password_setter(account: Account, added: set[Role]) -> str | None:
    """Who other than the holder (or the server's own commands) last set the password of an account being
    given a sensitive role, or None. Else: remove the role, set the password (allowed then), ask for the
    role back, and log in as the account once a second administrator approves, seeing only the roles."""
    setter = account.password_set_by
    if account.password_hash is None or not added & NEEDS_SECOND_ADMIN or setter is None:
        return None
    if setter == f"staff:{account.staff_id}" or not setter.startswith("staff:"):
        return None
    return setter.removeprefix("staff:")


def _still_holds(session: Session, staff_id: str, permission: Permission) -> bool:
    """The account exists, may be used today (enabled, not past its last day) and holds `permission`."""
    account = session.get(Account, staff_id)
    return (
        account is not None
        and in_service(account, london_day(utcnow()))
        and permission in permissions_for(_roles_of(account))
    )


def _out_of_service(account: Account) -> str | None:
    """Why an account cannot be used today, in words ("is disabled", "left the force on 3 May 2026"), or
    None when it can."""
    if not account.active:
        return "is disabled"
    if account.active_until is not None and account.active_until < london_day(utcnow()):
        return f"left the force (last day {account.active_until.day} {account.active_until:%B %Y})"
    return None


def _approval_problem(session: Session, request: RoleRequest, account: Account) -> str | None:
    """Why a pending request cannot be approved as it stands, or None. A role is not given to an account
    that is disabled or past its last day: enabling it later would bring the role back unseen, so the
    account is enabled first (the request waits) or the request is declined."""
    if request.from_roles is None:
        return (
            f"request {request.id} was made before requests recorded the roles they change: decline it and "
            "ask again"
        )
    then, now = parse_roles(request.from_roles.split(";")), _roles_of(account)
    if then != now:
        return (
            f"{account.staff_id}'s roles have changed since request {request.id} was made (then: "
            f"{role_titles(then) or 'none'}; now: {role_titles(now) or 'none'}): decline it and ask again"
        )
    gone = _out_of_service(account)
    if gone is not None:
        return (
            f"{account.display_name} ({account.staff_id}) {gone}: a role is not given to an account that "
            "cannot be used. Enable the account first (the request waits), or decline it"
        )
    if not _still_holds(session, request.requested_by, Permission.ACCOUNTS_MANAGE):
        return f"{request.requested_by}, who asked, no longer manages accounts: decline it"
    added = parse_roles(request.roles.split(";")) - now
    setter = _password_setter(account, added)
    if setter is not None:
        when = london(account.password_changed_at) or "at an unknown time"
        return (
            f"{account.staff_id}'s password was last set by {setter} ({when}), not by {account.staff_id}: "
            f"{account.staff_id} must first set their own password (My record, Change your password: "
            "/me/password), or the operator set it on the server (custodes account set-password), before "
            f"being given the {role_titles(added & NEEDS_SECOND_ADMIN)} role"
        )
    return None


def decide_role_request(session: Session, request_id: int, approve: bool, actor: Principal) -> None:
    request = session.get(RoleRequest, request_id)
    if request is None or request.outcome is not None:
        raise IdentityError("that request does not exist or has already been decided")
    if actor.staff_id in (request.requested_by, request.staff_id):
        raise IdentityError("a second administrator must decide this request, not the one who made it")
    account = _account(session, request.staff_id)
    roles = parse_roles(request.roles.split(";"))
    if approve:
        problem = _approval_problem(session, request, account)
        if problem is not None:
            raise IdentityError(problem)
    request.outcome = "approved" if approve else "declined"
    request.decided_by = actor.staff_id
    request.decided_at = utcnow()
    if approve:
        _set_roles(session, account, roles, actor.actor)
    _record_account(
        session,
        Op.AUTHORISATION if approve else Op.REFUSAL,
        actor.actor,
        request.staff_id,
        request=request.id,
        roles=sorted(map(str, roles)),
    )


# --------------------------------------------------------------------------- log-in and sessions


# One answer for every refusal, so that it does not tell whether an account exists or is locked.
_REFUSED = (
    "That staff number and password do not match an active account. After repeated failures an account "
    "is locked for a while: if you cannot log in, ask an administrator."
)


@dataclass(frozen=True, slots=True)
class UnknownLoginLimits:
    """Which failed log-ins for staff numbers with no account are ledger entries (`authenticate`): those
    within `per_address` for their client address (`login_unknown_ledger_rate_limit`), and within `overall`
    for every address together (`login_unknown_ledger_global_rate_limit`), so that an attacker with many
    addresses cannot grow the ledger at will either. Past `overall`, the first such failure in each of its
    windows (`notice`: one per window) is still an entry, saying that the rest are not ledgered."""

    per_address: RateLimit
    overall: RateLimit
    notice: RateLimit

    @classmethod
    def from_settings(cls, settings: Settings) -> UnknownLoginLimits:
        overall = RateLimit(settings.login_unknown_ledger_global_rate_limit, "login-unknown-all")
        return cls(
            per_address=RateLimit(settings.login_unknown_ledger_rate_limit, "login-unknown"),
            overall=overall,
            notice=overall.once_per_window("login-unknown-notice"),
        )

    def decide(self, client: str) -> str:
        """Count one failure from `client`: "ledger", "notice" (ledger it, noting that the rest are
        not), or why it is only logged: "address" or "overall" (past which limit)."""
        if not self.per_address.hit(client):
            return "address"
        if self.overall.hit("all"):
            return "ledger"
        return "notice" if self.notice.hit("all") else "overall"


def authenticate(
    session: Session,
    settings: Settings,
    staff_id: str,
    password: str,
    client: str,
    unknown_limits: UnknownLoginLimits | None = None,
) -> LoginOutcome:
    """Check a password, applying lock-out; on success open a session and return its token.

    Every failure naming an account (wrong password, locked, disabled, past its last day, no password) is a
    `login_failed` entry. A failure naming no account at all (an unknown or empty staff number) is one only
    while `unknown_limits` admit it: its client address's (`login_unknown_ledger_rate_limit`) and every
    address's together (`login_unknown_ledger_global_rate_limit`). Beyond either, it goes to the
    application log (`log-in failed for an unknown account`), so that nobody can grow the ledger at will with
    made-up staff numbers, from one address or many; the first failure past the overall ceiling in each of
    its windows is still an entry, which says so. The answer is the same either way."""
    now = utcnow()
    # The row is locked to the end of the transaction (PostgreSQL; SQLite's write lock does the same), so
    # simultaneous guesses at one account are counted one after another and the lock-out cannot be raced.
    account = session.get(Account, staff_id.strip(), with_for_update=True) if staff_id.strip() else None
    usable = (
        account is not None and in_service(account, london_day(now)) and account.password_hash is not None
    )
    if not usable or account is None or account.password_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        decided = unknown_limits.decide(client) if account is None and unknown_limits is not None else None
        if decided in {"address", "overall"}:
            log.info(
                "log-in failed for an unknown account",
                client=client[:100],
                attempted_name_sha256=_sha256(staff_id),
                ledgered=False,
                past=decided,  # which limit: the address's own, or every address's together
            )
        else:
            note = None
            if decided == "notice" and unknown_limits is not None:
                note = (
                    f"more than {unknown_limits.overall.rate} failed log-ins for staff numbers with no "
                    "account, from every address together (login_unknown_ledger_global_rate_limit): until "
                    "fewer, the others are not ledgered, only written to the application log"
                )
            _record_login_failure(
                session, staff_id, account, "unknown or disabled account", client, note=note
            )
        return LoginOutcome(False, _REFUSED)
    if account.locked_until is not None and account.locked_until > now:
        _hasher.verify(password, _DUMMY_HASH)  # answer as slowly, and in the same words, as any refusal
        _record_login_failure(session, staff_id, account, "account locked", client)
        return LoginOutcome(False, _REFUSED)
    valid, new_hash = _hasher.verify_and_update(password, account.password_hash)
    if not valid:
        reason = "wrong password; account locked" if _count_failure(account, settings) else "wrong password"
        _record_login_failure(session, staff_id, account, reason, client)
        return LoginOutcome(False, _REFUSED)
    if new_hash is not None:
        account.password_hash = new_hash
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_sha256(token),
            staff_id=account.staff_id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(minutes=settings.session_max_age_minutes),
            client=client[:100],
        )
    )
    ledger.record(
        session,
        EntryDraft(
            actor=f"staff:{account.staff_id}",
            op=Op.LOGIN,
            object_type="account",
            object_id=account.staff_id,
            detail={"client": client[:100]},
        ),
    )
    return LoginOutcome(True, "Logged in.", account.staff_id, token)


def _count_failure(account: Account, settings: Settings) -> bool:
    """Count a wrong password against the account; True if that locks it."""
    account.failed_logins += 1
    if account.failed_logins >= settings.login_lockout_failures:
        account.locked_until = utcnow() + timedelta(minutes=settings.login_lockout_minutes)
        return True
    return False


def _record_login_failure(
    session: Session,
    attempted: str,
    account: Account | None,
    reason: str,
    client: str,
    actor: str = "system:identity",
    note: str | None = None,
) -> None:
    detail = {"reason": reason, "client": client[:100], "attempted_name_sha256": _sha256(attempted)}
    if note is not None:
        detail["not_ledgered"] = note
    ledger.record(
        session,
        EntryDraft(
            actor=actor,
            op=Op.LOGIN_FAILED,
            object_type="account",
            object_id=account.staff_id if account is not None else None,
            detail=detail,
        ),
    )


def change_own_password(
    session: Session,
    settings: Settings,
    holder: Principal,
    current: str,
    new: str,
    repeated: str,
    client: str,
    current_session: str | None,
) -> PasswordChange:
    """A member of staff changes their own password, whatever their roles (My record, Change your password).

    The current password is checked as a log-in checks it: a wrong one is a `login_failed` entry and counts
    towards the account's lock-out, and while the account is locked even the right one is refused (the
    caller applies the log-in rate limit too). Then the new one, typed twice, must meet the password rule
    (`password_problem`) and differ from the current one. On success the holder has set it
    (`password_set_by`, so a sensitive role may then be granted), every session of the account but
    `current_session` ends, and the change is a ledger entry (`set_password`). The caller commits whatever
    the outcome: a refusal is recorded too."""
    account = session.get(Account, holder.staff_id, with_for_update=True)  # failures counted in turn
    if account is None:
        raise IdentityError(f"no account {holder.staff_id!r}")
    now = utcnow()
    if account.locked_until is not None and account.locked_until > now:
        _hasher.verify(current, _DUMMY_HASH)  # as slow as any other answer
        _record_login_failure(
            session, holder.staff_id, account, "account locked; changing password", client, holder.actor
        )
        return PasswordChange(
            False,
            "Current password: your account is locked after repeated wrong passwords, until "
            f"{london(account.locked_until)}. Try again then, or ask an administrator to unlock it.",
            "current_password",
        )
    valid = account.password_hash is not None and _hasher.verify(current, account.password_hash)
    if not valid:
        if account.password_hash is None:
            _hasher.verify(current, _DUMMY_HASH)
        locked = _count_failure(account, settings)
        reason = "wrong current password when changing password" + ("; account locked" if locked else "")
        _record_login_failure(session, holder.staff_id, account, reason, client, holder.actor)
        message = "Current password: that is not the password you log in with."
        if locked:
            message += (
                f" Your account is now locked for {settings.login_lockout_minutes} minutes, as after "
                "repeated wrong passwords at log-in: try again then, or ask an administrator to unlock it."
            )
        else:
            message += " Repeated wrong passwords lock the account, as they do at log-in."
        return PasswordChange(False, message, "current_password")
    account.failed_logins = 0  # the right password: failures count only when consecutive, as at log-in
    problem = password_problem(holder.staff_id, new)
    if problem is not None:
        return PasswordChange(False, f"New password: {problem}.", "new_password")
    if new == current:
        return PasswordChange(
            False, "New password: it is your current password. Choose a different one.", "new_password"
        )
    if new != repeated:
        return PasswordChange(
            False,
            "New password again: it does not match the new password. Type the same new password in both.",
            "new_password_again",
        )
    set_password(session, holder.staff_id, new, holder.actor, keep_session=current_session)
    return PasswordChange(True, "Password changed. Your other sessions have been logged out.")


def resolve_session(session: Session, settings: Settings, token: str) -> Principal | None:
    """The member of staff behind a session token, or None if it has ended, expired or idled out."""
    row = session.get(LoginSession, _sha256(token))
    now = utcnow()
    if row is None or row.ended_at is not None or row.expires_at <= now:
        return None
    if row.last_seen_at + timedelta(minutes=settings.session_idle_minutes) <= now:
        row.ended_at = now
        return None
    account = session.get(Account, row.staff_id)
    if account is None or not in_service(account, london_day(now)):
        return None
    if now - row.last_seen_at >= _SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
    return Principal(account.staff_id, account.display_name, frozenset(_roles_of(account)))


def end_session(session: Session, token: str) -> None:
    row = session.get(LoginSession, _sha256(token))
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()


def _end_sessions(session: Session, staff_id: str, keep: str | None = None) -> int:
    """End the account's open sessions, except the one whose token is `keep`; how many were ended."""
    now = utcnow()
    kept = _sha256(keep) if keep else None
    ended = 0
    for row in session.scalars(
        select(LoginSession).where(LoginSession.staff_id == staff_id, LoginSession.ended_at.is_(None))
    ):
        if row.token_hash != kept:
            row.ended_at = now
            ended += 1
    return ended


def principal_for(session: Session, staff_id: str) -> Principal:
    account = _account(session, staff_id)
    return Principal(account.staff_id, account.display_name, frozenset(_roles_of(account)))


# --------------------------------------------------------------------------- API tokens


def _chosen_scopes(name: str, scopes: Iterable[str]) -> set[Scope]:
    chosen = set()
    for value in scopes:
        try:
            chosen.add(Scope(value))
        except ValueError:
            known = ", ".join(scope.value for scope in Scope)
            raise IdentityError(f"unknown scope {value!r} (known scopes: {known})", "scopes") from None
    if not name.strip():
        raise IdentityError("a token needs a name saying which client uses it", "name")
    if not chosen:
        raise IdentityError("a token needs at least one scope", "scopes")
    return chosen


def _make_token(
    session: Session, name: str, chosen: set[Scope], actor: str, days: int, approval: str
) -> tuple[str, ApiToken]:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(
        name=name.strip()[:100],
        token_hash=_sha256(token),
        scopes=";".join(sorted(chosen)),
        created_by=actor,
        created_at=now,
        expires_at=now + timedelta(days=days),
        approval=approval,
    )
    session.add(row)
    session.flush()
    detail = {"action": "created", "name": row.name, "scopes": sorted(chosen), "approval": approval}
    _record_token_change(session, actor, row.id, {**detail, "expires_at": row.expires_at.isoformat()})
    return token, row


MAX_API_TOKEN_DAYS = 3650  # the command line's longest lifetime (the screens: the api_token_days setting)


def create_api_token(
    session: Session, name: str, scopes: Iterable[str], actor: str, days: int = DEFAULT_API_TOKEN_DAYS
) -> str:
    """Make a bearer token for a machine client on the server (`custodes api-token create`: the operator is
    trusted, so it works at once); the token itself is returned once and never stored."""
    if not 1 <= days <= MAX_API_TOKEN_DAYS:
        raise IdentityError(
            f"--days: a token's lifetime must be a whole number of days from 1 to {MAX_API_TOKEN_DAYS:,} "
            "(ten years)"
        )
    token, _row = _make_token(session, name, _chosen_scopes(name, scopes), actor, days, "not_needed")
    return token


def request_api_token(
    session: Session, name: str, scopes: Iterable[str], days: int, max_days: int, actor: Principal
) -> tuple[str, bool]:
    """An administrator makes a token on the screens: (the token, shown once; whether it waits for a second
    administrator). A token with a scope that reads personal data or puts records in someone's name
    (`permissions.SCOPE_REACH`: every scope today) is refused until a different administrator approves it;
    else an administrator could read the whole ledger, or invent accesses in any officer's name, alone."""
    chosen = _chosen_scopes(name, scopes)
    if not 1 <= days <= max_days:
        raise IdentityError(f"Lifetime (days): enter a whole number from 1 to {max_days}", "days")
    pending = bool(chosen & SCOPES_NEEDING_SECOND_ADMIN)
    token, _row = _make_token(
        session, name, chosen, actor.actor, days, "pending" if pending else "not_needed"
    )
    return token, pending


def decide_api_token(session: Session, token_id: int, approve: bool, actor: Principal) -> None:
    """A second administrator approves (the token then works until it expires) or declines a token."""
    row = session.get(ApiToken, token_id, with_for_update=True)
    if row is None:
        raise IdentityError(f"API token {token_id} does not exist")
    if row.approval != "pending" or row.revoked_at is not None:
        was = "revoked" if row.revoked_at is not None else row.approval.replace("_", " ")
        raise IdentityError(
            f"API token {token_id} is not awaiting approval (it was {was}): make a new one if it is needed"
        )
    if row.created_by == actor.actor:
        raise IdentityError("a second administrator must decide on this token, not the one who made it")
    if approve and row.expires_at <= utcnow():
        raise IdentityError(f"API token {token_id} has expired: decline it and make a new one")
    maker = row.created_by.removeprefix("staff:")
    if approve and not _still_holds(session, maker, Permission.TOKENS_MANAGE):
        raise IdentityError(f"{maker}, who made API token {token_id}, no longer manages tokens: decline it")
    row.approval = "approved" if approve else "declined"
    row.approved_by = actor.actor
    row.approved_at = utcnow()
    _record_token_change(
        session,
        actor.actor,
        token_id,
        {"action": row.approval, "name": row.name, "scopes": row.scopes.split(";")},
        Op.AUTHORISATION if approve else Op.REFUSAL,
    )


def resolve_api_token(session: Session, token: str) -> TokenPrincipal | None:
    """The client behind a bearer token, or None: unknown, revoked, expired, or not (yet) approved. Its
    last-used time is updated in `session` when due (`check_api_token`, then `touch_api_token`)."""
    found = check_api_token(session, token)
    if found is None:
        return None
    client, touch_due = found
    if touch_due:
        touch_api_token(session, client.token_id)
    return client


def check_api_token(session: Session, token: str) -> tuple[TokenPrincipal, bool] | None:
    """Reads only, so it may run in a read-only unit of work: the client behind a bearer token and whether
    its last-used time is due to be updated (never set, or older than _SESSION_TOUCH_INTERVAL: the tokens
    screen's "last used" is right to within that), or None: unknown, revoked, expired, or not (yet)
    approved."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(token)))
    now = utcnow()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    if row.approval not in _TOKEN_WORKS:  # pending, declined, cancelled
        return None
    due = row.last_used_at is None or now - row.last_used_at >= _SESSION_TOUCH_INTERVAL
    scopes = frozenset(Scope(s) for s in row.scopes.split(";") if s)
    return TokenPrincipal(row.id, row.name, scopes, row.expires_at), due


def api_token_still_works(session: Session, token_id: int) -> bool:
    """Whether a token checked before its request's unit of work began (`check_api_token`) still works, read
    in that unit of work just before it writes: a revocation that committed meanwhile (while a large body
    was uploading) is seen, and on PostgreSQL the row is share-locked, so a revocation waits for this
    unit of work to end rather than passing it (on SQLite the unit of work holds the write lock already)."""
    row = session.scalar(select(ApiToken).where(ApiToken.id == token_id).with_for_update(read=True))
    return (
        row is not None
        and row.revoked_at is None
        and row.expires_at > utcnow()
        and row.approval in _TOKEN_WORKS
    )


def touch_api_token(session: Session, token_id: int) -> None:
    """Set a token's last-used time to now, unless another request has set it within
    _SESSION_TOUCH_INTERVAL meanwhile (one short write per token per interval, however many requests)."""
    now = utcnow()
    stale = or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - _SESSION_TOUCH_INTERVAL)
    statement = update(ApiToken).where(ApiToken.id == token_id, stale).values(last_used_at=now)
    session.execute(statement.execution_options(synchronize_session="fetch"))


def pending_token_count(session: Session) -> int:
    """How many tokens await a second administrator (pending, not revoked, not yet expired)."""
    query = select(func.count(ApiToken.id)).where(
        ApiToken.approval == "pending", ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow()
    )
    return session.scalar(query) or 0


def list_api_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.id.desc())))


def revoke_api_token(session: Session, token_id: int, actor: str, reason: str | None = None) -> None:
    """Revoke a token: every request with it is refused from then on. On the screens a `reason` is needed
    (kept as the ledger entry's justification), since a misclick would cut off a live system."""
    row = session.get(ApiToken, token_id)
    if row is None:
        raise IdentityError(f"no API token {token_id}")
    why = _reason(reason, f"revoking the token for {row.name}")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        draft = EntryDraft(
            actor=actor,
            op=Op.CONFIGURATION,
            object_type="api_token",
            object_id=str(token_id),
            justification=why,
            detail={"action": "revoked", "name": row.name},
        )
        ledger.record(session, draft)


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True, slots=True)
class ConfigSpec:
    title: str
    description: str
    default: str
    kind: type = str
    listed: bool = False  # a list separated by ';': edited in a wide box
    pairs: bool = False  # a list of "CODE = words" entries
    maximum: int | None = None  # the largest whole number allowed (kind int)
    at_least: str | None = None  # another setting this one may not be below (kind int)


CONFIGURATION: dict[str, ConfigSpec] = {
    "intelligence_currency_days": ConfigSpec(
        "Intelligence currency (days)",
        "Scheme disclosures need intelligence recorded within this many days (policy K10 6.2.2).",
        "90",
        int,
    ),
    "intelligence_systems": ConfigSpec(
        "Intelligence systems",
        "The systems the intelligence cited as grounds for a disclosure is held on, separated by ';': a "
        "correction to a record on one of them reaches every released disclosure citing that record id.",
        "Genesis",
        listed=True,
    ),
    "area_names": ConfigSpec(
        "Area names",
        "The force's areas (the staff register's area codes) in words, each as CODE = name, separated by ';' "
        "or on separate lines, e.g. NA = North Division. Screens show the name with the code.",
        "",
        listed=True,
        pairs=True,
    ),
    "review_days": ConfigSpec(
        "Disclosure review (days)",
        "Released scheme disclosures are reviewed after this many days.",
        "60",
        int,
    ),
    "review_days_exclusion": ConfigSpec(
        "Review under an exclusion notice (days)",
        "Review period when an exclusion notice applies.",
        "120",
        int,
    ),
    "lawful_bases": ConfigSpec(
        "Lawful bases for disclosure",
        "The powers an officer may name when disclosing, separated by ';'. The officer names the power "
        "used (as the IOPC recommended to Durham Constabulary in 2024).",
        "DPA2018_Part3;CDA1998_s115;common_law;UKGDPR_6_1_e;UKGDPR_6_1_d;UKGDPR_6_1_c",
        listed=True,
    ),
    "lawful_basis_names": ConfigSpec(
        "Lawful bases in words",
        "Words for lawful basis codes that screens do not already know, each as CODE = words, separated by "
        "';' or on separate lines, e.g. CA2004_s10 = Children Act 2004, s.10. The agreement screens show the "
        "words with the code; the codes Custodes is shipped with already have words.",
        "",
        listed=True,
        pairs=True,
    ),
    "emergency_completion_hours": ConfigSpec(
        "Emergency disclosure completion (hours)",
        "An urgent disclosure made at once must be completed and authorised within this many hours.",
        "48",
        int,
    ),
    "expiry_grace_days": ConfigSpec(
        "Disclosure expiry grace (days)",
        "A released disclosure expires only once its scheme has read 'not recognised', or its agreement has "
        "been past its end date, for this many days with no change to that scheme's or agreement's record: "
        "an import that wrongly clears the flag or moves the end date can be put right before anything "
        "expires.",
        "30",
        int,
    ),
    "neighbour_distance_m": ConfigSpec(
        "Neighbour distance (metres)",
        "Monitoring treats people living this close to the searcher as neighbours.",
        "300",
        int,
    ),
    "household_distance_m": ConfigSpec(
        "Household distance (metres)",
        "A subject with the searcher's surname living this close counts as a relative or household.",
        "100",
        int,
    ),
    "repeated_interest_days": ConfigSpec(
        "Repeated interest (days)",
        "Unexplained accesses to the same person on this many separate days within the repeated interest "
        "window raise an alert.",
        "3",
        int,
    ),
    "repeated_interest_window_days": ConfigSpec(
        "Repeated interest window (days)",
        "The separate days of repeated interest count only within this many days (at most 366, and at least "
        "the repeated interest days: a shorter window could never hold them).",
        "30",
        int,
        maximum=366,
        at_least="repeated_interest_days",
    ),
    "volume_ratio": ConfigSpec(
        "Search volume ratio",
        "A day's searches this many times the searcher's usual day and their team's raise an alert.",
        "5",
        int,
    ),
    "volume_minimum_searches": ConfigSpec(
        "Search volume minimum",
        "A day with fewer searches than this never counts as unusual volume.",
        "50",
        int,
    ),
    "off_duty_grace_minutes": ConfigSpec(
        "Off-duty grace (minutes)",
        "Accesses this close before or after a rostered duty period count as on duty.",
        "60",
        int,
    ),
    "alert_gap_days": ConfigSpec(
        "Alert grouping gap (days)",
        "Accesses to the same person more than this many days apart start a new alert.",
        "30",
        int,
    ),
    "small_number_suppression": ConfigSpec(
        "Small-number suppression", "Published figures below this count are suppressed.", "10", int
    ),
}


# (setting, setting that may not be below it), from ConfigSpec.at_least: checked whichever of the two changes.
_AT_LEAST = tuple((spec.at_least, key) for key, spec in CONFIGURATION.items() if spec.at_least)


def config_items(session: Session) -> list[ConfigItem]:
    stored = {row.key: row for row in session.scalars(select(ConfigValue))}
    items = []
    for key, spec in CONFIGURATION.items():
        row = stored.get(key)
        items.append(
            ConfigItem(
                key,
                spec.title,
                spec.description,
                row.value if row else spec.default,
                spec.default,
                row.changed_by if row else None,
                row.changed_at if row else None,
                spec.listed,
            )
        )
    return items


def config_pairs(session: Session, key: str) -> dict[str, str]:
    """A "CODE = words" setting as a dictionary; entries without both are left out."""
    names: dict[str, str] = {}
    for entry in config_value(session, key).split(";"):
        code, _sep, words = entry.partition("=")
        if code.strip() and words.strip():
            names[code.strip()] = words.strip()
    return names


def area_names(session: Session) -> dict[str, str]:
    """The areas' names by code, as configured (Configuration, "Area names"); codes not named are left
    out, so a screen shows them as codes."""
    return config_pairs(session, "area_names")


def lawful_basis_names(session: Session) -> dict[str, str]:
    """Lawful basis codes in words, as configured (Configuration, "Lawful bases in words")."""
    return config_pairs(session, "lawful_basis_names")


def area_label(names: Mapping[str, str], code: str | None) -> str:
    """'North Division (NA)' if the area is named, else the code; '—' for none."""
    if not code:
        return "—"
    return f"{names[code]} ({code})" if code in names else code


def area_labeller(session: Session) -> Callable[[str | None], str]:
    """area_label with this force's names, for a screen to call on each code it shows."""
    names = area_names(session)
    return lambda code: area_label(names, code)


def config_value(session: Session, key: str) -> str:
    row = session.get(ConfigValue, key)
    return row.value if row is not None else CONFIGURATION[key].default


def set_config(session: Session, key: str, value: str, actor: Principal) -> None:
    spec = CONFIGURATION.get(key)
    if spec is None:
        raise IdentityError(f"unknown setting {key!r}")
    value = value.strip()
    if spec.listed:  # edited in a box where a line break reads as a separator too
        value = ";".join(part.strip() for part in value.replace("\n", ";").split(";") if part.strip())
    if spec.pairs:
        entries = [part.partition("=") for part in value.split(";")]
        if any(not (code.strip() and sep and words.strip()) for code, sep, words in entries if value):
            raise IdentityError(
                f"{spec.title}: write each entry as CODE = name, e.g. NA = North Division", key
            )
        value = ";".join(f"{code.strip()} = {words.strip()}" for code, _sep, words in entries if value)
    # isdigit() alone admits '²' (int() then raises) and other scripts' digits: only 0-9 are numbers here.
    if spec.kind is int and not (value.isascii() and value.isdigit() and int(value) > 0):
        raise IdentityError(f"{spec.title}: enter a whole number greater than 0", key)
    if spec.maximum is not None and int(value) > spec.maximum:
        raise IdentityError(f"{spec.title}: enter a whole number from 1 to {spec.maximum}", key)
    for low_key, high_key in _AT_LEAST:
        if key in (low_key, high_key):
            low = int(value if key == low_key else config_value(session, low_key))
            high = int(value if key == high_key else config_value(session, high_key))
            if high < low and key == high_key:
                raise IdentityError(
                    f"{spec.title}: enter at least {low}, the {CONFIGURATION[low_key].title} setting", key
                )
            if high < low:
                raise IdentityError(
                    f"{spec.title}: enter at most {high}, the {CONFIGURATION[high_key].title} setting", key
                )
    stored = session.get(ConfigValue, key)
    if (stored.value if stored is not None else spec.default) == value:
        return
    # Created holding the default if absent, then locked and read afresh: two changes at once run in turn,
    # and each entry's "old" is the value it replaced.
    row = locked_row(
        session, ConfigValue, key=key, value=spec.default, changed_by=actor.staff_id, changed_at=utcnow()
    )
    old = row.value
    if old == value:
        return
    row.value, row.changed_by, row.changed_at = value, actor.staff_id, utcnow()
    ledger.record(
        session,
        EntryDraft(
            actor=actor.actor,
            op=Op.CONFIGURATION,
            object_type="config",
            object_id=key,
            detail={"old": old, "new": value},
        ),
    )


def preload_accounts(session: Session) -> None:
    """Load every account into the session, so that a large import does not query one at a time."""
    list(session.scalars(select(Account)))


def display_names(session: Session, staff_ids: Iterable[str]) -> dict[str, str]:
    """The account names of these members of staff, in one query per 1,000 (for showing who did something
    beside their staff number); people with no account are left out. A colleague's name is not a subject's
    personal data: not logged."""
    wanted = sorted(set(staff_ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _NAMES_BATCH):  # an audit export may name thousands of staff
        batch = wanted[start : start + _NAMES_BATCH]
        query = select(Account.staff_id, Account.display_name).where(Account.staff_id.in_(batch))
        names.update({staff_id: name for staff_id, name in session.execute(query)})
    return names


def staff_label(names: Mapping[str, str], staff_id: str | None) -> str:
    """'Tunde Mills (S12778)' for a staff number (or an actor as recorded, 'staff:S12778') whose account
    `names` holds (`display_names`), the number alone if it holds none; '—' for none."""
    if not staff_id:
        return "—"
    number = staff_id.removeprefix("staff:")
    return f"{names[number]} ({number})" if number in names else number


def staff_labeller(session: Session, staff_ids: Iterable[str | None]) -> Callable[[str | None], str]:
    """For a screen: 'Tunde Mills (S12778)' for each of these staff numbers, in one query per 1,000 (the
    number alone if there is no account). Takes a staff number or an actor as recorded ('staff:S12778' reads
    the same; 'system:…' and other components are shown as recorded). A colleague's name is not a subject's
    personal data: not logged."""
    names = display_names(session, [s.removeprefix("staff:") for s in staff_ids if s])
    return lambda staff_id: staff_label(names, staff_id)


def roles_by_staff(session: Session, staff_ids: Iterable[str]) -> dict[str, set[str]]:
    """The role names of each of these people, in one query however many (the pre-access gate loads
    thousands at once); people with no account or no role are left out. For rule checking: not logged."""
    wanted = set(staff_ids)
    found: dict[str, set[str]] = {}
    if not wanted:
        return found
    query = select(AccountRole.staff_id, AccountRole.role).where(AccountRole.staff_id.in_(wanted))
    for staff_id, role in session.execute(query):
        found.setdefault(staff_id, set()).add(role)
    return found
