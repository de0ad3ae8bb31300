"""Roles, permissions and API scopes: the one place that says who may do what.

A web route declares the Permission it needs (`web.deps.require`); the permission test matrix reads those
declarations and this table, so a route without a declaration, or a role that gets more than it should,
fails the tests.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    AIC = "aic"
    DPU = "dpu"
    CCU = "ccu"
    ANALYST = "analyst"
    AUDITOR = "auditor"
    ADMIN = "admin"


ROLE_TITLES = {
    Role.OFFICER: "Police officer",
    Role.STAFF: "Police staff",
    Role.SUPERVISOR: "Supervisor (line manager)",
    Role.AIC: "Area Intelligence Co-ordinator",
    Role.DPU: "Data Protection Unit",
    Role.CCU: "Counter-Corruption Unit",
    Role.ANALYST: "Performance analyst",
    Role.AUDITOR: "Auditor (read-only)",
    Role.ADMIN: "System administrator",
}


class Permission(StrEnum):
    SELF_VIEW = "self:view"  # own record, training, vetting, declarations
    LEDGER_VIEW = "ledger:view"  # ledger size, checkpoints, entry search (by person: with a logged reason)
    LEDGER_VERIFY = "ledger:verify"
    LEDGER_EXPORT = "ledger:export"  # CSV/PDF of entries
    ACCOUNTS_VIEW = "accounts:view"
    ACCOUNTS_MANAGE = "accounts:manage"
    TOKENS_MANAGE = "tokens:manage"
    CONFIG_MANAGE = "config:manage"
    AGREEMENTS_VIEW = "agreements:view"  # partner, agreement and scheme registers (read, export)
    AGREEMENTS_MANAGE = "agreements:manage"  # partners and information sharing agreements
    SCHEMES_MANAGE = "schemes:manage"  # crime-reduction schemes and their member registers
    DISCLOSURE_REQUEST = "disclosure:request"  # draft, submit and follow one's own disclosures
    DISCLOSURE_AUTHORISE = "disclosure:authorise"  # the queue; the rules then check role and area per route
    DISCLOSURE_REVIEW = "disclosure:review"  # 60/120-day reviews, withdrawals
    DISCLOSURE_OVERSEE = "disclosure:oversee"  # every disclosure, corrections, retention reports
    CORRECTIONS_MANAGE = "corrections:manage"  # record corrections, issue and track notices
    RETENTION_MANAGE = "retention:manage"  # retention rules, legal holds, disposal
    REFERRALS_HANDLE = "referrals:handle"  # pre-access gate referrals: search on a requester's behalf
    LEARNING_VIEW = "learning:view"  # the learning register (recommendations, actions, controls; exports)
    LEARNING_MANAGE = "learning:manage"  # add and change recommendations, add and complete actions
    # Workforce integrity (docs/workforce.md). Making and reading one's own declarations is SELF_VIEW.
    DECLARATIONS_DECIDE = "declarations:decide"  # decide declarations of the people one line-manages
    TRAINING_VIEW = "training:view"  # training compliance by area and team, team lists
    VETTING_VIEW = "vetting:view"  # renewals, backlog, disparity of outcomes
    WORKFORCE_REGISTERS = "workforce:registers"  # declarations registers with names; redacted publication
    # Monitoring (docs/monitoring.md). Alerts and investigations are the counter-corruption unit's alone.
    MONITORING_VIEW = "monitoring:view"  # ingests, quarantined rows, explanation rates, runs (no alerts)
    ALERTS_INVESTIGATE = "alerts:investigate"  # alert queue, triage, investigations, evidence packs
    # Stop and search (docs/stopsearch.md).
    STOPSEARCH_VIEW = "stopsearch:view"  # the analysis, data quality, samples and published reports
    STOPSEARCH_MANAGE = "stopsearch:manage"  # draw supervisory samples, publish reports
    STOPSEARCH_REVIEW = "stopsearch:review"  # record whether a sampled search's grounds were recorded


_EVERYONE = {Permission.SELF_VIEW}
_AUDIT = {
    Permission.LEDGER_VIEW,
    Permission.LEDGER_VERIFY,
    Permission.LEDGER_EXPORT,
}
_REQUEST = {Permission.DISCLOSURE_REQUEST}
_AUTHORISE = {Permission.DISCLOSURE_AUTHORISE, Permission.AGREEMENTS_VIEW}
_AIC = _AUTHORISE | {Permission.SCHEMES_MANAGE, Permission.DISCLOSURE_REVIEW, Permission.DISCLOSURE_OVERSEE}
_DPU = _AIC | {Permission.AGREEMENTS_MANAGE, Permission.CORRECTIONS_MANAGE, Permission.RETENTION_MANAGE}
_WORKFORCE_OVERSIGHT = {Permission.TRAINING_VIEW, Permission.VETTING_VIEW, Permission.WORKFORCE_REGISTERS}
_ADMIN = {
    Permission.ACCOUNTS_VIEW,
    Permission.ACCOUNTS_MANAGE,
    Permission.TOKENS_MANAGE,
    Permission.CONFIG_MANAGE,
}

# The learning register: kept by the data protection unit; read by those who own its actions or check them.
_LEARNING = {Permission.LEARNING_VIEW}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OFFICER: frozenset(_EVERYONE | _REQUEST),
    Role.STAFF: frozenset(_EVERYONE | _REQUEST),
    # Supervisors authorise one-off and competent-authority disclosures (the rules say which, per route).
    Role.SUPERVISOR: frozenset(
        _EVERYONE
        | _REQUEST
        | _AUTHORISE
        | _LEARNING
        | {
            Permission.DECLARATIONS_DECIDE,
            Permission.TRAINING_VIEW,
            Permission.REFERRALS_HANDLE,
            Permission.STOPSEARCH_VIEW,
            Permission.STOPSEARCH_REVIEW,
        }
    ),
    Role.AIC: frozenset(_EVERYONE | _REQUEST | _AIC),
    Role.DPU: frozenset(
        _EVERYONE
        | _AUDIT
        | _REQUEST
        | _DPU
        | _WORKFORCE_OVERSIGHT
        | {
            Permission.MONITORING_VIEW,
            Permission.LEARNING_VIEW,
            Permission.LEARNING_MANAGE,
            Permission.STOPSEARCH_VIEW,
        }
    ),
    # The counter-corruption unit runs vetting and holds the declarations registers.
    Role.CCU: frozenset(
        _EVERYONE
        | _AUDIT
        | _LEARNING
        | {
            Permission.VETTING_VIEW,
            Permission.WORKFORCE_REGISTERS,
            Permission.MONITORING_VIEW,
            Permission.ALERTS_INVESTIGATE,
        }
    ),
    Role.ANALYST: frozenset(
        _EVERYONE | _LEARNING | {Permission.STOPSEARCH_VIEW, Permission.STOPSEARCH_MANAGE}
    ),
    # Auditors verify and read; they do not export people's data in bulk beyond the entries themselves.
    Role.AUDITOR: frozenset(
        _EVERYONE
        | _AUDIT
        | _WORKFORCE_OVERSIGHT
        | _LEARNING
        | {
            Permission.AGREEMENTS_VIEW,
            Permission.DISCLOSURE_OVERSEE,
            Permission.MONITORING_VIEW,
            Permission.STOPSEARCH_VIEW,
        }
    ),
    # Administrators run the system; they see no ledger content and can never change it.
    Role.ADMIN: frozenset(_EVERYONE | _ADMIN),
}

# Granting these, to anyone, waits for a second administrator; and no administrator may set the password
# of another account holding one through the screens (else: grant it to an account, set its password, log in).
# They are the roles that read the ledger or other people's records in bulk (ccu, auditor, dpu), run the
# system (admin), or approve or decide other people's work: aic and supervisor authorise disclosures (an
# administrator holding one could authorise a disclosure drafted as an officer whose password they set),
# and supervisors also decide declarations and handle gate referrals. Officer, staff and analyst decide
# nobody else's work. Any change an administrator makes to their own roles waits for a second one too
# (identity.service.change_roles).
NEEDS_SECOND_ADMIN = frozenset({Role.CCU, Role.ADMIN, Role.AUDITOR, Role.DPU, Role.AIC, Role.SUPERVISOR})


def permissions_for(roles: set[Role] | frozenset[Role]) -> frozenset[Permission]:
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS[role]
    return frozenset(granted)


class Scope(StrEnum):
    """What a machine client's bearer token may do."""

    ACCESS_CHECK = "access-check"
    INGEST = "ingest"
    LEDGER_READ = "ledger:read"
    DISCLOSURE_CHECK = "disclosure:check"
    ACCESS_EXPLAIN = "access-explain"


# What each scope lets a token do to people, for the scopes a token made on the screens may only use once a
# second administrator has approved it (a token made on the server, `custodes api-token create`, needs no
# approval: the operator is trusted). Every scope is listed; None would mean no approval is needed.
SCOPE_REACH: dict[Scope, str | None] = {
    Scope.LEDGER_READ: "reads every ledger entry: who looked at whom, who was told what",
    Scope.INGEST: "puts access events in any officer's name into misuse monitoring",
    Scope.ACCESS_CHECK: (
        "reads whether an officer is trained, vetted or declared a conflict with a person, and records "
        "decisions and opens referrals in the officer's name"
    ),
    Scope.DISCLOSURE_CHECK: (
        "draws findings from a subject's records (their address, conflicts declared about them, protected "
        "people)"
    ),
    Scope.ACCESS_EXPLAIN: (
        "reads who accessed whose record, the work that explains it or why none does, the misuse rules it "
        "meets and the cases involving the person, with no pseudonym"
    ),
}
SCOPES_NEEDING_SECOND_ADMIN = frozenset(scope for scope, reach in SCOPE_REACH.items() if reach)
