"""Child process for test_ingest_crash: ingests small access logs one after another until it is killed.

Usage: python ingest_crash_child.py DATABASE_URL HOME RUN SEED

Each ingest is its own transaction; after the commit returns (the files are then published), it prints
`RUN N INGEST_ID FIRST LAST` — the acknowledged event ids E<RUN>-<N>-<FIRST..LAST> — and flushes stdout.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from custodes.kit.db import transaction
from custodes.monitoring import service as monitoring
from tests.crash import child_arguments
from tests.monitoring.world import event, write_events


def main() -> None:
    made, run, chance = child_arguments()
    settings, factory = made.settings, made.factory
    folder = Path(tempfile.mkdtemp(prefix="ingest-crash-"))
    number = 0
    while True:
        count = chance.choice((1, 5, 50, 400, 2000))
        rows = [event(f"E{run}-{number}-{i}", f"N{i % 7}", day=i % 3, minute=i % 60) for i in range(count)]
        path = write_events(folder, rows, f"log-{run}-{number}.csv")
        with transaction(factory) as session:
            summary = monitoring.ingest_files(session, settings, [path], "system:crash-test")
        print(run, number, summary.ingest_id, 0, count - 1, flush=True)
        number += 1


if __name__ == "__main__":
    main()
