"""Interval estimates for published rates and ratios (no domain knowledge)."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(events: int, trials: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a proportion; None when there are no trials."""
    if trials <= 0:
        return None
    p = events / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    # At 0 and at every trial the bound is exactly 0 or 1; rounding must not move it.
    return (
        0.0 if events <= 0 else max(0.0, centre - half),
        1.0 if events >= trials else min(1.0, centre + half),
    )


def rate_ratio(a: int, population_a: int, b: int, population_b: int) -> float | None:
    """(a / population_a) ÷ (b / population_b); None when it is not defined."""
    if population_a <= 0 or population_b <= 0 or b <= 0:
        return None
    return (a / population_a) / (b / population_b)


def ratio_ci(
    a: int, population_a: int, b: int, population_b: int, z: float = 1.96
) -> tuple[float, float] | None:
    """95% interval of a rate ratio: exp(ln r ± z √(1/a + 1/b)), a and b the two event counts."""
    ratio = rate_ratio(a, population_a, b, population_b)
    if ratio is None or a <= 0:
        return None
    spread = z * math.sqrt(1 / a + 1 / b)
    log_ratio = math.log(ratio)
    return (math.exp(log_ratio - spread), math.exp(log_ratio + spread))
