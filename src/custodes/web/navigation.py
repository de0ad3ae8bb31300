"""The menu: each entry shows only to those whose roles grant its permission."""

from __future__ import annotations

from dataclasses import dataclass

from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    permission: Permission
    active: bool = False


MENU = (
    NavItem("Home", "/", Permission.SELF_VIEW),
    NavItem("My record", "/me", Permission.SELF_VIEW),
    NavItem("Audit", "/audit", Permission.LEDGER_VIEW),
    NavItem("Accounts", "/admin/accounts", Permission.ACCOUNTS_VIEW),
    NavItem("API tokens", "/admin/tokens", Permission.TOKENS_MANAGE),
    NavItem("Configuration", "/admin/config", Permission.CONFIG_MANAGE),
)


def navigation_for(principal: Principal | None, path: str) -> list[NavItem]:
    if principal is None:
        return []
    items = [item for item in MENU if principal.can(item.permission)]
    best = max(
        (item.path for item in items if path == item.path or path.startswith(item.path.rstrip("/") + "/")),
        key=len,
        default="/",
    )
    return [NavItem(i.label, i.path, i.permission, i.path == best) for i in items]
