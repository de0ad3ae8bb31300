"""The access-event store's part in the audit screens' searches (`ledger.web.add_access_lister`).

Every access to a record in a police system that the force's access logs report is kept in the event store
(Parquet, read by DuckDB) and committed to the ledger by one `consultation` entry per batch of up to 65,536
accesses, which names no one. So the ledger's own search by person ("everything done with N2001's data", the
subject access report) cannot find them by its subject index. `web.app.create_app` registers `accesses` here:
the audit screens ask it for the stored accesses whose `subject_id` is the person (or whose `staff_id` is the
member of staff) searched for, newest first, each with the ledger index of its batch's entry, which proves it
(`custodes monitor prove EVENT_ID --batch BATCH`). The ledger never reads the store or monitoring's tables.

Showing them is a consultation: one entry (`access_events`), with the search's reason, naming the person
searched for (and, for a member of staff's accesses, the people those shown are about).

A viewer who does counter-corruption casework (ALERTS_INVESTIGATE) is shown none, whoever is searched for:
casework shows them a member of staff in an alert by pseudonym until it is revealed to them, and the alert
lists its accesses, so a list of the same accesses by staff number would reveal who it is without a reveal
(`monitoring.ledger_screen`). The same sentence is shown whether or not any alert exists, so it says nothing
about one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from custodes.identity.permissions import Permission
from custodes.identity.schemas import Principal
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryFilter
from custodes.ledger.web import AccessesFound, AccessFound, AccessQuery
from custodes.monitoring import events
from custodes.monitoring import service as monitoring
from custodes.settings import Settings

FAR_FUTURE_US = 2**62
WITHHELD_FOR_CASEWORK = (
    "Not listed here for the counter-corruption unit: casework shows members of staff in alerts by pseudonym "
    "until they are revealed, and a list of accesses by staff number would undo that. The data protection "
    "unit and auditors see this section."
)
# The person's (or member of staff's) accesses in the query's dates; a null parameter matches any.
_MATCHING = (
    "FROM read_parquet($glob, hive_partitioning = false) "
    "WHERE (CAST($subject AS VARCHAR) IS NULL OR subject_id = $subject) "
    "AND (CAST($staff AS VARCHAR) IS NULL OR staff_id = $staff) "
    "AND at_us >= $since AND at_us < $until"
)
_COUNT_BY_BATCH = "SELECT batch_id, count(*) " + _MATCHING + " GROUP BY batch_id"
_NEWEST = (
    "SELECT occurred_at, system, staff_id, action, record_type, subject_id, event_id, batch_id "
    + _MATCHING
    + " AND list_contains($batches, batch_id) ORDER BY at_us DESC, event_id LIMIT $limit"
)


def accesses(session: Session, settings: Settings, viewer: Principal, query: AccessQuery) -> AccessesFound:
    """The stored accesses to `query.subject_id`'s records and/or by `query.staff_id`, newest first (at most
    `query.limit`, and how many match), in the query's dates, in batches whose ledger entry is numbered below
    `query.before`. Showing them is recorded as a consultation with the query's reason."""
    if viewer.can(Permission.ALERTS_INVESTIGATE):
        return AccessesFound((), 0, WITHHELD_FOR_CASEWORK)
    found = stored_accesses(session, settings, query)
    if found.rows:
        # Everyone shown: the person and the member of staff searched for, and whoever the rows are about.
        searched = [who for who in (query.subject_id, query.staff_id) if who]
        about = [*searched, *(a.subject_id for a in found.rows if a.subject_id)]
        ledger.record_consultation(
            session,
            actor=viewer.actor,
            object_type="access_events",
            subjects=tuple(dict.fromkeys(about)),
            justification=query.reason.strip() or "ledger audit",
            detail={
                "criteria": {
                    key: value
                    for key, value in (("subject_id", query.subject_id), ("staff_id", query.staff_id))
                    if value
                },
                "shown": len(found.rows),
                "total": found.total,
            },
        )
    return found


def stored_accesses(session: Session, settings: Settings, query: AccessQuery) -> AccessesFound:
    """`accesses` without the viewer's rule and without recording anything: for callers that do both."""
    store = monitoring.event_store(settings)
    if not (query.subject_id or query.staff_id) or not store.has_events():
        return AccessesFound((), 0)
    params = {
        "glob": store.glob(),
        "subject": query.subject_id,
        "staff": query.staff_id,
        "since": _micros(query.since, 0),
        "until": _micros(query.until, FAR_FUTURE_US),
    }
    con = events.connect(memory_limit=settings.monitoring_memory_limit, spill_dir=store.spill_dir)
    try:
        counts = con.execute(_COUNT_BY_BATCH, params).fetchall()
        entries = _batch_entries(session, [batch for batch, _ in counts], query.before)
        kept = sorted(entries)
        total = sum(int(n) for batch, n in counts if batch in entries)
        rows = (
            con.execute(
                _NEWEST,
                {**params, "batches": kept, "limit": max(0, query.limit)},
            ).fetchall()
            if kept
            else []
        )
    finally:
        con.close()
    found = tuple(
        AccessFound(
            at, system, staff, action, record_type or "", subject or None, event_id, batch, entries[batch]
        )
        for at, system, staff, action, record_type, subject, event_id, batch in rows
    )
    return AccessesFound(found, total)


def _batch_entries(session: Session, batches: list[str], before: int | None) -> dict[str, int]:
    """The ledger index of each batch's entry, for the batches recorded below `before` (a batch ingested
    after the search was made is not part of it)."""
    found: dict[str, int] = {}
    for batch in batches:
        entry = ledger.search(
            session, EntryFilter(object_type="access_batch", object_id=batch, before=before), limit=1
        )
        if entry:
            found[batch] = entry[0].index
    return found


def _micros(moment: datetime | None, default: int) -> int:
    value = monitoring.micros(moment)
    return default if value is None else value
