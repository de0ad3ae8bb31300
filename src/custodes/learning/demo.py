"""The demo's learning register: the three IOPC recommendations and the PEEL 2018 findings of the seeds.

Texts are the seeds' own words (shortened where marked …); the force's reasons and responses are as the
seeds give them. The seeds give a month (IOPC) or an inspection year (PEEL 2018): the dates are the first
of that month, and for PEEL 2018 the publication year's first day. Actions and owners are the demo force's
own, drawn from the demo log-ins, with due dates around today so the register has done, open and overdue
actions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from custodes.learning import service as learning

KENT_2023 = {
    "source_kind": "IOPC",
    "source_reference": "IOPC learning recommendation to Kent Police, June 2023",
    "issued_on": "2023-06-01",
    "title": "Policy or SOP for relaying information to Probation Services",
    "text": (
        "The IOPC recommends that the force creates a Policy or Standard Operating Procedure (SOP) in "
        "respect of the relaying of information to Probation Services by officers or police staff. It is "
        "anticipated that this would ensure clarity as to an officer’s responsibilities and accountabilities "
        "in the course of carrying out this duty, particularly with regard to any fact-checking or "
        "evidential "
        "audit trail requirements. It is also hoped that such a Policy / SOP would assist in identifying "
        "where "
        "something has gone wrong.\n"
        "Information was obtained from a number of police sources, some of which was potentially verbally "
        "during a handover or briefing. The force found that certain facts should have been checked or "
        "clarified. … an officer's obligations for elements such as fact-checking and recording an "
        "evidential audit trail are unclear."
    ),
    "accepted": "no",
    "reason": (
        "The Probation Service are designated as Competent Authority under the Data Protection Act 2018 when "
        "acting in pursuance of arrangements made under section 3(2) of the Offender Management Act 2007. "
        "Under Pt.3(1), (31) & (35) it is lawful to process personal information when it is necessary for "
        "the "
        "performance of a task carried out by a competent authority for a law enforcement purpose. This "
        "includes sharing information with another competent authority.\n"
        "When sharing data with other organisations which are not competent authorities the Kent and Medway "
        "Information Sharing Agreement (KMISA) outlines data protection expectations. The KMISA is a broad, "
        "overarching agreement that is complemented by a repeat sharing form to address regular and ongoing "
        "sharing.\n"
        "The force already has a comprehensive Data Protection policy in place (Force Policy W1011) which "
        "covers the processing of personal data … includes ensuring the accuracy of data.\n"
        "The force also undertakes regular data protection training with all officers and staff including "
        "initial data protection training before systems access is granted, and mandatory annual refresher "
        "training … as well as the requirement for auditable records of information sharing to be kept along "
        "with a clear rationale for disclosure.\n"
        "As such the force does not consider that further policy or standard operating procedures are "
        "necessary to address this recommendation."
    ),
    "status": "closed",
    "evidence": (
        "Not accepted as a new policy. The points it raises are answered in Custodes: every relayed fact "
        "carries its source and is verified against a record before release, the rationale and lawful basis "
        "are recorded, and the ledger is the evidential audit trail that shows where something went wrong."
    ),
    "controls": (
        ""
        "FACT_UNSOURCED;FACT_UNVERIFIED;RATIONALE_MISSING;RECIPIENT_NOT_COMPETENT_AUTHORITY;AGREEMENT_MISSING;"
        "LEDGER;CORRECTIONS_CASCADE"
    ),
}
DURHAM_2024 = {
    "source_kind": "IOPC",
    "source_reference": "IOPC learning recommendation to Durham Constabulary, July 2024",
    "issued_on": "2024-07-01",
    "title": "Review how personal and sensitive information is shared; staff trained in the powers used",
    "text": (
        "The IOPC recommends that Durham Constabulary should conduct a review into the way it shares "
        "people's "
        "personal and sensitive information with a view to ensuring relevant staff are appropriately trained "
        "and understand the powers they are using, and that processes comply with legislation and ICO "
        "expectations.\n"
        "The officers who shared the information were not familiar with the legislation or powers that "
        "govern "
        "information sharing, or the expectations of the Information Commissioner's Office (ICO) when such "
        "information is shared (for example: documenting the rationale for sharing)."
    ),
    "accepted": "yes",
    "reason": (
        "The force has disseminated the College of Policing Operational and Non-Operational “Managing "
        "Information” to all relevant officers and compliance is monitored. … The upcoming October 2024 "
        "“Managing Information” course includes information sharing both under an ISA / MOU or without one, "
        "for one-off sharing.\n"
        "Staff will be updated on the details of the new College of Policing course ahead of its launch in "
        "October 2024 and compliance of this course will be monitored.\n"
        "At the time of the disclosure in 2022, neither of the officers identified within the complaint had "
        "completed the required mandatory College of Policing “Management of Information” training."
    ),
    "status": "in_progress",
    "evidence": "",
    "controls": (
        "DISCLOSER_TRAINING_EXPIRED;LAWFUL_BASIS_MISSING;RATIONALE_MISSING;AGREEMENT_MISSING;"
        "AGREEMENT_NOT_IN_FORCE;TRAINING_COMPLIANCE;AGREEMENT_REGISTER"
    ),
}
HERTS_2023 = {
    "source_kind": "IOPC",
    "source_reference": "IOPC learning recommendation to Hertfordshire Constabulary, March 2023",
    "issued_on": "2023-03-01",
    "title": "Conflict of interest policy covering neighbours and acquaintances",
    "text": (
        "The IOPC recommends that Hertfordshire Constabulary develop and implement a general conflict of "
        "interest policy which covers potential scenarios which could arise between police officers and "
        "their "
        "neighbours and/or acquaintances.\n"
        "A police officer researched police systems for information on his neighbour and her partner prior "
        "to "
        "submitting an intel report on them. It would have been appropriate for the officer to have raised "
        "any "
        "concerns held about his neighbours to a line manager so that the line manager could have undertaken "
        "any relevant searches on police systems."
    ),
    "accepted": "yes",
    "reason": (
        "Accepted; included in the existing policy, now live and extended to Bedfordshire and Cambridgeshire "
        "as part of BCH Policy: no access for personal knowledge (browsing) (2.2.2); conflicts disclosed in "
        "writing to a supervisor (2.2.6); no searching where there is a clear conflict of interest — the "
        "line "
        "manager searches and records the interaction and advice (2.2.7, 2.2.11–2.2.12); disclosures "
        "securely "
        "transmitted to the correct destination (2.2.15)."
    ),
    "status": "done",
    "evidence": (
        "Declarations of conflicts are made in writing to the supervisor in Custodes; the pre-access gate "
        "refers a search about a declared conflict to the line manager, and the misuse detectors raise "
        "searches about neighbours and declared conflicts."
    ),
    "controls": (
        "DISCLOSER_CONFLICT;DECLARED_CONFLICT;SELF;NEIGHBOUR;RELATIVE_OR_HOUSEHOLD;DECLARATION_REGISTERS;"
        "PARTNER_REGISTER"
    ),
}
PEEL_STOPSEARCH = {
    "source_kind": "HMICFRS",
    "source_reference": ("HMICFRS PEEL 2018, Kent Police, legitimacy: 2017 stop and search recommendation"),
    "issued_on": "2019-01-01",
    "title": "Monitor, analyse and publish stop and search disparities and the action taken",
    "text": (
        "In our 2017 legitimacy report, we recommended that all forces should: monitor and analyse "
        "comprehensive stop and search data to understand reasons for disparities; take action on those; and "
        "publish the analysis and the action by July 2018.\n"
        "We found that the force has complied with some of this recommendation. But it doesn’t identify the "
        "extent to which find rates differ between people from different ethnicities and between different "
        "types of searches (including separate identification of find rates for drug possession and "
        "supply-type offences). … We reviewed the force’s website and were unable to find analysis it had "
        "carried out to understand reasons for disparities or an explanation of subsequent action taken.\n"
        "We reviewed a representative sample of 103 stop and search records … 80 percent had reasonable "
        "grounds recorded."
    ),
    "accepted": "partly",
    "reason": "HMICFRS found the force had complied with some of this recommendation (PEEL 2018).",
    "status": "in_progress",
    "evidence": "",
    "controls": "STOPSEARCH_REPORT;STOPSEARCH_GROUNDS_SAMPLE",
}
PEEL_CORRUPTION = {
    "source_kind": "HMICFRS",
    "source_reference": "HMICFRS PEEL 2018, Kent Police, legitimacy: area for improvement",
    "issued_on": "2019-01-01",
    "title": "Counter-corruption capacity, and monitoring of all computer systems for misuse",
    "text": (
        "The force should ensure its counter corruption unit:\n"
        "- has sufficient capability and capacity to be effective in its proactive approach to counter "
        "corruption; and\n"
        "- can fully monitor all of its computer systems, including mobile data, to proactively identify "
        "data "
        "breaches, protect the force’s data and identify computer misuse.\n"
        "Because of limited capacity the counter-corruption investigation unit (CCIU) can’t address all the "
        "strands within it. For example, the force doesn’t use the information that it holds on its "
        "workforce, "
        "such as who individuals associate with, that might identify those who may become a corruption risk."
    ),
    "accepted": "yes",
    "reason": "",
    "status": "in_progress",
    "evidence": "",
    "controls": (
        "ACCESS_MONITORING;UNEXPLAINED;REPEATED_INTEREST;VOLUME_ANOMALY;NEIGHBOUR;DECLARED_CONFLICT;"
        "DECLARATION_REGISTERS;LEDGER"
    ),
}
PEEL_VULNERABLE = {
    "source_kind": "HMICFRS",
    "source_reference": "HMICFRS PEEL 2018, Kent Police, legitimacy: area for improvement",
    "issued_on": "2019-01-01",
    "title": "Relationships with groups and organisations that support vulnerable people",
    "text": (
        "The force should ensure it builds effective relationships with the groups and organisations that "
        "support and work with vulnerable persons.\n"
        "This work aims to create relationships with groups and organisations that work with vulnerable "
        "people, so that the force can gather any potential intelligence related to officers abusing their "
        "position for a sexual purpose."
    ),
    "accepted": "yes",
    "reason": "",
    "status": "open",
    "evidence": "",
    "controls": "",  # outside what Custodes does: no control answers it
}


def load(session: Session, owners: dict[str, str], actor: str, *, today: date | None = None) -> list[int]:
    """The example records, with actions owned by the demo log-ins (`owners`: role → staff id)."""
    day = today or date.today()

    def due(days: int) -> str:
        return (day + timedelta(days=days)).isoformat()

    def add(values: dict[str, Any], actions: list[tuple[str, str, int, str | None]]) -> int:
        """`actions`: (text, owner role, due in days, evidence if done) — the record's status is set last."""
        final = {key: values[key] for key in ("status", "evidence")}
        rec = learning.create_recommendation(
            session, {**values, "status": "open", "evidence": ""}, actor, on=day
        )
        for text, role, days, evidence in actions:
            action = learning.add_action(
                session, rec, {"text": text, "owner_staff_id": owners[role], "due_on": due(days)}, actor
            )
            if evidence is not None:
                done_on = min(day, day + timedelta(days=days))
                learning.complete_action(
                    session,
                    action,
                    {"completed_on": done_on.isoformat(), "evidence": evidence},
                    actor,
                    on=day,
                )
        if final["status"] != "open":
            learning.update_recommendation(session, rec, {**values, **final}, actor, on=day)
        return rec

    return [
        add(
            KENT_2023,
            [
                (
                    "Map the recommendation's points (fact-checking, audit trail, rationale) to the "
                    "disclosure "
                    "checks and confirm each is enforced before release",
                    "dpu",
                    -200,
                    "FACT_UNSOURCED, FACT_UNVERIFIED and RATIONALE_MISSING are checked at every step; the "
                    "ledger records each disclosure.",
                ),
            ],
        ),
        add(
            DURHAM_2024,
            [
                (
                    "Recirculate the data-sharing guidance to all staff (All-Circular email)",
                    "dpu",
                    -300,
                    "Sent to all staff; receipt recorded.",
                ),
                (
                    "Enforce current Managing Information training before any disclosure",
                    "dpu",
                    -120,
                    "The MI course gates disclosure: DISCLOSER_TRAINING_EXPIRED blocks it.",
                ),
                (
                    "Review one-off shares of the last 12 months for a recorded rationale and lawful basis",
                    "supervisor",
                    -14,
                    None,
                ),
                ("Report Managing Information compliance by team to the information board", "dpu", 45, None),
            ],
        ),
        add(
            HERTS_2023,
            [
                (
                    "Publish the conflict-of-interest policy: written declarations to the supervisor; "
                    "the line manager searches where there is a conflict",
                    "dpu",
                    -400,
                    "Policy published on the intranet; declarations recorded in Custodes.",
                ),
                (
                    "Brief supervisors on recording referred searches and the advice given",
                    "supervisor",
                    -350,
                    "Briefing delivered at the supervisors' forum.",
                ),
            ],
        ),
        add(
            PEEL_STOPSEARCH,
            [
                (
                    "Publish find rates by ethnicity and search type (drug possession and supply separately)",
                    "analyst",
                    30,
                    None,
                ),
                (
                    "Publish the analysis of disparities and the action taken on the force website",
                    "analyst",
                    -7,
                    None,
                ),
            ],
        ),
        add(
            PEEL_CORRUPTION,
            [
                (
                    "Ingest the access logs of every force system, including mobile data, for monitoring",
                    "ccu",
                    60,
                    None,
                ),
                (
                    "Use reportable associations and declarations in the corruption-risk assessment",
                    "ccu",
                    -30,
                    None,
                ),
            ],
        ),
        add(
            PEEL_VULNERABLE,
            [("Agree contacts with local support organisations (PSD lead)", "ccu", 90, None)],
        ),
    ]
