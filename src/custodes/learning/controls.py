"""The controls of Custodes a recommendation can be linked to: stable codes, each with where it lives.

Four families (docs/learning.md):
- the disclosure checks, read from `disclosure.rules.FINDINGS` (never copied, so a new check is linkable);
- the pre-access gate's reason codes (workforce.md);
- the misuse detectors of the access monitoring (monitoring.md);
- features that are controls in themselves (the ledger, the registers, the published reports).

`DECLARED_CONFLICT` and `SELF` are both a gate reason and a detector: one condition, two places, so one
entry. A code is an upper-case word; a link to a code not in the catalogue is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from custodes.disclosure.rules import FINDINGS


@dataclass(frozen=True, slots=True)
class Control:
    code: str
    title: str
    family: str  # one of FAMILIES
    where: str  # the screen where the control is seen at work (a path of the web app)
    source: str = ""  # the law, policy or recommendation it answers, in words


FAMILIES = {
    "disclosure": "Disclosure check",
    "gate": "Pre-access gate",
    "gate_detector": "Pre-access gate and misuse detector",
    "detector": "Misuse detector",
    "feature": "Feature",
}
DISCLOSURE_CHECKS = "/disclosures/findings"
MONITORING = "/monitoring/alerts"
REFERRALS = "/referrals"  # where a refer decision of the gate is handled by the line manager

# The instruments the controls answer, in words.
KENT = "IOPC, Kent 2023"
DURHAM = "IOPC, Durham 2024"
HERTS = "IOPC, Hertfordshire 2023"
PEEL = "HMICFRS PEEL 2018, Kent"


_GATE = (
    Control("LEFT_FORCE", "The member of staff has left the force (staff register)", "gate", "/audit"),
    Control("NOT_TRAINED", "A course that gates system access is missing or expired", "gate", "/training"),
    Control("NOT_VETTED", "No current vetting at the level the system needs", "gate", "/vetting"),
    Control("NO_PURPOSE", "No purpose and no case reference given where required", "gate", "/audit"),
    Control(
        "DECLARED_CONFLICT",
        "The subject matches a declared conflict or association: the search is referred to the line "
        "manager, and any access is raised as an alert",
        "gate_detector",
        REFERRALS,
        "IOPC, Hertfordshire 2023; BCH policy 2.2.7–2.2.12",
    ),
    Control("SELF", "The subject is the member of staff searching", "gate_detector", REFERRALS, HERTS),
)
_DETECTORS = (
    Control(
        "RELATIVE_OR_HOUSEHOLD",
        "Same surname and address, or a declared relative or partner",
        "detector",
        MONITORING,
    ),
    Control("NEIGHBOUR", "The subject lives close to the searcher's home", "detector", MONITORING, HERTS),
    Control("COLLEAGUE", "The subject is another member of the workforce", "detector", MONITORING),
    Control("PUBLIC_FIGURE", "The subject is flagged as a public figure", "detector", MONITORING),
    Control(
        "UNEXPLAINED",
        "No case or task of the searcher or their team explains the access",
        "detector",
        MONITORING,
        PEEL,
    ),
    Control("CASE_MISMATCH", "The case reference cited does not explain the access", "detector", MONITORING),
    Control(
        "REPEATED_INTEREST",
        "Unexplained accesses to one subject on 3 or more days in 30",
        "detector",
        MONITORING,
    ),
    Control(
        "VOLUME_ANOMALY",
        "A day's searches far above the searcher's and peers' baseline",
        "detector",
        MONITORING,
    ),
    Control("OFF_DUTY", "Access outside any rostered duty period", "detector", MONITORING),
)
_FEATURES = (
    Control(
        "LEDGER",
        "Tamper-evident audit trail of every access, change and disclosure, with signed checkpoints",
        "feature",
        "/audit",
        "DPA 2018 s.62; IOPC, Kent 2023",
    ),
    Control(
        "ACCESS_MONITORING",
        "Every force system's access log ingested and each access explained by the work behind it",
        "feature",
        MONITORING,
        PEEL,
    ),
    Control(
        "CORRECTIONS_CASCADE",
        "A fact found wrong is traced to every recipient, who is sent a correction notice",
        "feature",
        "/corrections",
        KENT,
    ),
    Control(
        "AGREEMENT_REGISTER",
        "Information sharing agreements and repeat-sharing forms, with their status and review dates",
        "feature",
        "/agreements",
        f"{KENT}; {DURHAM}",
    ),
    Control(
        "PARTNER_REGISTER",
        "Partner organisations, their competent-authority status and secure delivery channel",
        "feature",
        "/partners",
        f"{KENT}; {HERTS}; BCH policy 2.2.15",
    ),
    Control(
        "TRAINING_COMPLIANCE",
        "Mandatory training (e.g. Managing Information) recorded, monitored and enforced at disclosure",
        "feature",
        "/training",
        DURHAM,
    ),
    Control(
        "DECLARATION_REGISTERS",
        "Written declarations of conflicts, associations, business interests, gifts and hospitality",
        "feature",
        "/declarations/register",
        f"{HERTS}; {PEEL}",
    ),
    Control(
        "VETTING_BRING_FORWARD",
        "Vetting renewals due soon and the backlog by age and stage",
        "feature",
        "/vetting",
        PEEL,
    ),
    Control(
        "VETTING_DISPARITY",
        "Vetting refusal rates by group against the reference group, with confidence intervals",
        "feature",
        "/vetting",
        PEEL,
    ),
    Control(
        "STOPSEARCH_REPORT",
        "Stop-and-search disparity and find-rate analysis by ethnicity and search type, for publication",
        "feature",
        "/stopsearch",
        PEEL,
    ),
    Control(
        "STOPSEARCH_GROUNDS_SAMPLE",
        "Supervisory sampling of the reasonable grounds recorded on stop-and-search records",
        "feature",
        "/stopsearch",
        PEEL,
    ),
)


def _catalogue() -> dict[str, Control]:
    controls = [
        Control(
            code,
            rule.summary[:1].upper() + rule.summary[1:],
            "disclosure",
            DISCLOSURE_CHECKS,
            rule.policy,
        )
        for code, rule in FINDINGS.items()
    ]
    found: dict[str, Control] = {}
    for control in [*controls, *_GATE, *_DETECTORS, *_FEATURES]:
        if control.code in found:  # pragma: no cover - a programming error, caught by the tests
            raise RuntimeError(f"control code {control.code} is defined twice")
        found[control.code] = control
    return found


CONTROLS: MappingProxyType[str, Control] = MappingProxyType(_catalogue())


def unknown_controls(codes: list[str] | tuple[str, ...]) -> list[str]:
    return [code for code in codes if code not in CONTROLS]
