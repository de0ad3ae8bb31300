"""The pre-access gate against its targets (workforce.md): with 50,000 staff and 500,000 declarations,
p99 < 5 ms over HTTP on loopback and ≥ 2,000 decisions/s; the rule evaluation alone p99 < 0.2 ms.

    .venv/bin/python benchmarks/gate_latency.py [--backend sqlite|postgresql] [--staff 50000]
        [--declarations 500000] [--seconds 10] [--rate 300] [--connections 16] [--keep PATH] [--profile]
        [--loop auto|asyncio|uvloop] [--http auto|h11|httptools]

1. Loads the registers straight into the tables (Core inserts; no ledger entries for the set-up itself).
2. Rule evaluation alone: `gate.evaluate` on the preloaded index, for random requests (the subject's
   name normalised inside the timed part), no database.
3. HTTP: the real app (`create_app`) under uvicorn in another process, warm-started (`gate_warm_start`); a
   raw-socket asyncio client on keep-alive connections. (a) open loop at --rate for --seconds: latency from
   the request's send to the full response (the target), and from its scheduled time; (b) closed loop on
   --connections connections: throughput.
   Every decision commits its ledger entry (group commit) before it is answered. (c) For scale, the bare
   `GET /api/v1/health` on the same connections: the HTTP stack's own ceiling. uvicorn's event loop and
   HTTP parser as `custodes serve` picks them ("auto": uvloop and httptools when installed) unless given.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from sqlalchemy import insert, select

from custodes.identity import service as identity
from custodes.identity.models import Account, AccountRole
from custodes.identity.permissions import Scope
from custodes.kit.db import transaction, utcnow
from custodes.ledger.models import LedgerEntry
from custodes.monitoring.models import Nominal
from custodes.workforce import gate
from custodes.workforce.models import Course, Declaration, Staff, TrainingCompletion, Vetting

SURNAMES = (
    "Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker White "
)
SURNAMES += (
    "Roberts Green Hall Wood Jackson Clarke Patel Khan Lewis James Phillips Mason Mitchell Rose Davis "
)
SURNAMES += "Rodriguez Cox Alexander Garden Campbell Johnston Moore Smyth O'Neill Doherty McDonald Hussain"
FORENAMES = "John Jon David Sarah Mohammed Muhammad Catherine Katherine Steven Stephen James Emma Olivia "
FORENAMES += "Jack Harry Amelia Sophie Thomas Daniel Laura Rachel Michael Paul Mark Claire Sean Shaun Anne"
SURNAME_LIST, FORENAME_LIST = SURNAMES.split(), FORENAMES.split()
POSTCODES = [f"ME{a} {b}{c}{d}" for a in range(1, 20) for b in range(1, 10) for c in "ABDE" for d in "ABDEFG"]
NOMINALS = 100_000


def _birth(rng: random.Random) -> date:
    return date(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))


def populate(db: common.BenchDatabase, staff: int, declarations: int, seed: int) -> None:
    rng = random.Random(seed)
    now = utcnow()
    stamps = {"created_at": now, "updated_at": now}
    recent = date.today() - timedelta(days=100)
    started = time.perf_counter()
    with transaction(db.factory) as session:
        session.execute(
            insert(Course),
            [
                {
                    "course_code": "DP1",
                    "title": "Data protection",
                    "mandatory_for": "",
                    "validity_months": 12,
                    "gates": "system_access",
                    **stamps,
                },
                {
                    "course_code": "MI",
                    "title": "Managing Information",
                    "mandatory_for": "",
                    "validity_months": 36,
                    "gates": "disclosure",
                    **stamps,
                },
            ],
        )
        rows, accounts, roles, training, vetting = [], [], [], [], []
        for n in range(staff):
            sid = f"S{n:06d}"
            rows.append(
                {
                    "staff_id": sid,
                    "surname": rng.choice(SURNAME_LIST),
                    "forenames": rng.choice(FORENAME_LIST),
                    "date_of_birth": _birth(rng),
                    "team_id": f"T{n // 20}",
                    "area_code": "CZ",
                    "line_manager_id": f"S{(n // 10) * 10:06d}" if n % 10 else None,
                    "home_postcode": rng.choice(POSTCODES),
                    **stamps,
                }
            )
            accounts.append(
                {"staff_id": sid, "display_name": sid, "active": True, "failed_logins": 0, "created_at": now}
            )
            roles.append({"staff_id": sid, "role": "supervisor" if n % 10 == 0 else "officer"})
            if rng.random() > 0.03:
                training.append(
                    {
                        "training_key": f"{sid}/DP1/{recent}",
                        "staff_id": sid,
                        "course_code": "DP1",
                        "completed_on": recent,
                        **stamps,
                    }
                )
            if rng.random() > 0.03:
                vetting.append(
                    {
                        "vetting_key": f"{sid}/MV/2020-01-01",
                        "staff_id": sid,
                        "level": rng.choice(["MV", "RV", "NPPV3"]),
                        "status": "granted",
                        "decided_on": date(2020, 1, 1),
                        "expires_on": date(2030, 1, 1),
                        **stamps,
                    }
                )
        for table, values in (
            (Staff, rows),
            (Account, accounts),
            (AccountRole, roles),
            (TrainingCompletion, training),
            (Vetting, vetting),
        ):
            for start in range(0, len(values), 10_000):
                session.execute(insert(table), values[start : start + 10_000])
        nominals = []
        for n in range(NOMINALS):
            nominals.append(
                {
                    "subject_id": f"N{n:07d}",
                    "surname": (surname := rng.choice(SURNAME_LIST)),
                    "forenames": (forenames := rng.choice(FORENAME_LIST)),
                    "surname_key": surname.casefold(),
                    "forenames_key": forenames.casefold(),
                    "date_of_birth": _birth(rng),
                    "postcode": rng.choice(POSTCODES),
                    "flags": "",
                    "public_figure": False,
                    "protected": False,
                    **stamps,
                }
            )
        for start in range(0, len(nominals), 10_000):
            session.execute(insert(Nominal), nominals[start : start + 10_000])
        batch = []
        for n in range(declarations):
            by_id = rng.random() < 0.3
            batch.append(
                {
                    "declaration_id": f"D{n:07d}",
                    "staff_id": f"S{rng.randrange(staff):06d}",
                    "kind": rng.choice(["conflict_of_interest", "reportable_association"]),
                    "subject_id": f"N{rng.randrange(NOMINALS):07d}" if by_id else None,
                    "surname": None if by_id else rng.choice(SURNAME_LIST),
                    "forenames": None if by_id else rng.choice(FORENAME_LIST),
                    "date_of_birth": None if by_id else _birth(rng),
                    "postcode": None if by_id else rng.choice(POSTCODES),
                    "relationship": rng.choice(["neighbour", "relative", "friend", "acquaintance"]),
                    "declared_at": now,
                    **stamps,
                }
            )
            if len(batch) == 10_000:
                session.execute(insert(Declaration), batch)
                batch = []
        if batch:
            session.execute(insert(Declaration), batch)
    print(
        f"loaded {staff:,} staff, {declarations:,} declarations, {NOMINALS:,} nominals "
        f"in {time.perf_counter() - started:.1f} s"
    )


def requests(rng: random.Random, staff: int, count: int) -> list[dict[str, Any]]:
    """Half by subject id, half by name with a date of birth (some with an initial, some a variant)."""
    found = []
    for _ in range(count):
        body: dict[str, Any] = {
            "staff_id": f"S{rng.randrange(staff):06d}",
            "system": "PNC",
            "purpose": "investigation",
        }
        if rng.random() < 0.5:
            body["subject_id"] = f"N{rng.randrange(NOMINALS):07d}"
        else:
            forenames = rng.choice(FORENAME_LIST)
            body["subject"] = {
                "surname": rng.choice(SURNAME_LIST).upper(),
                "forenames": forenames[0] if rng.random() < 0.2 else forenames,
                "date_of_birth": _birth(rng).isoformat(),
                "postcode": rng.choice(POSTCODES),
            }
        found.append(body)
    return found


# --------------------------------------------------------------------------- rule evaluation alone


def rules_alone(db: common.BenchDatabase, bodies: list[dict[str, Any]], profile: bool) -> gate.GateIndex:
    index = gate.GateIndex()
    with transaction(db.factory) as session:
        started = time.perf_counter()
        loaded = index.preload(session)
        print(f"index preload: {loaded:,} staff in {time.perf_counter() - started:.1f} s")
        parsed = [gate.parse_request(b) for b in bodies]
        facts = {
            r.subject.subject_id: index.nominal(session, r.subject.subject_id)
            for r in parsed
            if r.subject.subject_id
        }
        courses = index.course_rules(session)
    today = date.today()
    timings = []
    decisions: dict[str, int] = {}
    with common.maybe_profile(profile, "rule evaluation"):
        for request in parsed:
            t0 = time.perf_counter_ns()
            fact = facts.get(request.subject.subject_id) if request.subject.subject_id else None
            if fact is not None:
                key, staff_flag = fact.person, fact.staff_id
            else:
                s = request.subject
                key, staff_flag = (
                    gate.PersonKey.of(s.subject_id, s.surname, s.forenames, s.date_of_birth, s.postcode),
                    None,
                )
            result = gate.evaluate(
                index.profiles[request.staff_id],
                courses,
                gate.SYSTEMS[request.system],
                key,
                staff_flag,
                request.purpose,
                request.case_ref,
                today,
            )
            timings.append((time.perf_counter_ns() - t0) / 1e6)
            decisions[result.decision] = decisions.get(result.decision, 0) + 1
    print(f"rule evaluation, {len(timings):,} requests: decisions {decisions}")
    print(f"  p50 {common.percentile(timings, 0.5):.4f} ms, mean {sum(timings) / len(timings):.4f} ms")
    common.report("rule evaluation p99", common.percentile(timings, 0.99), "ms", 0.2, higher_is_better=False)
    return index


# --------------------------------------------------------------------------- over HTTP


def serve(url: str, home: str, port: int, loop: str = "auto", http: str = "auto") -> None:
    """The app as `custodes serve` runs it, warm-started (`gate_warm_start`): uvicorn serves only once the
    gate's index is loaded."""
    import uvicorn

    from custodes.database import Database
    from custodes.settings import Settings
    from custodes.web.app import create_app

    settings = Settings(
        home=Path(home),
        database_url=url,
        secret_key="benchmark-secret-not-for-production-0123456789",
        gate_warm_start=True,
    )
    database = Database.open(settings)
    app = create_app(settings, database)
    # Keep-alive longer than a run: uvicorn's default 5 s closed connections the open loop's pool held idle,
    # and the client then read an empty or reset connection.
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        loop=loop,
        http=http,
        timeout_keep_alive=120,
    )
    config.load()
    factory = config.get_loop_factory()
    loop_name = type(factory()).__module__ if factory else "asyncio"
    print(f"server: uvicorn {uvicorn.__version__}, {config.http_protocol_class.__name__}, {loop_name} loop")
    uvicorn.Server(config).run()


