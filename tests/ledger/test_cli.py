"""`custodes ledger …`, the stable command-line contract of ledger.md, on a fresh installation.

The installation is made with the real console script (`custodes init`, `custodes import staff`); most
commands then run through typer's CliRunner on `custodes.cli.app` (same code, no process start-up), and the
auditor's round trip (export, checkpoint, public key, verify-offline) and the exit statuses run the real
`custodes` script in a child process.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from sqlalchemy import select, text
from typer.testing import CliRunner, Result

from custodes.cli import app
from custodes.ledger import merkle
from custodes.ledger import service as ledger
from custodes.ledger.models import LedgerCheckpoint, VerificationRun
from custodes.ledger.note import Signer, Verifier, format_checkpoint, generate_signer_key, open_checkpoint
from tests.ledger.helpers import TEST_SECRET, Log, open_log, tampering

CUSTODES = Path(sys.executable).parent / "custodes"
ORIGIN = "custodes.example.police.uk/ledger"
STAFF_CSV = """\
staff_id,surname,forenames,date_of_birth,role,team_id,area_code,line_manager_id,home_postcode,home_lat,home_lon
S1001,Vimes,Samuel,1970-01-01,officer;supervisor,T1,A1,,SW1A 1AA,51.5,-0.14
S1002,Ironfoundersson,Carrot,1990-05-05,officer,T1,A1,S1001,,,
"""
INCLUSION_KEYS = ["leaf_index", "tree_size", "leaf_hash", "inclusion_path", "root_hash"]
CONSISTENCY_KEYS = ["old_size", "new_size", "consistency_path", "old_root", "new_root"]
HEX = re.compile(r"[0-9a-f]{64}")
runner = CliRunner()


@dataclass
class Installation:
    home: Path
    url: str
    log: Log  # in-process access to the same database, for adding entries and checking results

    @property
    def env(self) -> dict[str, str]:
        return {
            "CUSTODES_HOME": str(self.home),
            "CUSTODES_DATABASE_URL": self.url,
            "CUSTODES_SECRET_KEY": TEST_SECRET,
        }

    def script(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """The real `custodes` console script."""
        return subprocess.run(
            [str(CUSTODES), *args],
            env={**os.environ, **self.env},
            capture_output=True,
            timeout=300,
            check=False,
        )

    def cli(self, *args: str) -> Result:
        return runner.invoke(app, list(args), env=self.env)


def install(backend: str, url: str, home: Path, tmp: Path, *, script: bool) -> Installation:
    """`custodes init` and `custodes import staff` (through the real script, or in-process)."""
    found = Installation(home, url, None)  # type: ignore[arg-type]
    staff = tmp / "staff.csv"
    staff.write_text(STAFF_CSV)
    for args in (["init"], ["import", "staff", str(staff)]):
        if script:
            done = found.script(*args)
            assert done.returncode == 0, done.stderr.decode()
            output = done.stdout.decode()
        else:
            result = found.cli(*args)
            assert result.exit_code == 0, result.output
            output = result.stdout
    assert "Imported staff: 2 new, 0 updated, 0 unchanged." in output
    assert (home / "ledger-signing.key").exists()
    found.log = open_log(backend, url, home)
    return found


@pytest.fixture(scope="module")
def installed(
    backend: str, new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installation]:
    """Imported staff (4 entries, checkpoint 4); entries added in-process: checkpoints 20, 64; size 71."""
    tmp = tmp_path_factory.mktemp("cli")
    found = install(backend, new_database(backend), tmp / "home", tmp, script=True)
    found.log.append(16)
    found.log.checkpoint()
    found.log.append(44)
    found.log.checkpoint()
    found.log.append(7)
    yield found
    found.log.close()


@pytest.fixture
def fresh(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Iterator[Installation]:
    found = install(backend, new_database(backend), tmp_path / "home", tmp_path, script=False)
    yield found
    found.log.close()


def exported(found: Installation) -> list[bytes]:
    return found.log.lines()


# --------------------------------------------------------------------------- init, verify


def test_init_made_the_installation_and_is_safe_to_run_twice(installed: Installation) -> None:
    key = (installed.home / "ledger-signing.key").read_text()
    assert key.startswith(f"PRIVATE+KEY+{ORIGIN}+")
    again = installed.script("init")
    assert again.returncode == 0, again.stderr.decode()
    assert b"Kept the ledger signing key" in again.stdout
    assert (installed.home / "ledger-signing.key").read_text() == key
    lines = exported(installed)
    assert [json.loads(line)["object"] for line in lines[:4]] == [
        {"type": "staff", "id": "S1001"},
        {"type": "account", "id": "S1001"},
        {"type": "staff", "id": "S1002"},
        {"type": "account", "id": "S1002"},
    ]


def test_verify(installed: Installation) -> None:
    tree = merkle.MemoryTree(merkle.leaf_hash(line) for line in exported(installed))
    done = installed.script("ledger", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        done.stdout.decode().strip() == f"OK: 71 entries, 3 checkpoint(s) verified; root {tree.root().hex()}"
    )
    result = installed.cli("ledger", "verify", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report) == [
        "intact", "size", "checkpoints_checked", "redacted_entries", "root_hash", "fault", "seconds",
    ]  # fmt: skip
    assert report["intact"] is True and report["fault"] is None
    assert (report["size"], report["checkpoints_checked"], report["redacted_entries"]) == (71, 3, 0)
    assert report["root_hash"] == tree.root().hex()
    assert len(exported(installed)) == 71  # verifying adds nothing to the ledger


@pytest.mark.parametrize(
    ("args", "reads"),
    [
        (["verify"], "verify"),
        (["export"], "export_lines"),
        (["prove-inclusion", "3"], "prove_inclusion"),
        (["prove-consistency", "2", "4"], "prove_consistency"),
        (["checkpoint"], "latest_checkpoint"),
    ],
)
def test_reading_commands_hold_no_write_lock(
    fresh: Installation, monkeypatch: pytest.MonkeyPatch, args: list[str], reads: str
) -> None:
    """SQLite: export, verify, proofs and checkpoint ran in BEGIN IMMEDIATE, holding the write lock for
    their whole run (every writer waited 30 s, then failed). They now read in a deferred transaction;
    verify records its run afterwards, in a short transaction of its own."""
    if fresh.log.backend != "sqlite":
        pytest.skip("SQLite's write lock")
    original = getattr(ledger, reads)
    locked: list[bool] = []

    def while_reading(*arguments: Any, **keywords: Any) -> Any:
        found = original(*arguments, **keywords)
        if reads == "export_lines":
            found = list(found)  # the export's query has run
        writer = sqlite3.connect(fresh.log.url.removeprefix("sqlite:///"), timeout=0.5, isolation_level=None)
        try:
            writer.execute("BEGIN IMMEDIATE")
            writer.execute("ROLLBACK")
            locked.append(False)
        except sqlite3.OperationalError:
            locked.append(True)
        finally:
            writer.close()
        return found

    monkeypatch.setattr(ledger, reads, while_reading)
    result = fresh.cli("ledger", *args)
    assert result.exit_code == 0, result.output
    assert locked == [False]
    with fresh.log.factory() as session:
        runs = session.scalars(select(VerificationRun)).all()
    assert len(runs) == (1 if reads == "verify" else 0)
    assert all(run.intact and run.by == "system:cli" for run in runs)


def test_verify_exits_1_naming_the_first_bad_index(fresh: Installation) -> None:
    fresh.log.append(30)
    with tampering(fresh.url) as connection:
        body = connection.execute(text("SELECT body FROM ledger_entry WHERE idx = 9")).scalar_one()
        connection.execute(
            text("UPDATE ledger_entry SET body = :b WHERE idx = 9"),
            {"b": bytes(body).replace(b'"v":1', b'"v":2')},
        )
    done = fresh.script("ledger", "verify")
    assert done.returncode == 1
    assert "FAULT at index 9: leaf altered" in done.stdout.decode()
    result = fresh.cli("ledger", "verify", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["intact"] is False
    assert (report["fault"]["kind"], report["fault"]["index"]) == ("leaf altered", 9)


def test_verify_of_a_read_only_copy_gives_the_verdict_without_recording_the_run(fresh: Installation) -> None:
    """An auditor's copy may be read-only (a read-only file; a database role without INSERT): the record of
    the run cannot be written, which is said, and the verdict and its exit status stand."""
    fresh.log.append(12)
    assert fresh.cli("ledger", "checkpoint", "--new").exit_code == 0
    if fresh.url.startswith("sqlite"):
        path = fresh.url.split("///", 1)[1]
        env = {**fresh.env, "CUSTODES_DATABASE_URL": f"sqlite:///file:{path}?mode=ro&uri=true"}
    else:
        with tampering(fresh.url) as connection:
            name = connection.exec_driver_sql("SELECT current_database()").scalar_one()
            connection.exec_driver_sql(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        env = fresh.env
    done = runner.invoke(app, ["ledger", "verify"], env=env)
    assert done.exit_code == 0, done.output
    assert "OK: " in done.stdout and "this run is not recorded" in done.stderr
    with fresh.log.factory() as session:
        assert session.scalars(select(VerificationRun)).all() == []


def test_verify_trusts_the_published_key_over_the_key_file_beside_the_database(
    fresh: Installation, tmp_path: Path
) -> None:
    fresh.log.append(10)
    assert fresh.cli("ledger", "checkpoint", "--new").exit_code == 0
    published = fresh.cli("ledger", "public-key").stdout.strip()
    key_file = fresh.home / "ledger-signing.key"
    # Someone replaces the signing key and signs a head of their own with it.
    key_file.write_text(generate_signer_key(ORIGIN) + "\n")
    assert fresh.cli("ledger", "checkpoint", "--new").exit_code == 0
    assert fresh.cli("ledger", "verify").exit_code == 1  # the first head is no longer the key file's
    (tmp_path / "published.key").write_text(published + "\n")
    for pinned in (
        fresh.cli("ledger", "verify", "--json", "--public-key", published),
        fresh.cli("ledger", "verify", "--json", "--public-key", str(tmp_path / "published.key")),
        runner.invoke(
            app, ["ledger", "verify", "--json"], env={**fresh.env, "CUSTODES_LEDGER_PUBLIC_KEY": published}
        ),
    ):
        assert pinned.exit_code == 1, pinned.output
        fault = json.loads(pinned.stdout)["fault"]
        assert fault["kind"] == "checkpoint signature invalid", fault  # the head signed with the other key


def test_verify_without_a_signing_key_needs_the_published_one(fresh: Installation) -> None:
    """An auditor's copy of the database has no private key: the published key is all verify needs."""
    fresh.log.append(10)
    assert fresh.cli("ledger", "checkpoint", "--new").exit_code == 0
    published = fresh.cli("ledger", "public-key").stdout.strip()
    (fresh.home / "ledger-signing.key").unlink()
    refused = fresh.cli("ledger", "verify")
    assert refused.exit_code == 2 and "--public-key" in refused.output
    assert fresh.cli("ledger", "verify", "--public-key", published).exit_code == 0


