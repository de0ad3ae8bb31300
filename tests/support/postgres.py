"""A throwaway PostgreSQL cluster for the test session, from the Debian `postgresql` package's binaries.

The server refuses to run as root, so when the tests run as root the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _bindir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name)
    )
    if candidates:
        return candidates[-1].parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError(
        "PostgreSQL server binaries not found: install the Debian `postgresql` package (scripts/test does)"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run(args: list[str], as_postgres: bool) -> None:
    command = ["runuser", "-u", "postgres", "--", *args] if as_postgres else args
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@contextmanager
def throwaway_cluster(*, durable: bool = False, options: str = "") -> Iterator[str]:
    """Start a cluster on a free loopback port; yield a SQLAlchemy URL to its `postgres` database.

    Tests need no durability from the server (fsync off keeps the suite fast); benchmarks ask for
    `durable`, the server's own defaults. `options` are more `-c name=value` server settings.
    """
    bindir = _bindir()
    base = Path(tempfile.mkdtemp(prefix="custodes-pg-"))
    as_postgres = os.geteuid() == 0
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"
    port = _free_port()
    initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
    _run(initdb if durable else [*initdb, "--no-sync"], as_postgres)
    durability = "" if durable else "-c fsync=off -c full_page_writes=off"
    server = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 {durability} {options}"
    _run(
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            server,
            "-l",
            str(base / "server.log"),
            "-w",
            "start",
        ],
        as_postgres,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        stop = "fast" if durable else "immediate"
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", stop, "-w", "stop"], as_postgres)
        shutil.rmtree(base, ignore_errors=True)
