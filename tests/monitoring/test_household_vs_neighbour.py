"""With neighbour_distance_m set below household_distance_m (both free settings; e.g. 50 m in a dense
city, household left at 100 m), a same-surname person 80 m from the searcher's home in another postcode
is RELATIVE_OR_HOUSEHOLD by monitoring.md. pair_rules' WHERE used to drop the pair (it filtered on the
neighbour distance only), so nothing at all was raised; it now keeps pairs within the larger of the two."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.identity.schemas import Principal
from custodes.imports import load_records
from custodes.monitoring import service as monitoring
from custodes.monitoring.schemas import Rule
from custodes.settings import Settings
from tests.monitoring.world import ACTOR, event, ingest, load_world


def test_household_beyond_neighbour_distance(db: Session, settings: Settings, tmp_path: Path) -> None:
    load_world(db)
    load_records(
        db,
        "nominals",
        [
            {
                "subject_id": "N-REL80",
                "surname": "Smith",
                "forenames": "Wendy",
                "date_of_birth": "",
                "postcode": "ME14 9ZZ",
                "lat": "51.27072",
                "lon": "0.5200",
                "flags": "",
            }
        ],
        ACTOR,
    )
    admin = Principal(staff_id="S3", display_name="Admin", roles=frozenset())
    identity.set_config(db, "neighbour_distance_m", "50", admin)
    folder = tmp_path / "in"
    folder.mkdir()
    ingest(db, settings, folder, [event("e1", "N-REL80")])
    alerts, _ = monitoring.find_alerts(db, settings)
    explained = monitoring.explain(db, settings, "e1", "system:test")
    print([a.as_json() for a in alerts], explained)
    assert alerts and Rule.RELATIVE_OR_HOUSEHOLD in alerts[0].rules