# --------------------------------------------------------------------------- keys and checkpoints


def test_public_key(installed: Installation, handed: dict[str, bytes]) -> None:
    key = handed["public-key"].decode()
    assert key.endswith("\n") and key.count("\n") == 1
    key = key.strip()
    match = re.fullmatch(r"(?P<name>[^+\s]+)\+(?P<id>[0-9a-f]{8})\+(?P<b64>[A-Za-z0-9+/]+={0,2})", key)
    assert match is not None, key
    raw = base64.b64decode(match["b64"], validate=True)
    assert len(raw) == 33 and raw[0] == 0x01  # 0x01 = Ed25519, then the 32-byte public key
    assert match["name"] == ORIGIN
    # signed-note key id: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)
    assert match["id"] == hashlib.sha256(match["name"].encode() + b"\n" + raw).digest()[:4].hex()
    assert key == ledger.verifier_key(installed.log.settings)


def test_checkpoint_prints_the_latest(installed: Installation) -> None:
    result = installed.cli("ledger", "checkpoint")
    assert result.exit_code == 0, result.output
    note = result.stdout
    with installed.log.factory() as session:
        latest = ledger.latest_checkpoint(session)
    assert latest is not None and note == latest.note
    lines = note.split("\n")
    tree = merkle.MemoryTree(merkle.leaf_hash(line) for line in exported(installed))
    previous = f"previous-checkpoint 20 {base64.b64encode(tree.root(20)).decode()}"  # the one before it
    assert lines[:5] == [ORIGIN, "64", base64.b64encode(tree.root(64)).decode(), previous, ""]
    assert lines[5].startswith(f"— {ORIGIN} ") and lines[6:] == [""]
    key = installed.cli("ledger", "public-key").stdout.strip()
    opened = open_checkpoint(note, Verifier(key), origin=ORIGIN)
    assert (opened.size, opened.root) == (64, tree.root(64))


