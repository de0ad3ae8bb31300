"""Who keeps a scheme register (K10 7.1–7.2): an AIC of the scheme's area, or the DPU; the scheme's area and
recognition are the DPU's alone. Otherwise an AIC could move a scheme into their own area (or recognise it)
and then authorise its disclosures, since AUTHORISER_NOT_PERMITTED compares areas."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from custodes.agreements import service as agreements
from custodes.agreements.models import Scheme
from custodes.disclosure import service as disclosure
from tests.disclosure.world import TODAY, make_world, principal, scheme_request

AREA_AIC, OTHER_AIC, DPU = principal("S1002"), principal("S1005"), principal("S1004")  # CZ, NA, HQ
SCHEME = {
    "scheme_id": "SCH-01",
    "name": "Maidstone ShopWatch",
    "area_code": "CZ",
    "recognised": "true",
    "manager_name": "Pat Manager",
    "manager_vetted_until": "2999-12-31",
}
MEMBER = {
    "member_id": "M-0009",
    "name": "Late Shop",
    "org_id": "",
    "registered_on": "2024-01-10",
    "undertaking_signed_on": "",
    "status": "active",
}


@pytest.fixture
def world(db: Session) -> Session:
    make_world(db)
    return db


def _scheme(db: Session) -> tuple[str | None, bool, str]:
    found = agreements.get_scheme(db, "SCH-01")
    assert found is not None
    return found.area_code, found.recognised, found.name


def test_an_aic_cannot_move_another_areas_scheme_into_their_own_and_authorise_it(world: Session) -> None:
    """The reviewer's case: the AIC of NA moves CZ's scheme to NA, then authorises its disclosures."""
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.update_scheme(world, "SCH-01", {**SCHEME, "area_code": "NA"}, "staff:S1005", by=OTHER_AIC)
    assert refused.value.problems == [
        (
            "scheme_id",
            "only the Area Intelligence Co-ordinator for area CZ or the Data Protection Unit may change "
            "scheme SCH-01 or its members",
        )
    ]
    assert _scheme(world) == ("CZ", True, "Maidstone ShopWatch")
    request = scheme_request(authorisation={"by": "S1005", "at": f"{TODAY}T10:00:00+00:00"})
    result = disclosure.check(world, request, actor="system:test")
    assert "AUTHORISER_NOT_PERMITTED" in result.codes()
    # Nor may they mark it unrecognised or recognised, or change anything else of it.
    for change in ({"recognised": "false"}, {"name": "Renamed"}):
        with pytest.raises(agreements.AgreementsError):
            agreements.update_scheme(world, "SCH-01", {**SCHEME, **change}, "staff:S1005", by=OTHER_AIC)
    assert not agreements.may_change_scheme(world, OTHER_AIC, agreements.get_scheme(world, "SCH-01"))  # type: ignore[arg-type]


def test_the_areas_aic_changes_name_and_manager_but_not_area_or_recognition(world: Session) -> None:
    assert agreements.update_scheme(
        world, "SCH-01", {**SCHEME, "name": "Maidstone Town ShopWatch"}, "staff:S1002", by=AREA_AIC
    )
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.update_scheme(
            world, "SCH-01", {**SCHEME, "area_code": "NA", "recognised": "false"}, "staff:S1002", by=AREA_AIC
        )
    assert refused.value.problems == [
        ("area_code", "only the Data Protection Unit may move a scheme to another area"),
        ("recognised", "only the Data Protection Unit may change whether a scheme is recognised"),
    ]
    assert _scheme(world) == ("CZ", True, "Maidstone Town ShopWatch")


def test_the_dpu_moves_and_recognises_schemes(world: Session) -> None:
    assert agreements.update_scheme(world, "SCH-01", {**SCHEME, "recognised": "false"}, "staff:S1004", by=DPU)
    assert agreements.update_scheme(world, "SCH-01", {**SCHEME, "area_code": "NA"}, "staff:S1004", by=DPU)
    assert _scheme(world) == ("NA", True, "Maidstone ShopWatch")
    # Now NA's AIC keeps it, and CZ's no longer does.
    assert agreements.update_scheme(
        world, "SCH-01", {**SCHEME, "area_code": "NA", "name": "N"}, "staff:S1005", by=OTHER_AIC
    )
    with pytest.raises(agreements.AgreementsError, match="area NA"):
        agreements.update_scheme(world, "SCH-01", {**SCHEME, "area_code": "NA"}, "staff:S1002", by=AREA_AIC)


def test_members_are_kept_by_the_areas_aic_or_the_dpu(world: Session) -> None:
    signed = TODAY - timedelta(days=1)
    with pytest.raises(agreements.AgreementsError, match="area CZ"):
        agreements.create_member(world, "SCH-01", MEMBER, "staff:S1005", by=OTHER_AIC)
    agreements.create_member(world, "SCH-01", MEMBER, "staff:S1002", by=AREA_AIC)
    changed = {**MEMBER, "name": "Later Shop"}
    with pytest.raises(agreements.AgreementsError, match="area CZ"):
        agreements.update_member(world, "SCH-01", "M-0009", changed, "staff:S1005", by=OTHER_AIC)
    with pytest.raises(agreements.AgreementsError, match="area CZ"):
        agreements.record_undertaking(world, "SCH-01", "M-0009", signed, "staff:S1005", by=OTHER_AIC)
    member = agreements.scheme_member(world, "SCH-01", "M-0009")
    assert member is not None and member.name == "Late Shop" and member.undertaking_signed_on is None
    assert agreements.update_member(world, "SCH-01", "M-0009", changed, "staff:S1002", by=AREA_AIC)
    agreements.record_undertaking(world, "SCH-01", "M-0009", signed, "staff:S1004", by=DPU)
    member = agreements.scheme_member(world, "SCH-01", "M-0009")
    assert member is not None and member.name == "Later Shop" and member.undertaking_signed_on == signed


def test_an_aic_adds_schemes_in_their_own_area_for_the_dpu_to_recognise(world: Session) -> None:
    new = {**SCHEME, "scheme_id": "SCH-02", "name": "Northern PubWatch", "area_code": "NA"}
    with pytest.raises(agreements.AgreementsError) as refused:
        agreements.create_scheme(world, new, "staff:S1002", by=AREA_AIC)
    assert refused.value.problems == [
        ("area_code", "you may add schemes in your own area (CZ) only"),
        (
            "recognised",
            "only the Data Protection Unit may mark a scheme recognised: add it unrecognised and ask them to "
            "recognise it",
        ),
    ]
    agreements.create_scheme(world, {**new, "recognised": "false"}, "staff:S1005", by=OTHER_AIC)
    agreements.update_scheme(world, "SCH-02", new, "staff:S1004", by=DPU)
    found = agreements.get_scheme(world, "SCH-02")
    assert found is not None and found.recognised and found.area_code == "NA"


def test_a_move_by_the_dpu_meanwhile_is_seen(committing_sessions: sessionmaker[Session]) -> None:
    """CZ's AIC opened the scheme's page before the DPU moved it to NA: their change is then refused."""
    factory = committing_sessions
    with factory() as setup:
        make_world(setup)
        setup.commit()
    with factory() as aic:
        held = aic.get(Scheme, "SCH-01")
        assert held is not None and held.area_code == "CZ"
        aic.commit()
        with factory() as dpu:
            agreements.update_scheme(dpu, "SCH-01", {**SCHEME, "area_code": "NA"}, "staff:S1004", by=DPU)
            dpu.commit()
        with pytest.raises(agreements.AgreementsError, match="area NA"):
            agreements.create_member(aic, "SCH-01", MEMBER, "staff:S1002", by=AREA_AIC)
        with pytest.raises(agreements.AgreementsError, match="area NA"):
            agreements.update_scheme(aic, "SCH-01", {**SCHEME, "name": "X"}, "staff:S1002", by=AREA_AIC)
        aic.rollback()


def test_imports_are_not_restricted(world: Session) -> None:
    """`by` None: the CLI and imports, run by the operator, may change any scheme."""
    assert agreements.update_scheme(world, "SCH-01", {**SCHEME, "area_code": "NA"}, "system:import")
    assert _scheme(world)[0] == "NA"
