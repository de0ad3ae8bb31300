"""A realistic synthetic workforce for `custodes demo` and the benchmarks (deterministic for a seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from custodes.kit.tabular import SourceRow
from custodes.workforce.schemas import STAFF_COLUMNS

SURNAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
    "Simpson",
    "Price",
    "Anderson",
    "Adams",
    "Wilkinson",
    "Ali",
    "Ahmed",
    "Foster",
    "Ellis",
    "Murphy",
    "Chapman",
    "Mason",
    "Gray",
    "Richards",
    "Webb",
    "Griffiths",
    "Hunt",
    "Palmer",
    "Campbell",
    "Holmes",
    "Mills",
    "Rogers",
    "Barnes",
    "Knight",
    "Matthews",
    "Barker",
    "Powell",
    "Stevens",
    "Kaur",
    "Fisher",
    "Okafor",
    "Mensah",
]
FORENAMES = [
    "Oliver",
    "Amelia",
    "George",
    "Olivia",
    "Harry",
    "Isla",
    "Jack",
    "Ava",
    "Jacob",
    "Emily",
    "Charlie",
    "Sophie",
    "Thomas",
    "Grace",
    "Oscar",
    "Mia",
    "William",
    "Poppy",
    "James",
    "Ella",
    "Daniel",
    "Lily",
    "Samuel",
    "Evie",
    "Joseph",
    "Chloe",
    "Mohammed",
    "Jessica",
    "Alfie",
    "Freya",
    "Joshua",
    "Ruby",
    "Ethan",
    "Daisy",
    "Leo",
    "Lucy",
    "Adam",
    "Hannah",
    "Ryan",
    "Holly",
    "Lewis",
    "Zara",
    "Aaron",
    "Priya",
    "Kieran",
    "Megan",
    "Callum",
    "Niamh",
    "David",
    "Sarah",
    "Mark",
    "Claire",
    "Paul",
    "Rachel",
    "Stephen",
    "Helen",
    "Andrew",
    "Nicola",
    "Richard",
    "Emma",
    "Christopher",
    "Laura",
    "Michael",
    "Kate",
    "Simon",
    "Joanne",
    "Gareth",
    "Aisha",
    "Tunde",
    "Kwame",
]


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    postcodes: tuple[str, ...]
    lat: float
    lon: float


AREAS = (
    Area(
        "NA", "North Division", ("ME1", "ME2", "ME4", "ME5", "ME7", "ME8", "DA1", "DA11", "DA12"), 51.39, 0.53
    ),
    Area("EA", "East Division", ("CT1", "CT2", "CT9", "CT10", "CT11", "CT16", "CT19", "CT20"), 51.28, 1.08),
    Area(
        "WE",
        "West Division",
        ("TN1", "TN2", "TN4", "TN9", "TN10", "TN13", "ME14", "ME15", "ME16"),
        51.20,
        0.35,
    ),
    Area("CZ", "Central Zone", ("ME10", "ME12", "ME13", "TN23", "TN24", "TN25", "CT3", "CT6"), 51.24, 0.80),
)
# Team kinds per area, with head counts; force-wide units follow.
AREA_TEAMS = (("RESP", 5, 14), ("NHP", 3, 10), ("CID", 2, 10), ("INT", 1, 8), ("CUST", 1, 8))
FORCE_TEAMS = (
    ("DPU", 8, "dpu"),
    ("PSD", 8, "ccu"),
    ("ANL", 6, "analyst"),
    ("AUD", 3, "auditor"),
    ("ICT", 4, "admin"),
)
STAFF_KINDS = {
    "INT": "staff",
    "CUST": "staff",
    "DPU": "staff",
    "ANL": "staff",
    "AUD": "staff",
    "ICT": "staff",
}


class _Generator:
    def __init__(self, seed: int, target: int) -> None:
        self.random = random.Random(seed)
        self.target = target
        self.rows: list[dict[str, str]] = []
        self.next_number = 10001

    def person(self, role: str, team: str, area: Area, manager: str | None) -> str:
        staff_id = f"S{self.next_number}"
        self.next_number += 1
        rnd = self.random
        born = date(1962, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 40))
        outward = rnd.choice(area.postcodes)
        letters = "ABDEFGHJLNPQRSTUWXYZ"
        postcode = f"{outward} {rnd.randint(1, 9)}{rnd.choice(letters)}{rnd.choice(letters)}"
        self.rows.append(
            {
                "staff_id": staff_id,
                "surname": rnd.choice(SURNAMES),
                "forenames": rnd.choice(FORENAMES),
                "date_of_birth": born.isoformat(),
                "role": role,
                "team_id": team,
                "area_code": area.code,
                "line_manager_id": manager or "",
                "home_postcode": postcode,
                "home_lat": f"{area.lat + rnd.uniform(-0.12, 0.12):.5f}",
                "home_lon": f"{area.lon + rnd.uniform(-0.2, 0.2):.5f}",
            }
        )
        return staff_id

    def build(self) -> list[dict[str, str]]:
        headquarters = AREAS[3]
        chief = self.person("supervisor", "HQ-COMMAND", headquarters, None)
        units = self._scale()
        for area in AREAS:
            commander = self.person("supervisor", f"{area.code}-COMMAND", area, chief)
            self.person("aic", f"{area.code}-INT", area, commander)  # the Area Intelligence Co-ordinator
            for kind, teams, size in AREA_TEAMS:
                for number in range(1, teams + 1):
                    self._team(
                        f"{area.code}-{kind}{number}",
                        STAFF_KINDS.get(kind, "officer"),
                        area,
                        commander,
                        round(size * units),
                    )
        for kind, size, role in FORCE_TEAMS:
            self._team(f"HQ-{kind}", role, headquarters, chief, size, every_member_role=True)
        return self.rows

    def _scale(self) -> float:
        area_heads = sum(teams * (size + 1) for _, teams, size in AREA_TEAMS) * len(AREAS)
        return max(0.2, (self.target - 60) / max(area_heads, 1))

    def _team(
        self, team: str, role: str, area: Area, manager: str, size: int, every_member_role: bool = False
    ) -> None:
        # In a specialist unit (DPU, PSD, …) the sergeant holds the unit's role as well as supervising.
        sergeant = self.person(
            f"supervisor;{role}" if every_member_role else "supervisor", team, area, manager
        )
        for _ in range(max(1, size)):
            self.person(role, team, area, sergeant)


def staff_rows(seed: int = 2026, count: int = 3000) -> list[SourceRow]:
    """About `count` staff in four areas (response, neighbourhood, CID, intelligence, custody) and HQ."""
    rows = _Generator(seed, count).build()
    return [
        SourceRow("demo-staff.csv", line, {c: row[c] for c in STAFF_COLUMNS})
        for line, row in enumerate(rows, start=2)
    ]


# --------------------------------------------------------------------------- training and vetting

COURSES = (
    {
        "course_code": "DP-INIT",
        "title": "Data protection: initial",
        "mandatory_for": "",
        "validity_months": "",
        "gates": "system_access",
    },
    {
        "course_code": "MI",
        "title": "Managing Information",
        "mandatory_for": "officer;staff;supervisor;aic;dpu",
        "validity_months": "36",
        "gates": "disclosure",
    },
    {
        "course_code": "DP-REFRESH",
        "title": "Data protection: annual refresher",
        "mandatory_for": "",
        "validity_months": "12",
        "gates": "",
    },
)


def training_and_vetting(
    staff: list[SourceRow], seed: int, today: date, keep_current: set[str]
) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """Completions and vetting for every member of staff: most current, a few lapsed, as in any force.

    `keep_current`: staff who must be trained and vetted (the demo log-ins).
    """
    rnd = random.Random(seed + 1)
    training: list[dict[str, str]] = []
    vetting: list[dict[str, str]] = []
    for row in staff:
        staff_id = row.values["staff_id"]
        lapsed = staff_id not in keep_current and rnd.random() < 0.04
        joined = today - timedelta(days=rnd.randrange(400, 6000))
        training.append({"staff_id": staff_id, "course_code": "DP-INIT", "completed_on": str(joined)})
        months_ago = rnd.randrange(38, 50) if lapsed else rnd.randrange(1, 30)
        training.append(
            {
                "staff_id": staff_id,
                "course_code": "MI",
                "completed_on": str(today - timedelta(days=months_ago * 30)),
            }
        )
        training.append(
            {
                "staff_id": staff_id,
                "course_code": "DP-REFRESH",
                "completed_on": str(today - timedelta(days=rnd.randrange(10, 420))),
            }
        )
        decided = today - timedelta(days=rnd.randrange(300, 3000))
        expires = (
            today - timedelta(days=rnd.randrange(5, 200)) if lapsed else decided + timedelta(days=365 * 10)
        )
        if expires <= today and not lapsed:
            expires = today + timedelta(days=rnd.randrange(30, 900))
        vetting.append(
            {
                "staff_id": staff_id,
                "level": "MV" if "supervisor" in row.values["role"] or "ccu" in row.values["role"] else "RV",
                "status": "granted",
                "decided_on": str(decided),
                "expires_on": str(expires),
            }
        )
    return training, vetting
