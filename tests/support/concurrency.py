"""Two people pressing the same button together, on a real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy.orm import Session


def at_once(
    factory: Callable[[], Session],
    step: Callable[[Session], object],
    then: Callable[[Session], object] | None = None,
) -> list[BaseException | None]:
    """Run `step` in two sessions at once (or `step`, then `then` in the second): the second starts while the
    first holds its uncommitted change (PostgreSQL READ COMMITTED; SQLite serialises). Returns the second's
    outcome: [None] or [its error]."""
    outcome: list[BaseException | None] = []
    late_step = then or step

    def second() -> None:
        with factory() as late:
            try:
                late_step(late)
                late.commit()
                outcome.append(None)
            except BaseException as error:  # reported to the test, not lost in the thread
                outcome.append(error)

    with factory() as first:
        step(first)
        waiting = threading.Thread(target=second)
        waiting.start()
        time.sleep(0.5)  # not a timing assertion: lets the second session reach its lock first
        first.commit()
    waiting.join(30)
    return outcome
