"""Child process for test_import_crash: re-imports stop-search months one after another until killed.

Usage: python import_crash_child.py DATABASE_URL HOME RUN SEED

Before each import it prints `try MONTH COUNT`; after the commit returns, `done MONTH COUNT` (flushed): the
month is then acknowledged as holding COUNT records.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from custodes.kit.db import transaction
from custodes.stopsearch import service
from tests.crash import child_arguments
from tests.stopsearch.rows import search, write

MONTHS = ("2019-01", "2019-02", "2019-03")


def main() -> None:
    made, run, chance = child_arguments()
    settings, factory = made.settings, made.factory
    folder = Path(tempfile.mkdtemp(prefix="stopsearch-crash-"))
    number = 0
    while True:
        month, count = chance.choice(MONTHS), chance.choice((1, 7, 300, 3000))
        path = write(folder / f"{run}-{number}", month, "kent", [search(month)] * count)
        print("try", month, count, flush=True)
        with transaction(factory) as session:
            service.import_stop_searches(session, settings, [path], actor="system:crash-test")
        print("done", month, count, flush=True)
        number += 1


if __name__ == "__main__":
    main()
