"""Killing a child process (SIGKILL) at a random moment, for the crash tests of the ledger, the access-log
ingest and the stop-search import: what it acknowledged before dying must all be there."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from custodes.kit.db import make_engine, make_session_factory
from custodes.ledger import service as ledger
from custodes.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
SECRET = "crash-test-secret"


@dataclass(frozen=True)
class Installation:
    """What a crash test and its child share: the database, the home folder, settings and sessions."""

    url: str
    home: Path
    settings: Settings
    factory: sessionmaker[Session]

    @classmethod
    def open(cls, url: str, home: Path) -> Installation:
        settings = Settings(home=home, database_url=url, secret_key=SECRET)
        return cls(url, home, settings, make_session_factory(make_engine(url)))

    @classmethod
    def create(cls, url: str, home: Path) -> Installation:
        """For the parent test: a new home with a ledger signing key."""
        home.mkdir()
        made = cls.open(url, home)
        ledger.ensure_signing_key(made.settings)
        return made


def child_arguments() -> tuple[Installation, int, random.Random]:
    """For a child: `DATABASE_URL HOME RUN SEED` from the command line."""
    url, home, run, seed = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    return Installation.open(url, home), run, random.Random(seed)


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
