"""The masthead menu grouped by area for roles with many entries (a DPU had nineteen links on one wrapped
row), a plain row of links for the rest, and every role keeping every link it had."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from custodes.identity.permissions import ROLE_PERMISSIONS, Role
from custodes.identity.schemas import Principal
from custodes.web.navigation import (
    GROUP_ABOVE,
    GROUPS,
    MENU,
    NavGroup,
    NavItem,
    menu_for,
    menu_links,
    navigation_for,
)


def _principal(role: Role) -> Principal:
    return Principal(staff_id="T1", display_name="Test", roles=frozenset({role}))


def _links_before_grouping(role: Role) -> list[tuple[str, str]]:
    """The menu as it was built before grouping: every entry whose permission the role holds."""
    return [(item.label, item.path) for item in MENU if item.permission in ROLE_PERMISSIONS[role]]


def _nav(page: str) -> str:
    found = re.search(r'<nav aria-label="Main">(.*?)</nav>', page, re.S)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("role", list(Role))
def test_every_role_keeps_every_menu_link_it_had(role: Role) -> None:
    menu = menu_for(_principal(role), "/")
    links = [(item.label, item.path) for item in menu_links(menu)]
    assert sorted(links) == sorted(_links_before_grouping(role))
    assert len(links) == len(set(links))
    assert {(i.label, i.path) for i in navigation_for(_principal(role), "/")} == set(links)


def test_every_menu_entry_but_home_and_my_record_belongs_to_an_area() -> None:
    assert {item.label for item in MENU if not item.group} == {"Home", "My record"}
    assert {item.group for item in MENU if item.group} == set(GROUPS)


def test_a_short_menu_stays_a_row_of_links() -> None:
    for role in (Role.OFFICER, Role.STAFF, Role.ANALYST, Role.ADMIN):
        menu = menu_for(_principal(role), "/")
        assert len(menu) <= GROUP_ABOVE and all(isinstance(entry, NavItem) for entry in menu), role


def test_the_dpu_s_long_menu_is_grouped_by_area_with_the_current_area_marked() -> None:
    menu = menu_for(_principal(Role.DPU), "/retention")
    assert [entry.label for entry in menu] == [
        "Home",
        "My record",
        "Disclosure",
        "Workforce",
        "Monitoring",
        "Audit",
    ]
    groups = {entry.label: entry for entry in menu if isinstance(entry, NavGroup)}
    assert [item.label for item in groups["Disclosure"].items] == [
        "Disclosures",
        "Authorise",
        "Reviews",
        "All disclosures",
        "Corrections",
        "Partners",
        "Agreements",
        "Schemes",
        "Retention",
    ]
    assert [g.label for g in groups.values() if g.active] == ["Disclosure"]
    assert [i.label for i in menu_links(menu) if i.active] == ["Retention"]


def test_an_area_with_one_entry_is_a_plain_link() -> None:
    """A supervisor's only monitoring entry is Stop and search: no drop-down holding one link."""
    menu = menu_for(_principal(Role.SUPERVISOR), "/stopsearch")
    labels = [entry.label for entry in menu]
    assert labels == ["Home", "My record", "Disclosure", "Workforce", "Stop and search", "Learning"]
    assert isinstance(menu[4], NavItem) and menu[4].active


@pytest.mark.parametrize("role", list(Role))
def test_each_role_s_page_shows_its_menu_links(
    role: Role, client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    """Rendered: the links in the page's menu are the role's links before grouping, each once."""
    logged_in(role)
    nav = _nav(client.get("/").text)
    shown = re.findall(r'<a href="([^"]+)"(?: aria-current="page")?>([^<]+)</a>', nav)
    assert sorted((label, path) for path, label in shown) == sorted(_links_before_grouping(role))


def test_the_dpu_s_menu_is_drop_downs_that_need_no_javascript(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.DPU)
    nav = _nav(client.get("/retention").text)
    summaries = re.findall(r"<details name=\"main-menu\"><summary([^>]*)>([^<]+)</summary>", nav)
    assert [label for _attrs, label in summaries] == ["Disclosure", "Workforce", "Monitoring", "Audit"]
    assert [label for attrs, label in summaries if 'aria-current="true"' in attrs] == ["Disclosure"]
    assert re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', nav) == ["Retention"]
    assert "<script" not in nav and "onclick" not in nav


def test_the_officer_s_menu_is_a_plain_row_as_before(
    client: TestClient, db: Session, logged_in: Callable[[Role], str]
) -> None:
    logged_in(Role.OFFICER)
    nav = _nav(client.get("/disclosures").text)
    assert "<details" not in nav
    assert re.findall(r'<li><a href="([^"]+)"', nav) == ["/", "/me", "/disclosures", "/declarations"]
    assert re.findall(r'<a href="[^"]*" aria-current="page">([^<]+)</a>', nav) == ["Disclosures"]
