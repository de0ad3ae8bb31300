"""Ledger test fixtures: a fresh database per test that really commits (see helpers.Log)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.ledger.helpers import Log, open_log


@pytest.fixture
def fresh_log(backend: str, new_database: Callable[[str], str], tmp_path: Path) -> Iterator[Log]:
    log = open_log(backend, new_database(backend), tmp_path / "home")
    yield log
    log.close()
