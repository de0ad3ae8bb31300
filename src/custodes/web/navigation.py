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
    NavItem("Disclosures", "/disclosures", Permission.DISCLOSURE_REQUEST),
    NavItem("Authorise", "/disclosures/queue/authorise", Permission.DISCLOSURE_AUTHORISE),
    NavItem("Reviews", "/disclosures/queue/review", Permission.DISCLOSURE_REVIEW),
    NavItem("Referrals", "/referrals", Permission.REFERRALS_HANDLE),
    NavItem("All disclosures", "/disclosures/all", Permission.DISCLOSURE_OVERSEE),
    NavItem("Corrections", "/corrections", Permission.CORRECTIONS_MANAGE),
    NavItem("Declarations", "/declarations", Permission.SELF_VIEW),
    NavItem("Decide declarations", "/declarations/queue", Permission.DECLARATIONS_DECIDE),
    NavItem("Registers", "/declarations/register", Permission.WORKFORCE_REGISTERS),
    NavItem("Training", "/training", Permission.TRAINING_VIEW),
    NavItem("Vetting", "/vetting", Permission.VETTING_VIEW),
    NavItem("Monitoring", "/monitoring", Permission.MONITORING_VIEW),
    NavItem("Alerts", "/alerts", Permission.ALERTS_INVESTIGATE),
    NavItem("Investigations", "/investigations", Permission.ALERTS_INVESTIGATE),
    NavItem("Stop and search", "/stopsearch", Permission.STOPSEARCH_VIEW),
    NavItem("Audit", "/audit", Permission.LEDGER_VIEW),
    NavItem("Partners", "/partners", Permission.AGREEMENTS_VIEW),
    NavItem("Agreements", "/agreements", Permission.AGREEMENTS_VIEW),
    NavItem("Schemes", "/schemes", Permission.AGREEMENTS_VIEW),
    NavItem("Learning", "/learning", Permission.LEARNING_VIEW),
    NavItem("Accounts", "/admin/accounts", Permission.ACCOUNTS_VIEW),
    NavItem("API tokens", "/admin/tokens", Permission.TOKENS_MANAGE),
    NavItem("Retention", "/retention", Permission.RETENTION_MANAGE),
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
