"""Child process for test_import_crash: re-imports stop-search months one after another until killed.

Usage: python import_crash_child.py DATABASE_URL HOME RUN SEED

Before each import it prints `try MONTH COUNT`; after the commit returns, `done MONTH COUNT` (flushed): the
month is then acknowledged as holding COUNT records.
"""

from __future__ import annotations

import random
import sys
import tempfile
from pathlib import Path

from custodes.kit.db import make_engine, make_session_factory, transaction
from custodes.settings import Settings
from custodes.stopsearch import service
from tests.stopsearch.rows import search, write

MONTHS = ("2019-01", "2019-02", "2019-03")


def main() -> None:
    url, home, run, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    settings = Settings(home=home, database_url=url, secret_key="crash-test-secret")
    factory = make_session_factory(make_engine(url))
    chance = random.Random(seed)
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
