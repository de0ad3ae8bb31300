"""A process killed (SIGKILL) during a burst of appends loses no acknowledged entry and leaves a log that
verifies (ledger.md, "Faults it must survive").

crash_child.py appends batches in a loop and prints each batch's indexes once its commit has returned; the
test kills it at random moments, many times over, then checks every acknowledged entry is there, whole
batches only, and that `verify` finds the log intact.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.crash import kill_while_working
from tests.ledger.helpers import Log, open_log

CHILD = Path(__file__).with_name("crash_child.py")
KILLS = {"sqlite": 25, "postgresql": 10}


def _kill_during_burst(log: Log, run: int, chance: random.Random) -> list[tuple[int, int, int, int]]:
    """Start a child, let it acknowledge a few batches, kill it at a random moment; return its acks."""
    args = [log.url, str(log.settings.home), str(run)]
    lines = kill_while_working(CHILD, args, chance, lines_first=(1, 6), pause=0.05)
    return [tuple(int(field) for field in line) for line in lines]  # type: ignore[misc]


@pytest.mark.slow
def test_sigkill_during_appends_loses_nothing_acknowledged(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> None:
    log = open_log(backend, new_database(backend), tmp_path / "home")
    chance = random.Random(20260)
    acknowledged: list[tuple[int, int, int, int]] = []
    try:
        for run in range(KILLS[backend]):
            acknowledged += _kill_during_burst(log, run, chance)
            report = log.verify()
            assert report.intact, (run, report.fault)
            assert report.size > max(last for *_, last in acknowledged)
        lines = log.lines()
    finally:
        log.close()

    assert len(acknowledged) >= KILLS[backend]
    batches: dict[tuple[int, int], list[dict[str, int]]] = defaultdict(list)
    for index, line in enumerate(lines):
        entry = json.loads(line)
        assert entry["index"] == index
        if entry["object"]["type"] == "burst":
            batches[entry["detail"]["run"], entry["detail"]["batch"]].append(
                entry["detail"] | {"index": index}
            )
    for run, batch, first, last in acknowledged:
        found = batches.get((run, batch))
        assert found is not None, f"acknowledged batch {run}/{batch} ({first}–{last}) is lost"
        assert [item["index"] for item in found] == list(range(first, last + 1))
    for (run, batch), found in batches.items():  # committed batches are whole, acknowledged or not
        assert [item["i"] for item in found] == list(range(found[0]["of"])), (run, batch)
