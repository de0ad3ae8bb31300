"""Synthetic nominals (people the force holds records about) for `custodes demo` — deterministic per seed."""

from __future__ import annotations

import random
from datetime import date, timedelta

from custodes.workforce.demo import AREAS, FORENAMES, SURNAMES

STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "London Road",
    "Mill Road",
    "Acacia Avenue",
    "Victoria Road",
    "Park Crescent",
    "Queens Road",
    "The Green",
    "Orchard Way",
    "Hythe Road",
)
TOWNS = {"NA": "Chatham", "EA": "Canterbury", "WE": "Maidstone", "CZ": "Ashford"}


def nominal_rows(seed: int, count: int = 400) -> list[dict[str, str]]:
    """N20001 … : name, date of birth, postcode, address; a few protected (witnesses, refuge addresses)."""
    rnd = random.Random(seed + 2)
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    rows = []
    for number in range(count):
        area = AREAS[number % len(AREAS)]
        postcode = (
            f"{rnd.choice(area.postcodes)} {rnd.randint(1, 9)}{rnd.choice(letters)}{rnd.choice(letters)}"
        )
        born = date(1950, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 55))
        rows.append(
            {
                "subject_id": f"N{20001 + number}",
                "surname": rnd.choice(SURNAMES),
                "forenames": rnd.choice(FORENAMES),
                "date_of_birth": str(born),
                "postcode": postcode,
                "lat": f"{area.lat + rnd.uniform(-0.1, 0.1):.5f}",
                "lon": f"{area.lon + rnd.uniform(-0.15, 0.15):.5f}",
                "flags": "protected" if number % 97 == 13 else "",
                "address": f"{rnd.randint(1, 180)} {rnd.choice(STREETS)}, {TOWNS[area.code]}",
            }
        )
    return rows
