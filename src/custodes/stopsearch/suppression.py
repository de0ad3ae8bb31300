"""Small-number suppression for the stop-search publication: primary and complementary (secondary).

Hiding a small count is not enough when the totals it adds up to are published: with one figure of a row
withheld, it is the total minus the others. This module decides which figures of a publication are
withheld, over every published figure at once, as a linear system:

- **cells**: every count the publication shows (searches, arrests, searches with a find recorded, finds, of
  a group, a month, a month and group, an object of search, a drug search type; records; reviews), and
  counts the publication never shows but which take part in a sum (vehicle-only searches of one month);
- **relations**: the sums that hold between them (the groups add up to all person searches; a month's
  groups add up to the month; the months add up to each group; the months' arrests add up to all arrests,
  as do the groups' and the objects'; a month's records are its person searches plus its vehicle-only
  searches; ...). Every total is taken as published, even where the publication prints only a share of it.

**Primary** suppression withholds every count of 1 to threshold − 1 that is a base (searches of a group,
a month, a month and group, an object; searches with a find recorded; reviews). What is drawn from a
withheld base (its arrests, finds, rates, ratios) is withheld with it. **Complementary** suppression then
withholds more, to a fixed point:

1. a relation holding exactly one withheld cell, or withheld cells on one side that are all at the least
   a reader knows they can be (1, as 0 is always shown), gets another: the smallest non-zero figure in it
   that is shown (zeros are never withheld, so a withheld figure is known to be at least 1 and hiding a 0
   would protect nothing);
2. an exact audit: a withheld cell is recoverable when the relations determine it, that is when its unit
   vector lies in the row space of the relations restricted to the unknown cells (Gaussian elimination, as
   the GaussSuppression and sdcTable packages for R do). A recoverable cell gets a complement in one of
   its relations (the smallest candidate that makes it unrecoverable), and the audit repeats.

No Python library for secondary cell suppression was found that fits (the established tools are R packages
and τ-Argus, in Java), so this is kept small; its property tests (tests/stopsearch/test_suppression.py)
check with Hypothesis that no withheld cell of a random table can be worked out from its row and column
totals. Primary and complementary cells are shown alike ("suppressed"), so a reader cannot bound one by
knowing which is which.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from custodes.stopsearch.schemas import GROUPS, Report

Key = tuple[Hashable, ...]


@dataclass
class Table:
    """The cells and relations of one publication, and the solver that withholds cells."""

    values: dict[Key, int] = field(default_factory=dict)
    primary: set[Key] = field(default_factory=set)
    unpublished: set[Key] = field(default_factory=set)
    fixed: set[Key] = field(default_factory=set)  # taken as known to every reader; never withheld
    relations: list[dict[Key, int]] = field(default_factory=list)
    derived: dict[Key, list[Key]] = field(default_factory=lambda: defaultdict(list))

    def cell(self, key: Key, value: int | None, *, threshold: int | None = None) -> None:
        """A published count; `threshold` makes it a base, withheld when 0 < value < threshold."""
        self.values[key] = int(value or 0)
        if threshold is not None and 0 < self.values[key] < threshold:
            self.primary.add(key)

    def hidden_cell(self, key: Key, value: int | None) -> None:
        """A count the publication never shows but which takes part in a relation (known when 0)."""
        self.values[key] = int(value or 0)
        if self.values[key]:
            self.unpublished.add(key)

    def relation(self, parts: Iterable[Key], total: Key) -> None:
        """sum(parts) == total."""
        coefficients = {key: 1 for key in parts}
        coefficients[total] = coefficients.get(total, 0) - 1
        self.relations.append({k: c for k, c in coefficients.items() if c})

    def drawn_from(self, base: Key, *keys: Key) -> None:
        """`keys` are withheld whenever `base` is."""
        self.derived[base].extend(keys)

    # ----------------------------------------------------------------------- solving

    def solve(self) -> frozenset[Key]:
        hidden = set(self.primary)
        chosen = set(self.primary)  # withheld for their own sake or as complements: known to be >= 1
        given_up: set[Key] = set()
        self._close(hidden)
        while True:
            added = False
            for relation in self.relations:
                if self._exposed(relation, hidden, chosen):
                    complement = self._candidate(relation, hidden)
                    if complement is not None:
                        hidden.add(complement)
                        chosen.add(complement)
                        self._close(hidden)
                        added = True
            if added:
                continue
            recoverable = sorted(self._recoverable(hidden) - given_up, key=repr)
            if not recoverable:
                return frozenset(hidden)
            target = recoverable[0]
            complement = self._complement_for(target, hidden)
            if complement is None:
                given_up.add(target)  # nothing shown can protect it (inconsistent input)
                continue
            hidden.add(complement)
            chosen.add(complement)
            self._close(hidden)

    def _close(self, hidden: set[Key]) -> None:
        todo = list(hidden)
        while todo:
            for key in self.derived.get(todo.pop(), ()):
                if key in self.values and key not in hidden:
                    hidden.add(key)
                    todo.append(key)

    def _exposed(self, relation: Mapping[Key, int], hidden: set[Key], chosen: set[Key]) -> bool:
        withheld = [key for key in relation if key in hidden]
        if not withheld:
            return False
        unknown = withheld + [key for key in relation if key in self.unpublished]
        if len(unknown) == 1:
            return True
        signs = {relation[key] for key in unknown}
        if len(signs) > 1 or any(key in self.unpublished for key in unknown):
            return False
        # all on one side: each lies between its least value and that plus the slack; no slack pins them
        least = sum(1 if key in chosen else 0 for key in withheld)
        return sum(self.values[key] for key in withheld) == least

    def _candidates(self, relation: Mapping[Key, int], hidden: set[Key]) -> list[Key]:
        order = {key: index for index, key in enumerate(relation)}
        keys = [
            key
            for key in relation
            if key not in hidden
            and key not in self.unpublished
            and key not in self.fixed
            and self.values.get(key, 0) > 0
        ]
        return sorted(keys, key=lambda key: (self.values[key], relation[key] < 0, order[key]))

    def _candidate(self, relation: Mapping[Key, int], hidden: set[Key]) -> Key | None:
        candidates = self._candidates(relation, hidden)
        return candidates[0] if candidates else None

    def _complement_for(self, target: Key, hidden: set[Key]) -> Key | None:
        """A shown cell whose suppression makes `target` unrecoverable (or at least helps); None when
        withholding every non-zero cell would still leave it determined (possible only when the report's
        figures do not add up)."""
        everything = hidden | {
            key
            for key, value in self.values.items()
            if value and key not in self.unpublished and key not in self.fixed
        }
        if target in self._recoverable(everything):
            return None
        relations = [r for r in self.relations if target in r]
        relations.sort(key=lambda r: sum(1 for key in r if key in hidden or key in self.unpublished))
        # first the cells of its own relations, smallest first; then any other shown cell
        ordered = [candidate for relation in relations for candidate in self._candidates(relation, hidden)]
        ordered += sorted(everything - hidden - set(ordered), key=lambda key: (self.values[key], repr(key)))
        for candidate in ordered:
            trial = hidden | {candidate}
            self._close(trial)
            if target not in self._recoverable(trial):
                return candidate
        return ordered[0] if ordered else None

    def _recoverable(self, hidden: set[Key]) -> set[Key]:
        """The withheld cells the relations determine, given every shown cell."""
        unknown = sorted(hidden | self.unpublished, key=repr)
        if not hidden:
            return set()
        index = {key: i for i, key in enumerate(unknown)}
        rows = [
            [relation.get(key, 0) for key in unknown]
            for relation in self.relations
            if any(key in index for key in relation)
        ]
        if not rows:
            return set()
        matrix = np.array(rows, dtype=float)
        _, singular, vt = np.linalg.svd(matrix, full_matrices=False)
        rank = int((singular > 1e-9 * max(singular[0], 1.0)).sum())
        # the squared norm of each unit vector's projection onto the row space: 1 when it lies in it
        reach = (vt[:rank] ** 2).sum(axis=0)
        return {key for key in hidden if reach[index[key]] > 1 - 1e-7}


# --------------------------------------------------------------------------- the publication's table


@dataclass(frozen=True)
class Published:
    """Which figures of a report the publication withholds."""

    hidden: frozenset[Key]

    def shown(self, *keys: Key) -> bool:
        return not any(key in self.hidden for key in keys)

    def any_hidden(self, keys: Iterable[Key]) -> bool:
        return any(key in self.hidden for key in keys)


MEASURES = ("S", "A", "K", "F")  # person searches, arrests, with a find recorded, finds


def _event_cells(table: Table, dim: tuple[Hashable, ...], figures: Mapping[str, Any], threshold: int) -> None:
    """A set of searches and what is drawn from it: searches and find_known are bases."""
    searches, known = ("S", *dim), ("K", *dim)
    table.cell(searches, figures.get("searches"), threshold=threshold)
    table.cell(("A", *dim), figures.get("arrests"))
    table.cell(known, figures.get("find_known"), threshold=threshold)
    table.cell(("F", *dim), figures.get("finds"))
    table.drawn_from(searches, ("A", *dim), known, ("F", *dim))
    table.drawn_from(known, ("F", *dim))


def build(report: Report, threshold: int) -> Table:
    """Every count the publication of `report` shows, and the sums between them."""
    table = Table()
    groups = report.get("groups") or {}
    totals = {
        "S": report.get("person_searches") or 0,
        "A": sum((groups.get(g) or {}).get("arrests") or 0 for g in GROUPS),
        "K": sum((groups.get(g) or {}).get("find_known") or 0 for g in GROUPS),
        "F": sum((groups.get(g) or {}).get("finds") or 0 for g in GROUPS),
    }
    for measure, value in totals.items():
        table.cell((measure,), value, threshold=threshold if measure in ("S", "K") else None)
    table.drawn_from(("S",), ("A",), ("K",), ("F",))
    table.drawn_from(("K",), ("F",))
    vehicle = report.get("vehicle_only") or 0
    table.cell(("V",), vehicle)
    table.cell(("R",), report.get("records") or 0)
    table.relation([("S",), ("V",)], ("R",))

    present_groups = [g for g in GROUPS if g in groups]
    for group in present_groups:
        _event_cells(table, ("g", group), groups[group], threshold)
    for measure in MEASURES:
        table.relation([(measure, "g", g) for g in present_groups], (measure,))

    monthly = report.get("monthly") or []
    records = {m["month"]: m for m in (report.get("data_quality") or {}).get("by_month") or []}
    for month in monthly:
        m = month.get("month")
        _event_cells(table, ("m", m), month, threshold)
        by_group = month.get("by_group") or {}
        for group in GROUPS:
            table.cell(("S", "mg", m, group), by_group.get(group, 0), threshold=threshold)
        table.relation([("S", "mg", m, g) for g in GROUPS], ("S", "m", m))
        quality = records.get(m) or {}
        table.cell(("R", "m", m), quality.get("records") or 0)
        table.hidden_cell(("V", "m", m), (quality.get("records") or 0) - (month.get("searches") or 0))
        table.relation([("S", "m", m), ("V", "m", m)], ("R", "m", m))
    if monthly:
        months = [month.get("month") for month in monthly]
        for measure in MEASURES:
            table.relation([(measure, "m", m) for m in months], (measure,))
        table.relation([("R", "m", m) for m in months], ("R",))
        table.relation([("V", "m", m) for m in months], ("V",))
        for group in present_groups:
            table.relation([("S", "mg", m, group) for m in months], ("S", "g", group))

    objects = report.get("by_object") or {}
    for name, figures in objects.items():
        _event_cells(table, ("o", name), figures, threshold)
    if objects:
        for measure in MEASURES:
            table.relation([(measure, "o", name) for name in objects], (measure,))

    drugs = {kind: figures for kind, figures in (report.get("drugs") or {}).items() if figures}
    for kind, figures in drugs.items():
        _event_cells(table, ("d", kind), figures, threshold)
    if drugs:
        # Possession and supply may be every drug search there is: their sums are taken as published.
        for measure in MEASURES:
            total = (measure, "drugs")
            table.values[total] = sum(table.values[(measure, "d", kind)] for kind in drugs)
            table.fixed.add(total)
            table.relation([(measure, "d", kind) for kind in drugs], total)

    review = report.get("grounds_review") or {}
    if review.get("reviewed"):
        table.cell(("rev",), review.get("reviewed"), threshold=threshold)
        table.cell(("rec",), review.get("recorded"))
        table.cell(("strong",), review.get("strong"))
        table.drawn_from(("rev",), ("rec",), ("strong",))
        for dim, entries in (("g", review.get("by_group") or {}), ("t", review.get("by_team") or {})):
            for name, figures in entries.items():
                table.cell(("rev", dim, name), figures.get("reviewed"), threshold=threshold)
                table.cell(("rec", dim, name), figures.get("recorded"))
                table.drawn_from(("rev", dim, name), ("rec", dim, name))
            if entries:
                for measure in ("rev", "rec"):
                    parts = [(measure, dim, name) for name in entries]
                    rest = (measure, dim, "rest")  # reviews of no team (or group) listed: never shown
                    whole = review.get("reviewed" if measure == "rev" else "recorded") or 0
                    table.hidden_cell(rest, whole - sum(table.values[p] for p in parts))
                    table.relation([*parts, rest], (measure,))
    return table


def published(report: Report, threshold: int) -> Published:
    """Which of `report`'s figures the publication withholds (see the module's docstring)."""
    table = build(report, threshold)
    hidden = table.solve()
    return Published(hidden)