def test_checkpoint_new_signs_a_fresh_head(fresh: Installation) -> None:
    before = len(exported(fresh))
    result = fresh.cli("ledger", "checkpoint", "--new")
    assert result.exit_code == 0, result.output
    note = result.stdout
    lines = exported(fresh)
    assert len(lines) == before + 1  # the request itself is recorded, then signed
    last = json.loads(lines[-1])
    assert (last["op"], last["actor"], last["object"]["type"]) == ("checkpoint", "system:cli", "ledger")
    key = fresh.cli("ledger", "public-key").stdout.strip()
    opened = open_checkpoint(note, Verifier(key), origin=ORIGIN)
    tree = merkle.MemoryTree(merkle.leaf_hash(line) for line in lines)
    assert (opened.size, opened.root) == (before + 1, tree.root())
    assert fresh.cli("ledger", "checkpoint").stdout == note
    assert (fresh.home / "ledger-latest-checkpoint.txt").read_text() == note
    assert fresh.cli("ledger", "verify").exit_code == 0


def test_checkpoint_before_any_was_issued(
    backend: str, new_database: Callable[[str], str], tmp_path: Path
) -> None:
    found = Installation(tmp_path / "home", new_database(backend), None)  # type: ignore[arg-type]
    assert found.cli("init").exit_code == 0
    result = found.cli("ledger", "checkpoint")
    assert result.exit_code == 1
    assert "no checkpoint" in result.stderr
    result = found.cli("ledger", "checkpoint", "--new")
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\n")[1] == "1"


