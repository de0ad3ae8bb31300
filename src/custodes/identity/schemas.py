"""Identity value types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from custodes.identity.permissions import Permission, Role, Scope, permissions_for


@dataclass(frozen=True, slots=True)
class Principal:
    """The member of staff behind a request or command."""

    staff_id: str
    display_name: str
    roles: frozenset[Role]

    @property
    def actor(self) -> str:
        return f"staff:{self.staff_id}"

    @property
    def permissions(self) -> frozenset[Permission]:
        return permissions_for(self.roles)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


@dataclass(frozen=True, slots=True)
class TokenPrincipal:
    """A machine client authenticated by an API token."""

    token_id: int
    name: str
    scopes: frozenset[Scope]
    expires_at: datetime | None = None  # refused from then on (checked again by whoever caches it)

    @property
    def actor(self) -> str:
        return f"system:api-token-{self.token_id}"


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    ok: bool
    message: str
    staff_id: str | None = None
    token: str | None = None


@dataclass(frozen=True, slots=True)
class PasswordChange:
    """The outcome of a member of staff changing their own password: on refusal, the field at fault."""

    ok: bool
    message: str
    field: str | None = None  # current_password / new_password / new_password_again


@dataclass(frozen=True, slots=True)
class AccountView:
    staff_id: str
    display_name: str
    roles: tuple[Role, ...]
    active: bool
    locked_until: datetime | None
    has_password: bool
    last_login_at: datetime | None
    active_until: date | None = None  # the last day it may be used
    left: bool = False  # past that day: log-in refused
    password_set_by: str | None = None  # the actor who last set the password (None: unknown, before 0012)
    password_changed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RoleChangeResult:
    applied: bool
    message: str
    request_id: int | None = None


@dataclass(frozen=True, slots=True)
class RoleRequestView:
    """A pending role request and the change it would make to the account's roles as they are now."""

    id: int
    staff_id: str
    display_name: str
    requested: tuple[Role, ...]
    current: tuple[Role, ...]
    added: tuple[Role, ...]
    removed: tuple[Role, ...]
    requested_by: str
    requested_at: datetime
    changed_since: bool  # the roles are no longer those the request was made against: approval is refused
    password_set_by: str | None  # who last set the account's password (None: unknown, or no password)
    password_changed_at: datetime | None
    # The password was last set by another member of staff and the request gives a sensitive role:
    # approval is refused until the holder (or the operator on the server) sets it.
    password_blocks: bool
    has_password: bool = True
    active: bool = True  # the account is enabled
    left: bool = False  # past its last day of service
    active_until: date | None = None
    out_of_service: str | None = None  # why the account cannot be used ("is disabled"): approval is refused


@dataclass(frozen=True, slots=True)
class ConfigItem:
    key: str
    title: str
    description: str
    value: str
    default: str
    changed_by: str | None
    changed_at: datetime | None
    listed: bool = False  # a list separated by ';'
