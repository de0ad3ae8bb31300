"""Killing a child process (SIGKILL) at a random moment, for the crash tests of the ledger, the access-log
ingest and the stop-search import: what it acknowledged before dying must all be there."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def kill_while_working(
    child_script: Path, args: list[str], chance: random.Random, *, lines_first: tuple[int, int], pause: float
) -> list[list[str]]:
    """Start the child, read a random number of its lines, wait a random moment (< `pause` s), kill it;
    return every line it flushed before the kill, split into fields. A line cut short by the kill (no
    newline yet) was never acknowledged and is dropped."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, str(child_script), *args, str(chance.randrange(2**32))],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert child.stdout is not None and child.stderr is not None
    lines = []
    try:
        for _ in range(chance.randint(*lines_first)):
            line = child.stdout.readline()
            if not line.endswith(b"\n"):
                raise AssertionError(f"the child stopped by itself: {child.stderr.read().decode()}")
            lines.append(line)
        time.sleep(chance.random() * pause)  # a random moment in the next piece of work (never measured)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    lines += child.stdout.read().split(b"\n")[:-1]
    child.stdout.close()
    child.stderr.close()
    return [line.decode().split() for line in lines]