def _wait_until_serving(port: int, seconds: float) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _request_bytes(body: dict[str, Any], token: str) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST /api/v1/access-check HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


async def _one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes) -> int:
    writer.write(data)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def open_loop(
    port: int, payloads: list[bytes], rate: float, seconds: float, connections: int
) -> tuple[list[float], list[float], dict[int, int]]:
    """Requests scheduled at a steady rate; each takes a free connection (more are opened if none is free).

    Returns each request's latency from when it was sent and from when it was due. They differ by the
    client's own lateness: asyncio sleeps in whole milliseconds (epoll's timeout), so a send can leave up to
    1 ms after its time. Requests never wait for one another's answers (any free connection, or a new one),
    so measuring from the send does not hide server queueing."""
    free: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = [
        await asyncio.open_connection("127.0.0.1", port) for _ in range(connections)
    ]
    from_send: list[float] = []
    from_due: list[float] = []
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05
    total = int(rate * seconds)

    async def fire(n: int) -> None:
        due = start + n / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        pair = free.pop() if free else await asyncio.open_connection("127.0.0.1", port)
        sent = loop.time()
        status = await _one(*pair, payloads[n % len(payloads)])
        answered = loop.time()
        from_send.append((answered - sent) * 1000)
        from_due.append((answered - due) * 1000)
        statuses[status] = statuses.get(status, 0) + 1
        free.append(pair)

    await asyncio.gather(*(fire(n) for n in range(total)))
    for _reader, writer in free:
        writer.close()
    return from_send, from_due, statuses