# --------------------------------------------------------------------------- export and proofs


def test_export(installed: Installation, handed: dict[str, bytes]) -> None:
    lines = exported(installed)
    assert handed["export"] == b"".join(line + b"\n" for line in lines)
    for index, line in enumerate(lines):
        assert rfc8785.dumps(json.loads(line)) == line and json.loads(line)["index"] == index
    for start, end in ((None, None), (0, 71), (5, 9), (70, None), (None, 3), (64, 1000), (71, None), (9, 5)):
        args = (["--from", str(start)] if start is not None else []) + (
            ["--to", str(end)] if end is not None else []
        )
        result = installed.cli("ledger", "export", *args)
        assert result.exit_code == 0, result.output
        assert result.stdout_bytes == b"".join(line + b"\n" for line in lines[start:end])
    assert installed.cli("ledger", "export", "--from", "-1").exit_code == 2
    assert installed.cli("ledger", "export", "--to", "x").exit_code == 2


def test_prove_inclusion(installed: Installation) -> None:
    lines = exported(installed)
    tree = merkle.MemoryTree(merkle.leaf_hash(line) for line in lines)
    for index, size in ((0, None), (3, None), (70, None), (0, 1), (5, 20), (19, 20), (63, 64), (40, 64)):
        args = [str(index)] + (["--size", str(size)] if size is not None else [])
        result = installed.cli("ledger", "prove-inclusion", *args)
        assert result.exit_code == 0, result.output
        proof = json.loads(result.stdout)
        assert list(proof) == INCLUSION_KEYS
        size = 71 if size is None else size
        assert (proof["leaf_index"], proof["tree_size"]) == (index, size)
        assert proof["leaf_hash"] == hashlib.sha256(b"\x00" + lines[index]).hexdigest()
        assert all(HEX.fullmatch(node) for node in [*proof["inclusion_path"], proof["root_hash"]])
        path = [bytes.fromhex(node) for node in proof["inclusion_path"]]
        assert proof["root_hash"] == tree.root(size).hex()
        assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), index, size, path, tree.root(size))
    for args in (["71"], ["5", "--size", "5"], ["0", "--size", "72"]):
        result = installed.cli("ledger", "prove-inclusion", *args)
        assert result.exit_code == 1 and "Error" in result.stderr
    assert installed.cli("ledger", "prove-inclusion", "first").exit_code == 2
    assert installed.cli("ledger", "prove-inclusion").exit_code == 2


