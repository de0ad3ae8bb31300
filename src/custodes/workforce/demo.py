"""A realistic synthetic workforce for `custodes demo` and the benchmarks (deterministic for a seed)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from custodes.identity import service as identity
from custodes.kit.tabular import SourceRow
from custodes.workforce import service as workforce
from custodes.workforce.models import Declaration
from custodes.workforce.schemas import STAFF_COLUMNS, DeclarationForm

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
# For Configuration's "Area names": screens show the name with the code.
AREA_NAMES = "; ".join(f"{area.code} = {area.name}" for area in AREAS)
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


# The team register (`custodes import teams`): what a sergeant calls each team of the demo force.
_AREA_TEAM_NAMES = {
    "RESP": "Response Team",
    "NHP": "Neighbourhood Team",
    "CID": "CID",
    "INT": "Intelligence Unit",
    "CUST": "Custody",
}
_FORCE_TEAM_NAMES = {
    "COMMAND": "Chief Officer Team",
    "DPU": "Data Protection Unit",
    "PSD": "Professional Standards Department",
    "ANL": "Force Analysis Unit",
    "AUD": "Information Audit Team",
    "ICT": "ICT Service Desk",
}


def team_rows() -> list[dict[str, str]]:
    """Every team of the demo force (as `_Generator.build` makes them) with its name and area: "North
    Division Response Team A" (NA-RESP1), "East Division CID B", "Data Protection Unit" (HQ-DPU, force-wide,
    so no area). A team of one kind in an area has no letter."""
    rows = []
    for area in AREAS:
        rows.append(
            {"team_id": f"{area.code}-COMMAND", "name": f"{area.name} Command", "area_code": area.code}
        )
        rows.append(
            {
                "team_id": f"{area.code}-INT",
                "name": f"{area.name} Intelligence Co-ordination",
                "area_code": area.code,
            }
        )
        for kind, teams, _size in AREA_TEAMS:
            for number in range(1, teams + 1):
                letter = f" {chr(ord('A') + number - 1)}" if teams > 1 else ""
                name = f"{area.name} {_AREA_TEAM_NAMES[kind]}{letter}"
                rows.append({"team_id": f"{area.code}-{kind}{number}", "name": name, "area_code": area.code})
    for kind in ("COMMAND", *(kind for kind, _size, _role in FORCE_TEAMS)):
        rows.append({"team_id": f"HQ-{kind}", "name": _FORCE_TEAM_NAMES[kind], "area_code": ""})
    return rows


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
    groups = _ethnicity_groups(seed, len(rows))
    service = _service_records(seed, rows)
    return [
        SourceRow(
            "demo-staff.csv",
            line,
            {**{c: row[c] for c in STAFF_COLUMNS}, **extra, "ethnicity_group": group},
        )
        for line, (row, extra, group) in enumerate(zip(rows, service, groups, strict=True), start=2)
    ]


_RANKS = {"officer": "Constable", "supervisor": "Sergeant", "aic": "Inspector"}


def _service_records(seed: int, rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """Rank or grade, collar number (officers) and start date (its own random stream, as below)."""
    rnd = random.Random(seed + 13)
    collar = iter(range(1001, 10**6))
    records = []
    for row in rows:
        team = row["team_id"]
        rank = _RANKS.get(row["role"].split(";")[0], "Police staff")
        if team.endswith("-COMMAND"):
            rank = "Chief Superintendent" if team.startswith("HQ-") else "Superintendent"
        started = date(2026, 1, 1) - timedelta(days=rnd.randrange(180, 365 * 25))
        records.append(
            {
                "rank": rank,
                "collar_number": "" if rank == "Police staff" else str(next(collar)),
                "start_date": started.isoformat(),
                "leave_date": "",
            }
        )
    return records


def _ethnicity_groups(seed: int, count: int) -> list[str]:
    """A workforce mix for disparity monitoring (its own random stream: the staff rows are unchanged)."""
    rnd = random.Random(seed + 11)
    weights = {"White": 0.80, "Asian": 0.075, "Black": 0.05, "Mixed": 0.035, "Other": 0.02, "": 0.02}
    return rnd.choices(list(weights), weights=list(weights.values()), k=count)


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


# ------------------------------------------------------------- vetting at every stage, declarations

# Refusal rates for the demo's higher-level applications, by group: the disparity table has something to find.
_REFUSAL_RATES = {"White": 0.06, "Asian": 0.12, "Black": 0.22, "Mixed": 0.13, "Other": 0.09, "": 0.08}


def vetting_stages(
    staff: list[SourceRow], seed: int, today: date, keep_current: set[str]
) -> list[dict[str, str]]:
    """Vetting beyond each person's current clearance: NPPV3 decisions over five years (granted or refused,
    granted ones valid five years, so some renewals fall due), renewal applications for some of those
    expiring soon, and SC applications applied for or in progress, of every age (the backlog)."""
    rnd = random.Random(seed + 5)
    rows: list[dict[str, str]] = []
    for row in staff:
        values = row.values
        staff_id = values["staff_id"]
        if rnd.random() < 0.8:
            decided = today - timedelta(days=rnd.randrange(20, 1800))
            applied = decided - timedelta(days=rnd.randrange(20, 150))
            refused = (
                staff_id not in keep_current and rnd.random() < _REFUSAL_RATES[values["ethnicity_group"]]
            )
            expires = decided + timedelta(days=365 * 5)
            rows.append(
                {
                    "staff_id": staff_id,
                    "level": "NPPV3",
                    "status": "refused" if refused else "granted",
                    "applied_on": str(applied),
                    "decided_on": str(decided),
                    "expires_on": "" if refused else str(expires),
                }
            )
            if not refused and (expires - today).days < 90 and rnd.random() < 0.5:
                rows.append(
                    {
                        "staff_id": staff_id,
                        "level": "NPPV3",
                        "status": "applied",
                        "applied_on": str(today - timedelta(days=rnd.randrange(1, 40))),
                    }
                )
        elif rnd.random() < 0.15:
            stage = rnd.choice(["applied", "in_progress", "in_progress"])
            rows.append(
                {
                    "staff_id": staff_id,
                    "level": "SC",
                    "status": stage,
                    "applied_on": str(today - timedelta(days=rnd.randrange(3, 260))),
                }
            )
    return rows


def _person(rnd: random.Random, area_postcodes: tuple[str, ...]) -> dict[str, str]:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return {
        "surname": rnd.choice(SURNAMES),
        "forenames": rnd.choice(FORENAMES),
        "date_of_birth": str(date(1960, 1, 1) + timedelta(days=rnd.randrange(0, 365 * 45))),
        "postcode": f"{rnd.choice(area_postcodes)} {rnd.randint(1, 9)}{''.join(rnd.sample(letters, 2))}",
    }


_CONFLICTS = (
    (
        "neighbour",
        "Lives next door to me. I have reported noise and parking disputes with them to the council; "
        "I have not dealt with them as a police officer.",
    ),
    (
        "relative",
        "My cousin. We see each other at family events a few times a year. I have been asked to take "
        "a statement in a case in which they are the suspect.",
    ),
    (
        "friend",
        "A close friend from school. I have learned they are a witness in an assault I am investigating.",
    ),
    (
        "acquaintance",
        "A regular at the pub where I play darts on Thursdays; we talk most weeks. Named as the "
        "suspect in a shop theft allocated to my team.",
    ),
    (
        "ex_partner",
        "My former partner (separated 2021). We share care of our child; there is a family court "
        "order in place.",
    ),
)
_ASSOCIATIONS = (
    (
        "relative",
        "My brother-in-law, who has previous convictions for supplying drugs (2016). We meet at "
        "family occasions only.",
    ),
    (
        "neighbour",
        "I have concerns about visitors at all hours at my neighbour's house and think it may be "
        "drug dealing. I have not searched any systems; please arrange for the intelligence to be submitted.",
    ),
    (
        "friend",
        "A friend from my football club has told me he is under investigation by another force for fraud.",
    ),
)
_BUSINESS = (
    (
        "Sharp Edge Driving School Ltd",
        "Part-time driving instructor, about 6 hours a week, paid. No overlap with roads policing duties.",
    ),
    (
        "Harbour View Holiday Lets",
        "My partner and I own and let a holiday flat in Margate; income about £6,000 a year.",
    ),
    (
        "Kent Security Solutions Ltd",
        "Offered weekend work as a door supervisor at venues in the town I police.",
    ),
    ("Bright Sparks Tutoring", "Maths tutoring for GCSE students at weekends, about 4 hours a week."),
    ("Medway Fitness CIC", "Unpaid director of a community gym (community interest company)."),
)
_GIFTS = (
    (
        "Kent Business Crime Partnership",
        "Two tickets to the annual awards dinner, as thanks for a talk on shop theft",
        120,
        True,
    ),
    (
        "Local residents' association",
        "A box of chocolates and a card after a burglary investigation",
        15,
        True,
    ),
    ("Medway Motors Ltd", "Offered a free car valet after recovering a stolen vehicle", 60, False),
    ("A victim's family", "A bottle of whisky after a court case concluded", 45, False),
    ("Canterbury Cathedral Trust", "Lunch at a community safety meeting", 20, True),
    ("Fairline Taxis", "Offered 20% off all fares for officers", 200, False),
)


def load_declarations(session: Session, staff: list[SourceRow], seed: int, today: date) -> int:
    """Declarations of every kind, made on screen by people across the force and decided by their line
    managers, with some awaiting a decision — including by the demo officer (to their sergeant) and by
    people reporting to the demo supervisor, so both log-ins have something to do. `declared_at` is set
    back over the past year after each is made (the ledger entries carry today's date)."""
    rnd = random.Random(seed + 9)
    by_id = {row.values["staff_id"]: row.values for row in staff}
    first = {
        role: next(r.values for r in staff if role in r.values["role"].split(";"))
        for role in ("officer", "supervisor")
    }
    supervised = [r.values for r in staff if r.values["line_manager_id"] == first["supervisor"]["staff_id"]]
    managed = [r.values for r in staff if r.values["line_manager_id"] in by_id]
    others = rnd.sample(managed, min(70, len(managed)))
    awaiting = {first["officer"]["staff_id"], *(v["staff_id"] for v in supervised[:4])}
    plan = [(first["officer"], "conflict_of_interest"), (first["officer"], "gift_hospitality")]
    kinds = ["conflict_of_interest", "reportable_association", "business_interest", "gift_hospitality"]
    plan += [(v, kinds[n % 4]) for n, v in enumerate(supervised[:6])]
    plan += [(v, kinds[n % 4]) for n, v in enumerate(others)]
    made = 0
    for number, (person, kind) in enumerate(plan):
        area = next((a for a in AREAS if a.code == person["area_code"]), AREAS[0])
        form = _declaration_form(rnd, kind, area)
        declaration_id = workforce.make_declaration(
            session, person["staff_id"], form, actor=f"staff:{person['staff_id']}"
        )
        row = session.get(Declaration, declaration_id)
        assert row is not None
        row.declared_at = row.declared_at - timedelta(
            days=rnd.randrange(1, 20) if number < 12 else rnd.randrange(20, 360)
        )
        made += 1
        wait = (person["staff_id"] in awaiting and number < 2 + 4) or rnd.random() < 0.12
        if number == 1 or not wait:
            _decide(session, rnd, declaration_id, person["line_manager_id"], kind, today)
    session.flush()
    return made


def _declaration_form(rnd: random.Random, kind: str, area: Area) -> DeclarationForm:
    if kind in ("conflict_of_interest", "reportable_association"):
        relationship, text = rnd.choice(_CONFLICTS if kind == "conflict_of_interest" else _ASSOCIATIONS)
        return DeclarationForm(
            kind=kind, relationship=relationship, description=text, **_person(rnd, area.postcodes)
        )
    if kind == "business_interest":
        organisation, text = rnd.choice(_BUSINESS)
        return DeclarationForm(
            kind=kind, organisation=organisation, description=text, relationship="business"
        )
    giver, text, value, accepted = rnd.choice(_GIFTS)
    return DeclarationForm(
        kind=kind,
        organisation=giver,
        description=text,
        value_pounds=str(value),
        gift_accepted="accepted" if accepted else "declined",
    )


def _decide(
    session: Session, rnd: random.Random, declaration_id: str, manager_id: str, kind: str, today: date
) -> None:
    manager = identity.principal_for(session, manager_id)
    draw = rnd.random()
    review = str(today + timedelta(days=rnd.choice([12, 25, 90, 180, 365])))
    if kind == "business_interest" and draw < 0.2:
        workforce.decide_declaration(
            session,
            declaration_id,
            manager,
            outcome="rejected",
            today=today,
            reasons="Incompatible with the role: the work overlaps with the area you police "
            "(licensed premises).",
        )
    elif kind in ("conflict_of_interest", "reportable_association") and draw < 0.7:
        workforce.decide_declaration(
            session,
            declaration_id,
            manager,
            outcome="approved_with_conditions",
            review_on=review,
            today=today,
            conditions="Removed from any investigation involving this person. Do not search police "
            "systems about them: any search is referred to me.",
            reasons="Discussed with the officer; welfare support offered.",
        )
    else:
        workforce.decide_declaration(
            session, declaration_id, manager, outcome="approved", review_on=review, today=today
        )


def load_referrals(session: Session, seed: int, wanted: int = 4) -> list[int]:
    """A few pre-access gate referrals: staff asking about people they declared, through the gate itself
    (so the decisions are in the ledger), the oldest already handled by the line manager."""
    from sqlalchemy import select

    from custodes.workforce import gate
    from custodes.workforce.schemas import PERSON_DECLARATIONS

    rnd = random.Random(seed + 2002)
    query = (
        select(Declaration)
        .where(Declaration.kind.in_([k.value for k in PERSON_DECLARATIONS]))
        .order_by(Declaration.declaration_id)
    )
    index = gate.GateIndex()
    made: list[int] = []
    for declaration in session.scalars(query.limit(200)):
        if len(made) >= wanted:
            break
        body: dict[str, object] = {"staff_id": declaration.staff_id, "system": "Genesis"}
        if declaration.subject_id:
            body["subject_id"] = declaration.subject_id
        elif declaration.date_of_birth or declaration.postcode:
            body["subject"] = {
                "surname": (declaration.surname or "").upper(),
                "forenames": (declaration.forenames or "")[:1],  # an initial: the gate still matches
                "date_of_birth": declaration.date_of_birth.isoformat() if declaration.date_of_birth else None,
                "postcode": declaration.postcode,
            }
        else:
            continue
        body["purpose"] = rnd.choice(["intelligence report about a neighbour", "assault investigation"])
        result = gate.check(session, index, body, "system:demo-proxy")
        if isinstance(result, gate.GateDecision) and result.referral_id is not None:
            made.append(result.referral_id)
    if made:
        first = gate.view_referral(session, made[0], _handler(session, made[0]))
        gate.close_referral(
            session,
            first.id,
            _handler(session, made[0]),
            outcome="searched_for_requester",
            search_done="Searched local records and PNC for the person; intelligence report submitted.",
            interaction="Spoke to the officer in person about their concerns at the address.",
            advice="Keep reporting concerns to me; do not search for this person yourself.",
        )
    return made


def _handler(session: Session, referral_id: int) -> str:
    from custodes.workforce.models import Referral

    row = session.get(Referral, referral_id)
    assert row is not None
    return row.manager_id or "S0001"