async def closed_loop(
    port: int, payloads: list[bytes], seconds: float, connections: int
) -> tuple[list[float], float]:
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds

    async def worker(offset: int) -> None:
        pair = await asyncio.open_connection("127.0.0.1", port)
        n = offset
        while loop.time() < end:
            t0 = loop.time()
            await _one(*pair, payloads[n % len(payloads)])
            latencies.append((loop.time() - t0) * 1000)
            n += connections
        pair[1].close()

    started = loop.time()
    await asyncio.gather(*(worker(i) for i in range(connections)))
    return latencies, len(latencies) / (loop.time() - started)


def over_http(db: common.BenchDatabase, bodies: list[dict[str, Any]], args: argparse.Namespace) -> None:
    with transaction(db.factory) as session:
        token = identity.create_api_token(session, "benchmark", [Scope.ACCESS_CHECK], "system:bench")
        before = session.scalar(select(LedgerEntry.idx).order_by(LedgerEntry.idx.desc()).limit(1)) or 0
    payloads = [_request_bytes(b, token) for b in bodies]
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    arguments = (db.url, str(db.home), port, args.loop, args.http)
    server = context.Process(target=serve, args=arguments, daemon=True)
    server.start()
    try:
        started = time.perf_counter()
        _wait_until_serving(port, 900)
        print(f"server warm-started and serving after {time.perf_counter() - started:.1f} s")
        asyncio.run(closed_loop(port, payloads, 2.0, 4))  # warm-up (connections, token cache, code paths)
        latencies, from_due, statuses = asyncio.run(
            open_loop(port, payloads, args.rate, args.seconds, args.connections)
        )
        print(
            f"(a) open loop at {args.rate:,.0f}/s for {args.seconds:.0f} s: {len(latencies):,} requests, "
            f"statuses {statuses}"
        )
        print(
            f"  from the send: p50 {common.percentile(latencies, 0.5):.2f} ms, "
            f"p90 {common.percentile(latencies, 0.9):.2f} ms, "
            f"max {max(latencies):.2f} ms"
        )
        print(
            f"  from the scheduled time (adds the client's timer lateness): "
            f"p50 {common.percentile(from_due, 0.5):.2f} ms, p99 {common.percentile(from_due, 0.99):.2f} ms"
        )
        common.report(
            "HTTP decision p99 at the target rate",
            common.percentile(latencies, 0.99),
            "ms",
            5.0,
            higher_is_better=False,
        )
        latencies, rate = asyncio.run(closed_loop(port, payloads, args.seconds, args.connections))
        print(
            f"(b) closed loop, {args.connections} connections: "
            f"p50 {common.percentile(latencies, 0.5):.2f} ms, "
            f"p99 {common.percentile(latencies, 0.99):.2f} ms"
        )
        common.report("HTTP decisions/s (closed loop)", rate, "decisions/s", 2000.0)
        health = [b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]
        latencies, rate = asyncio.run(closed_loop(port, health, args.seconds, args.connections))
        print(
            f"(c) GET /api/v1/health, closed loop, {args.connections} connections: {rate:,.0f} /s, "
            f"p50 {common.percentile(latencies, 0.5):.2f} ms, p99 {common.percentile(latencies, 0.99):.2f} ms"
        )
    finally:
        server.terminate()
        server.join(10)
    with transaction(db.factory) as session:
        after = session.scalar(select(LedgerEntry.idx).order_by(LedgerEntry.idx.desc()).limit(1)) or 0
        decided = session.scalar(
            select(LedgerEntry.idx)
            .where(LedgerEntry.idx > before, LedgerEntry.object_type == "access_check")
            .limit(1)
        )
    print(f"ledger grew by {after - before:,} entries during the HTTP runs (first decision entry: {decided})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    common.add_common_arguments(parser)
    parser.add_argument("--staff", type=int, default=50_000)
    parser.add_argument("--declarations", type=int, default=500_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=300.0,
        help="open-loop rate for the p99: a steady load (2,000 /s is the server's capacity: requests queue)",
    )
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--keep", type=Path, help="SQLite file to build once and reuse")
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="uvicorn loop")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto", help="uvicorn HTTP")
    args = parser.parse_args()
    common.header("pre-access gate")
    with common.bench_database(
        args.backend, pg_fsync=args.pg_fsync == "on", keep=args.keep, sqlite_sync=args.sqlite_sync
    ) as db:
        if not db.reused:
            populate(db, args.staff, args.declarations, args.seed)
        bodies = requests(random.Random(args.seed + 1), args.staff, 50_000)
        rules_alone(db, bodies, args.profile)
        over_http(db, bodies, args)


if __name__ == "__main__":
    main()
