"""Installation settings, read from CUSTODES_* environment variables (documented in docs/settings.md)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from custodes.kit.crypto import KeyMissing, key_file_text, new_key_text, parse_keys
from custodes.kit.files import replace_file, sync_folder

DEFAULT_API_TOKEN_DAYS = 90
DEFAULT_DISCLOSURE_STALE_AFTER_DAYS = 30
LONGEST_RETENTION_DAYS = 100 * 365
"""The longest a retention rule may keep a record (disclosure.service.set_retention_rule)."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUSTODES_", extra="ignore")

    home: Path = Field(
        default=Path("custodes-home"),
        description="Folder holding the installation's data: SQLite database, signing key, secret key.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default sqlite:///<home>/custodes.db. PostgreSQL: postgresql+psycopg://…",
    )
    force_name: str = Field(default="Demo Constabulary", description="Shown on every screen and report.")
    ledger_origin: str = Field(
        default="custodes.example.police.uk/ledger",
        description="Origin line of the ledger's checkpoints; also the name of the signing key.",
    )
    signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 signing key (signed-note private key); default <home>/ledger-signing.key.",
    )
    data_key_file: Path | None = Field(
        default=None,
        description="AES-256 key of the columns encrypted at rest (staff home location); "
        "default <home>/data-encryption.key.",
    )
    ledger_public_key: str | None = Field(
        default=None,
        description="The published verifier key: when set, verify trusts checkpoints signed with it only.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Signs session and CSRF cookies; if unset, read from <home>/secret.key (made by init).",
    )
    checkpoint_every_entries: int = Field(
        default=1000, ge=1, description="Issue a checkpoint after N entries."
    )
    checkpoint_every_seconds: float = Field(
        default=1.0, gt=0, description="The web process checkpoints new entries at least this often."
    )
    session_max_age_minutes: int = Field(default=600, ge=1, description="A log-in lasts at most this long.")
    session_idle_minutes: int = Field(default=30, ge=1, description="A session unused this long expires.")
    login_lockout_failures: int = Field(
        default=5, ge=1, description="Consecutive failures that lock an account."
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="How long a locked account stays locked."
    )
    api_token_days: int = Field(
        default=DEFAULT_API_TOKEN_DAYS,
        ge=1,
        description="An API token lasts this many days (the screens allow no longer; the CLI's --days may).",
    )
    login_rate_limit: str = Field(
        default="20/minute", description="Log-in attempts allowed per client address (limits notation)."
    )
    login_unknown_ledger_rate_limit: str = Field(
        default="10/hour",
        description="Failed log-ins for staff numbers with no account ledgered per client address; "
        "the rest go to the application log.",
    )
    login_unknown_ledger_global_rate_limit: str = Field(
        default="200/hour",
        description="Failed log-ins for staff numbers with no account ledgered from every address together; "
        "past it, one entry per window notes the suppression and the rest go to the application log.",
    )
    api_refusal_rate_limit: str = Field(
        default="30/minute",
        description="API requests without a valid bearer token allowed per client address before 429.",
    )
    max_request_mb: int = Field(
        default=64,
        ge=1,
        description="Largest request body the web process reads, in MiB (a 100,000-event ingest batch fits).",
    )
    monitoring_dir: Path | None = Field(
        default=None,
        description="Access-event store (Parquet, partitioned by day); default <home>/monitoring.",
    )
    monitoring_memory_limit: str = Field(
        default="4GB",
        pattern=r"^\d+(\.\d+)?\s*(%|[KkMmGgTt]i?[Bb])$",
        description="Most memory DuckDB may use in one ingest or run (e.g. 4GB, 50%); the rest spills.",
    )
    monitoring_spill_limit: str = Field(
        default="20GB",
        pattern=r"^\d+(\.\d+)?\s*[KkMmGgTt]i?[Bb]$",
        description="Most disk an ingest or run may spill to (e.g. 20GB); never over half the free space.",
    )
    gate_warm_start: bool = Field(
        default=False,
        description="Load the pre-access gate's index before the web process serves (docs/settings.md).",
    )
    cookie_secure: bool = Field(
        default=True,
        description="Mark cookies Secure. Plain http is only accepted from loopback addresses (demo, tests).",
    )
    disclosure_stale_after_days: int = Field(
        default=DEFAULT_DISCLOSURE_STALE_AFTER_DAYS,
        description="A disclosure request submitted or authorised with no step for this many days is flagged "
        "stale; at least 1, and less than the disclosure_pending retention period (docs/settings.md).",
    )

    @field_validator("disclosure_stale_after_days")
    @classmethod
    def _stale_after_a_day_to_a_century(cls, days: int) -> int:
        # Less than the `disclosure_pending` retention period too: that rule is in the database, changed by
        # the DPU, so it is checked where both meet (disclosure.service: set_retention_rule refuses a pending
        # period not longer; stale_setting_problem tells the retention page when the setting is raised).
        if days < 1:
            raise ValueError(
                "disclosure_stale_after_days (CUSTODES_DISCLOSURE_STALE_AFTER_DAYS) must be at least 1 day: "
                f"it is the number of days without a step after which a request is flagged stale, not {days}."
            )
        if days >= LONGEST_RETENTION_DAYS:
            raise ValueError(
                f"disclosure_stale_after_days (CUSTODES_DISCLOSURE_STALE_AFTER_DAYS) must be at most "
                f"{LONGEST_RETENTION_DAYS - 1:,} days: less than the longest retention period a record can "
                f"be given (100 years), which the disclosure_pending period must exceed, not {days:,}."
            )
        return days

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'custodes.db').resolve()}"

    @property
    def resolved_monitoring_dir(self) -> Path:
        return self.monitoring_dir or self.home / "monitoring"

    @property
    def resolved_signing_key_file(self) -> Path:
        return self.signing_key_file or self.home / "ledger-signing.key"

    @property
    def resolved_data_key_file(self) -> Path:
        return self.data_key_file or self.home / "data-encryption.key"

    def data_keys(self) -> list[bytes]:
        """The key ring of the columns encrypted at rest, read from its file, the key that encrypts first
        (the later ones only decrypt: kit/crypto.py). Never a default."""
        path = self.resolved_data_key_file
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyMissing(
                f"No data encryption key at {path}: run `custodes init` to create one, or set "
                "CUSTODES_DATA_KEY_FILE to the installation's key file."
            ) from None
        except UnicodeDecodeError:
            text = ""  # not a key file: said so by parse_keys, naming the file
        return parse_keys(text, f"the data encryption key file {path}")

    def data_key(self) -> bytes:
        """The key that encrypts: the first of the key file."""
        return self.data_keys()[0]

    def data_key_stamp(self) -> tuple[int, int, int] | None:
        """What changes when the key file is replaced (rotation renames a new file into place), so that a
        running process reads it again; None while there is no file."""
        try:
            found = self.resolved_data_key_file.stat()
        except FileNotFoundError:
            return None
        return (found.st_ino, found.st_mtime_ns, found.st_size)

    def write_data_keys(self, keys: Sequence[bytes]) -> None:
        """Replace the key file with these keys, the first to encrypt: all at once (a new private file
        renamed over the old one), so no process ever reads a half-written key file. A symbolic link is
        followed: the file it points to is replaced, in its own folder, and the link kept."""
        replace_private_file(self.resolved_data_key_file.resolve(), key_file_text(keys))

    def ensure_data_key(self) -> bool:
        """Create the data encryption key file if there is none; True if created."""
        path = self.resolved_data_key_file
        if path.exists():
            return False
        write_private_file(path, new_key_text() + "\n")
        return True

    @property
    def witness_file(self) -> Path:
        """Latest checkpoint, kept outside the database so a rolled-back database is noticed."""
        return self.home / "ledger-latest-checkpoint.txt"

    @cached_property
    def resolved_secret_key(self) -> str:
        if self.secret_key:
            return self.secret_key
        path = self.home / "secret.key"
        try:
            return path.read_text().strip()
        except FileNotFoundError:
            raise SecretMissing(
                f"No secret key: set CUSTODES_SECRET_KEY or run `custodes init` ({path})."
            ) from None

    def ensure_secret_key(self) -> None:
        path = self.home / "secret.key"
        if self.secret_key or path.exists():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        write_private_file(path, secrets.token_urlsafe(48) + "\n")


class SecretMissing(RuntimeError):
    pass


def write_private_file(path: Path, text: str) -> None:
    """Create a file readable only by its owner, failing if it already exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8") as handle:
        path.chmod(0o600)
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())  # a key lost in a crash would orphan what it signed or encrypted
    sync_folder(path.parent)


def replace_private_file(path: Path, text: str) -> None:
    """Put `text` in the file, readable only by its owner, all at once (kit.files.replace_file)."""
    replace_file(path, text, 0o600)
