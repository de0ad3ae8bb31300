"""The saved public stop-search data (tests/data/stop-search.tar.xz), extracted once per test process."""

from __future__ import annotations

import atexit
import functools
import shutil
import tarfile
import tempfile
from pathlib import Path

import pytest

ARCHIVE = Path(__file__).parent.parent / "data" / "stop-search.tar.xz"


@functools.cache
def reference_folder() -> Path:
    """The archive's files (its README gives each one's provenance); removed when the process ends."""
    folder = Path(tempfile.mkdtemp(prefix="custodes-stop-search-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    with tarfile.open(ARCHIVE) as archive:
        archive.extractall(folder, filter="data")
    return folder


@pytest.fixture(scope="session")
def reference_data() -> Path:
    return reference_folder()