def test_prove_consistency(installed: Installation) -> None:
    tree = merkle.MemoryTree(merkle.leaf_hash(line) for line in exported(installed))
    key = Verifier(ledger.verifier_key(installed.log.settings))
    with installed.log.factory() as session:
        notes = {cp.size: cp.note for cp in session.scalars(select(LedgerCheckpoint))}
    assert sorted(notes) == [4, 20, 64]
    for old, new in ((4, 20), (20, 64), (4, None), (64, None), (1, 2), (7, 7), (0, 10), (33, 70)):
        args = [str(old)] + ([str(new)] if new is not None else [])
        result = installed.cli("ledger", "prove-consistency", *args)
        assert result.exit_code == 0, result.output
        proof = json.loads(result.stdout)
        assert list(proof) == CONSISTENCY_KEYS
        new = 71 if new is None else new
        assert (proof["old_size"], proof["new_size"]) == (old, new)
        assert (proof["old_root"], proof["new_root"]) == (tree.root(old).hex(), tree.root(new).hex())
        path = [bytes.fromhex(node) for node in proof["consistency_path"]]
        assert merkle.verify_consistency(old, new, path, tree.root(old), tree.root(new))
        for size in {old, new} & set(notes):  # the proof links the signed checkpoints
            assert open_checkpoint(notes[size], key).root.hex() == (
                proof["old_root"] if size == old else proof["new_root"]
            )
    for args in (["72"], ["10", "9"], ["0", "72"]):
        result = installed.cli("ledger", "prove-consistency", *args)
        assert result.exit_code == 1 and "Error" in result.stderr
    assert installed.cli("ledger", "prove-consistency").exit_code == 2


# --------------------------------------------------------------------------- the outside auditor


@pytest.fixture(scope="module")
def handed(installed: Installation) -> dict[str, bytes]:
    """What an auditor is handed, from the real script: the export, the latest checkpoint, the public key."""
    outputs = {}
    for name in ("export", "checkpoint", "public-key"):
        done = installed.script("ledger", name)
        assert done.returncode == 0, done.stderr.decode()
        outputs[name] = done.stdout
    return outputs


@pytest.fixture
def audit_files(handed: dict[str, bytes], tmp_path: Path) -> tuple[Path, Path, str]:
    """The export cut at the checkpoint's size (`export --to 64`): the entries it covers, no more."""
    entries, checkpoint = tmp_path / "entries.jsonl", tmp_path / "checkpoint.txt"
    entries.write_bytes(b"".join(handed["export"].splitlines(keepends=True)[:64]))
    checkpoint.write_bytes(handed["checkpoint"])
    return entries, checkpoint, handed["public-key"].decode().strip()


def offline(
    installed: Installation, entries: Path, checkpoint: Path, key: str
) -> subprocess.CompletedProcess[bytes]:
    args = ["ledger", "verify-offline", "--entries", str(entries), "--checkpoint", str(checkpoint)]
    return installed.script(*args, "--public-key", key)


