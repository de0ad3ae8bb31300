"""Child process for test_crash: appends bursts of entries until it is killed.

Usage: python crash_child.py DATABASE_URL HOME RUN SEED

Each transaction appends a batch (sometimes with a checkpoint in the same or its own transaction); after the
commit returns, it prints `RUN BATCH FIRST LAST` (the acknowledged indexes) and flushes stdout.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from custodes.kit.db import make_engine, make_session_factory, transaction
from custodes.ledger import service as ledger
from custodes.ledger.schemas import EntryDraft, Op
from custodes.settings import Settings

SIZES = (1, 1, 1, 2, 3, 7, 16, 17, 64, 150, 300)


def main() -> None:
    url, home, run, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    settings = Settings(home=home, database_url=url, secret_key="crash-test-secret")
    factory = make_session_factory(make_engine(url))
    chance = random.Random(seed)
    batch = 0
    while True:
        count = chance.choice(SIZES)
        with transaction(factory) as session:
            ledger.record_many(
                session,
                [
                    EntryDraft(
                        actor="system:crash-test",
                        op=Op.CONSULTATION if i % 2 else Op.COLLECTION,
                        object_type="burst",
                        object_id=f"{run}-{batch}",
                        subjects=(f"P{i % 5}",),
                        justification="crash test",
                        detail={"run": run, "batch": batch, "i": i, "of": count},
                    )
                    for i in range(count)
                ],
            )
            last = ledger.flush_pending(session) - 1
            if chance.random() < 0.1:
                ledger.issue_checkpoint(session, settings)
        print(run, batch, last - count + 1, last, flush=True)
        if chance.random() < 0.1:
            with transaction(factory) as session:
                ledger.issue_checkpoint(session, settings)
        batch += 1


if __name__ == "__main__":
    main()
