"""Distances on the Earth's surface, as the monitoring detectors measure them (detectors._distance)."""

from __future__ import annotations

import math

EARTH_RADIUS_M = 6_371_008.8  # the mean radius, as detectors.EARTH_RADIUS_M


def metres_between(
    lat1: float | None, lon1: float | None, lat2: float | None, lon2: float | None
) -> float | None:
    """Great-circle (haversine) distance in metres; None when either position is missing."""
    if lat1 is None or lon1 is None or lat2 is None or lon2 is None:
        return None
    half_chord = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, half_chord)))
