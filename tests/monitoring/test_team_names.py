"""alerts.name_teams: an explanation's teams by the team register's name, as shown to someone who knows who
the member of staff is (monitoring.md "Explanations"; the stored text keeps the team id)."""

from __future__ import annotations

from custodes.monitoring import alerts

NAMES = {"T14": "Northtown Response Team B", "NA-RESP1": "North Division Response Team A"}


def test_each_way_an_explanation_names_a_team_gets_the_name_with_the_id() -> None:
    name = alerts.name_teams
    assert name("explained by case C-2 of S1's team T14", NAMES) == (
        "explained by case C-2 of S1's Northtown Response Team B (T14)"
    )
    assert name("no case assigned to S1 or team NA-RESP1 involves N1 at that time", NAMES) == (
        "no case assigned to S1 or North Division Response Team A (NA-RESP1) involves N1 at that time"
    )
    assert name("S1 ran 900 searches, against their usual 20 a day and team T14's 30.", NAMES) == (
        "S1 ran 900 searches, against their usual 20 a day and Northtown Response Team B (T14)'s 30."
    )
    assert name("S1 viewed N1 with no case assigned to S1 or team T14.", NAMES) == (
        "S1 viewed N1 with no case assigned to S1 or Northtown Response Team B (T14)."
    )


def test_a_team_the_register_does_not_name_stays_its_id() -> None:
    text = "no case assigned to S1 or team T99 involves N1; explained by case C-2 of S1's team (none)"
    assert alerts.name_teams(text, NAMES) == text
    assert alerts.name_teams("explained by case C-2 of S1's team T14", {}) == (
        "explained by case C-2 of S1's team T14"
    )


def test_other_words_are_left_alone() -> None:
    text = "cites case C-9, which is neither S1's nor their team's; a T14 elsewhere is not a team"
    assert alerts.name_teams(text, NAMES) == text


def test_a_name_is_put_in_once_and_not_read_again() -> None:
    """A team whose name has "team X" in it is not named twice."""
    names = {"T1": "Old team T2 merged", "T2": "Second"}
    assert (
        alerts.name_teams("S1 or team T1 involves N1", names) == "S1 or Old team T2 merged (T1) involves N1"
    )
