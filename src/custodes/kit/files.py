"""Files written so that a crash leaves either the old content or the new, never a mixture or nothing."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def replace_file(path: Path, text: str, mode: int) -> None:
    """Put `text` in the file all at once: written to a new file beside it (with `mode` from its creation,
    so a private file is never readable by others even briefly), flushed to disk, then renamed over it; on
    any failure the file is as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
    handle = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(handle, mode)  # os.open's mode is filtered by the umask
        with os.fdopen(handle, "w", encoding="utf-8") as written:
            written.write(text)
            written.flush()
            os.fsync(written.fileno())
        os.replace(staging, path)
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def sync_folder(folder: Path) -> None:
    """Make a rename or a new file in the folder durable (POSIX: the folder entry must reach the disk)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