def test_verify_offline_accepts_an_untouched_export(
    installed: Installation, audit_files: tuple[Path, Path, str], tmp_path: Path
) -> None:
    entries, checkpoint, key = audit_files
    done = offline(installed, entries, checkpoint, key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith(b"OK: 64 entries")
    key_file = tmp_path / "key.txt"
    key_file.write_text(key + "\n")
    args = [
        "--entries",
        str(entries),
        "--checkpoint",
        str(checkpoint),
        "--public-key",
        str(key_file),
        "--json",
    ]
    result = installed.cli("ledger", "verify-offline", *args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["intact"] is True and report["size"] == 64


def test_verify_offline_rejects_an_altered_export(
    installed: Installation, audit_files: tuple[Path, Path, str], tmp_path: Path
) -> None:
    entries, checkpoint, key = audit_files
    lines = entries.read_bytes().split(b"\n")
    for index in (0, 17, 63):
        for change in (
            lambda line: line.replace(b'"salt":"', b'"salt":"0', 1),
            lambda line: line.replace(b'"v":1', b'"v":2'),
            lambda line: line[:-1] + b" }",
        ):
            altered = list(lines)
            altered[index] = change(lines[index])
            assert altered[index] != lines[index]
            entries.write_bytes(b"\n".join(altered))
            args = ["--entries", str(entries), "--checkpoint", str(checkpoint), "--public-key", key]
            result = installed.cli("ledger", "verify-offline", *args)
            assert result.exit_code == 1, (index, result.output)
            assert "FAULT at index" in result.stdout
    args = [
        "ledger",
        "verify-offline",
        "--entries",
        str(entries),
        "--checkpoint",
        str(checkpoint),
        "--public-key",
        key,
    ]
    entries.write_bytes(b"\n".join(lines[:17] + lines[18:]))  # one line left out
    assert installed.cli(*args).exit_code == 1
    entries.write_bytes(b"\n".join([lines[1], lines[0], *lines[2:]]))  # two lines swapped
    assert installed.cli(*args).exit_code == 1
    entries.write_bytes(b"\n".join(lines[:50]))  # the end cut off
    assert installed.cli(*args).exit_code == 1


def test_verify_offline_rejects_lines_the_checkpoint_does_not_cover(
    installed: Installation, handed: dict[str, bytes], audit_files: tuple[Path, Path, str]
) -> None:
    """Lines past the checkpoint's size were dropped unread and the export reported OK; they are proven by
    nothing, so verify-offline now names them and exits 1."""
    entries, checkpoint, key = audit_files
    entries.write_bytes(handed["export"])  # all 71 entries, against the checkpoint of 64
    done = offline(installed, entries, checkpoint, key)
    assert done.returncode == 1, done.stdout + done.stderr
    assert b"FAULT at index 64: extra leaf" in done.stdout
    assert b"7 line(s) beyond the checkpoint's size 64 are not covered by it" in done.stdout
    assert b"from line 65 (entry 64) on" in done.stdout


def test_verify_offline_rejects_a_forged_checkpoint(
    installed: Installation, audit_files: tuple[Path, Path, str], tmp_path: Path
) -> None:
    entries, checkpoint, key = audit_files
    note = checkpoint.read_text()
    forger = Signer(generate_signer_key(ORIGIN))
    opened = open_checkpoint(note, Verifier(key))
    forged = tmp_path / "forged.txt"
    forged.write_text(forger.sign(format_checkpoint(ORIGIN, opened.size, opened.root)))
    done = offline(installed, entries, forged, key)
    assert done.returncode == 1
    assert b"FAULT at index" in done.stdout and b"checkpoint signature invalid" in done.stdout
    args = ["--entries", str(entries), "--checkpoint", str(checkpoint), "--public-key", forger.verifier_key()]
    assert installed.cli("ledger", "verify-offline", *args).exit_code == 1  # the wrong public key


def test_verify_offline_usage_errors_exit_2(
    installed: Installation, audit_files: tuple[Path, Path, str], tmp_path: Path
) -> None:
    entries, checkpoint, key = audit_files
    missing = tmp_path / "missing.jsonl"
    done = offline(installed, missing, checkpoint, key)
    assert done.returncode == 2 and b"cannot read" in done.stderr
    for args in (
        ["--entries", str(entries), "--checkpoint", str(missing), "--public-key", key],
        ["--entries", str(tmp_path), "--checkpoint", str(checkpoint), "--public-key", key],  # a folder
        ["--entries", str(entries), "--public-key", key],  # --checkpoint left out
        ["--entries", str(entries), "--checkpoint", str(checkpoint)],  # --public-key left out
    ):
        result = installed.cli("ledger", "verify-offline", *args)
        assert result.exit_code == 2, (args, result.output)
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = installed.cli(
        "ledger",
        "verify-offline",
        "--entries",
        str(entries),
        "--checkpoint",
        str(binary),
        "--public-key",
        key,
    )
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
