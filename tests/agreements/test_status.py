"""An agreement's status on a day, and a scheme manager's vetting, at and around every boundary day."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from custodes.agreements.schemas import AgreementView, MemberView, RecipientView, SchemeView

START, REVIEW, END = date(2026, 1, 1), date(2026, 6, 30), date(2026, 12, 31)
DAY = timedelta(days=1)
AGREEMENT = AgreementView(
    agreement_id="A1",
    title="Test",
    kind="ISA",
    parties=("KCC",),
    purposes=("prevention_of_crime",),
    data_categories=("photo", "name"),
    lawful_bases=("CDA1998_s115",),
    start_date=START,
    review_date=REVIEW,
    end_date=END,
    manual_status=None,
)


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (START - DAY, "not_started"),
        (START, "in_force"),  # the start date is a day in force
        (REVIEW, "in_force"),  # so is the review date
        (REVIEW + DAY, "review_overdue"),
        (END, "review_overdue"),  # unreviewed to the end
        (END + DAY, "ended"),
    ],
)
def test_status_from_dates(day: date, status: str) -> None:
    assert AGREEMENT.status_on(day) == status
    assert AGREEMENT.in_force_on(day) is (status == "in_force")


def test_an_end_date_before_the_review_date_ends_it() -> None:
    reviewed = replace(AGREEMENT, review_date=date(2027, 6, 30))
    assert reviewed.status_on(END) == "in_force"
    assert reviewed.status_on(END + DAY) == "ended"


def test_without_an_end_date_it_stays_in_force_until_its_review_date() -> None:
    open_ended = replace(AGREEMENT, end_date=None)
    assert open_ended.status_on(REVIEW) == "in_force"
    assert open_ended.status_on(date(2099, 1, 1)) == "review_overdue"


def test_without_a_review_date_it_is_not_in_force() -> None:
    """An agreement recorded before a review date was required never fell due for review: it is not relied
    on until it has one (it used to stay in force for ever)."""
    unreviewed = replace(AGREEMENT, review_date=None, end_date=None)
    assert unreviewed.status_on(START) == "review_date_missing"
    assert not unreviewed.in_force_on(date(2099, 1, 1))
    assert unreviewed.status_on(START - DAY) == "not_started"
    assert replace(unreviewed, end_date=END).status_on(END + DAY) == "ended"
    assert replace(unreviewed, manual_status="suspended").status_on(START) == "suspended"


@pytest.mark.parametrize("manual", ["suspended", "withdrawn"])
def test_a_manual_status_wins_on_every_day(manual: str) -> None:
    held = replace(AGREEMENT, manual_status=manual)
    for day in (START - DAY, START, REVIEW + DAY, END + DAY):
        assert held.status_on(day) == manual
        assert not held.in_force_on(day)


def test_covers_purpose_and_every_category() -> None:
    assert AGREEMENT.covers("prevention_of_crime", ["photo", "name"])
    assert not AGREEMENT.covers("prevention_of_crime", ["photo", "address"])
    assert not AGREEMENT.covers("prosecution")


def test_scheme_manager_vetting_boundary() -> None:
    scheme = SchemeView("S", "ShopWatch", "N", True, "Pat", date(2026, 3, 31))
    assert scheme.manager_vetted_on(date(2026, 3, 31))
    assert not scheme.manager_vetted_on(date(2026, 4, 1))
    assert not replace(scheme, manager_vetted_until=None).manager_vetted_on(date(2020, 1, 1))
    assert not replace(scheme, manager_name=None).manager_vetted_on(date(2020, 1, 1))


def test_member_current_and_individual() -> None:
    member = MemberView("M1", "S", "Jo Bloggs", None, date(2024, 1, 1), None, "active")
    assert member.current and member.individual
    assert not replace(member, status="suspended").current
    assert not replace(member, status="left").current
    assert not replace(member, org_id="KCC").individual


def test_a_member_counts_from_the_day_registered_and_signed() -> None:
    member = MemberView("M1", "S", "Jo Bloggs", None, date(2027, 1, 1), date(2027, 6, 1), "active")
    assert not member.current_on(date(2026, 12, 31)) and member.current_on(date(2027, 1, 1))
    recipient = RecipientView("M1", "scheme_member", "Jo", False, None, "S", "active", date(2027, 6, 1))
    recipient = replace(recipient, registered_on=date(2027, 1, 1))
    assert not recipient.member_on(date(2026, 12, 31)) and recipient.member_on(date(2027, 1, 1))
    assert not replace(recipient, member_status="left").member_on(date(2028, 1, 1))
    assert recipient.undertaking_on(date(2027, 5, 31)) is None
    assert recipient.undertaking_on(date(2027, 6, 1)) == date(2027, 6, 1)
    organisation = RecipientView("KCC", "organisation", "KCC", False, "KCC", None, None, None)
    assert organisation.member_on(date(2000, 1, 1)) and organisation.undertaking_on(date(2000, 1, 1)) is None
