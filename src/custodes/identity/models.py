"""Identity tables: accounts and their roles, log-in sessions, API tokens, role requests, configuration."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from custodes.kit.db import Base, UTCDateTime


class Account(Base):
    """A member of the workforce who can log in. `staff_id` is also the log-in name."""

    __tablename__ = "account"

    staff_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last day (London) the account may be used: a leaver's last day of service, from the staff register.
    active_until: Mapped[date | None] = mapped_column(Date)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who last set the password: the ledger actor (staff:<id> on the screens, system:cli on the server);
    # None for passwords set before migration 0012, treated as set by the holder.
    password_set_by: Mapped[str | None] = mapped_column(String(80))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    roles: Mapped[list[AccountRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="AccountRole.role"
    )


class AccountRole(Base):
    __tablename__ = "account_role"

    staff_id: Mapped[str] = mapped_column(ForeignKey("account.staff_id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class LoginSession(Base):
    """A log-in. The cookie carries a signed random token; only its SHA-256 is stored."""

    __tablename__ = "login_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("account.staff_id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    client: Mapped[str] = mapped_column(String(100), default="")


class ApiToken(Base):
    """A machine client's bearer token, limited to scopes. Only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(400))  # ';'-separated Scope values
    created_by: Mapped[str] = mapped_column(String(80))  # the ledger actor: staff:<id>, or system:cli
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)  # refused from then on
    # pending / approved / declined (made on the screens: a second administrator decides), cancelled (still
    # pending when its maker lost the admin role, was disabled or left), not_needed (made on the server),
    # before_approvals (made before migration 0012). Pending, declined and cancelled are refused.
    approval: Mapped[str] = mapped_column(String(16))
    approved_by: Mapped[str | None] = mapped_column(String(80))  # who approved, declined or cancelled it
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RoleRequest(Base):
    """A role change that needs a second administrator (a sensitive role, or an administrator's own roles)."""

    __tablename__ = "role_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("account.staff_id"))
    roles: Mapped[str] = mapped_column(String(200))  # the requested full set, ';'-separated
    # The account's roles when the request was made (';'-separated; None: made before 0012). Approval is
    # refused if they have changed since.
    from_roles: Mapped[str | None] = mapped_column(String(200))
    requested_by: Mapped[str] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # approved / declined / cancelled


class ConfigValue(Base):
    """An administrator-set configuration value (see identity.service.CONFIGURATION)."""

    __tablename__ = "config_value"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    changed_by: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
