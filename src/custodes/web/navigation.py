"""The menu: each entry shows only to those whose roles grant its permission.

A short menu (an officer's four entries) is one row of links. A long one (a DPU's nineteen) is grouped by
area: Home and My record stay on the row, and each area's entries sit under one drop-down (`menu_for`), so a
sergeant or the DPU scans five words rather than twenty. The entries are the same either way."""

from __future__ import annotations

from dataclasses import dataclass

from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal

DISCLOSURE, WORKFORCE, MONITORING, AUDIT, ADMIN = "Disclosure", "Workforce", "Monitoring", "Audit", "Admin"
GROUPS = (DISCLOSURE, WORKFORCE, MONITORING, AUDIT, ADMIN)
"""The areas a long menu is grouped into, in the order they are shown."""

GROUP_ABOVE = 7
"""A menu of more entries than this is grouped by area; one of this many or fewer stays a row of links."""


@dataclass(frozen=True, slots=True)
class NavItem:
    label: str
    path: str
    permission: Permission
    group: str = ""  # the area it goes under when the menu is grouped; "" stays on the row (Home, My record)
    active: bool = False
    is_group = False


@dataclass(frozen=True, slots=True)
class NavGroup:
    """One area's entries under a drop-down; `active` when the page is one of them."""

    label: str
    items: tuple[NavItem, ...]
    is_group = True

    @property
    def active(self) -> bool:
        return any(item.active for item in self.items)


MENU = (
    NavItem("Home", "/", Permission.SELF_VIEW),
    NavItem("My record", "/me", Permission.SELF_VIEW),
    NavItem("Disclosures", "/disclosures", Permission.DISCLOSURE_REQUEST, DISCLOSURE),
    NavItem("Authorise", "/disclosures/queue/authorise", Permission.DISCLOSURE_AUTHORISE, DISCLOSURE),
    NavItem("Reviews", "/disclosures/queue/review", Permission.DISCLOSURE_REVIEW, DISCLOSURE),
    NavItem("Referrals", "/referrals", Permission.REFERRALS_HANDLE, DISCLOSURE),
    NavItem("All disclosures", "/disclosures/all", Permission.DISCLOSURE_OVERSEE, DISCLOSURE),
    NavItem("Corrections", "/corrections", Permission.CORRECTIONS_MANAGE, DISCLOSURE),
    NavItem("Declarations", "/declarations", Permission.SELF_VIEW, WORKFORCE),
    NavItem("Decide declarations", "/declarations/queue", Permission.DECLARATIONS_DECIDE, WORKFORCE),
    NavItem("Registers", "/declarations/register", Permission.WORKFORCE_REGISTERS, WORKFORCE),
    NavItem("Training", "/training", Permission.TRAINING_VIEW, WORKFORCE),
    NavItem("Vetting", "/vetting", Permission.VETTING_VIEW, WORKFORCE),
    NavItem("Monitoring", "/monitoring", Permission.MONITORING_VIEW, MONITORING),
    NavItem("Alerts", "/alerts", Permission.ALERTS_INVESTIGATE, MONITORING),
    NavItem("Investigations", "/investigations", Permission.ALERTS_INVESTIGATE, MONITORING),
    NavItem("Stop and search", "/stopsearch", Permission.STOPSEARCH_VIEW, MONITORING),
    NavItem("Audit", "/audit", Permission.LEDGER_VIEW, AUDIT),
    NavItem("Partners", "/partners", Permission.AGREEMENTS_VIEW, DISCLOSURE),
    NavItem("Agreements", "/agreements", Permission.AGREEMENTS_VIEW, DISCLOSURE),
    NavItem("Schemes", "/schemes", Permission.AGREEMENTS_VIEW, DISCLOSURE),
    NavItem("Learning", "/learning", Permission.LEARNING_VIEW, AUDIT),
    NavItem("Accounts", "/admin/accounts", Permission.ACCOUNTS_VIEW, ADMIN),
    NavItem("Role requests", "/admin/role-requests", Permission.ACCOUNTS_VIEW, ADMIN),
    NavItem("API tokens", "/admin/tokens", Permission.TOKENS_MANAGE, ADMIN),
    NavItem("Retention", "/retention", Permission.RETENTION_MANAGE, DISCLOSURE),
    NavItem("Configuration", "/admin/config", Permission.CONFIG_MANAGE, ADMIN),
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
    return [NavItem(i.label, i.path, i.permission, i.group, i.path == best) for i in items]


def menu_for(principal: Principal | None, path: str) -> list[NavItem | NavGroup]:
    """The masthead's menu: `navigation_for`'s entries, as a row of links when there are few, else grouped by
    area (Home and My record first, then one drop-down per area; an area with one entry is a plain link)."""
    items = navigation_for(principal, path)
    if len(items) <= GROUP_ABOVE:
        return list(items)
    by_group: dict[str, list[NavItem]] = {}
    for item in items:
        by_group.setdefault(item.group, []).append(item)
    menu: list[NavItem | NavGroup] = list(by_group.pop("", []))
    for label in GROUPS:
        members = by_group.pop(label, [])
        if len(members) == 1:
            menu.append(members[0])
        elif members:
            menu.append(NavGroup(label, tuple(members)))
    assert not by_group, f"menu entries in no known area: {by_group}"
    return menu


def menu_links(menu: list[NavItem | NavGroup]) -> list[NavItem]:
    """Every link of a menu, grouped or not, in the order it shows them."""
    return [item for entry in menu for item in (entry.items if isinstance(entry, NavGroup) else (entry,))]
