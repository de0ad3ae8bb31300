"""The name keys of kit/names.py: letters English writes two ways (ä ö ü ø å đ ð), the folded keys that match
every mix of their spellings, and the plain-typed names that are not folded (hypothesis properties)."""

from __future__ import annotations

import random
import unicodedata
from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from custodes.kit import names

# Each letter with its plain and written-out spelling, as English writes it.
TWO_WAY = {
    "ä": ("a", "ae"), "ö": ("o", "oe"), "ü": ("u", "ue"), "ø": ("o", "oe"), "å": ("a", "aa"),
    "đ": ("d", "dj"), "ð": ("d", "dj"), "æ": ("a", "ae"), "œ": ("o", "oe"),
}  # fmt: skip
_BASE = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10)
_PAIRS_HEAVY = st.text(alphabet="aeoudjmnx", min_size=0, max_size=16)


def test_the_two_way_letters_are_those_of_the_key_function() -> None:
    """The rules live in kit/names.py: the letters it writes two ways are these, each written-out pair starts
    with the letter the first keys give (so folding drops its second letter), æ and œ are written two ways
    as ä and ö are (a or ae, o or oe: review), and ß keeps one spelling (ss)."""
    assert set(TWO_WAY) == set(names._TWO_WAYS)
    for letter, (plain, written) in TWO_WAY.items():
        assert names._letters(letter) == plain and names._other_letters(letter) == written
        assert names._letters(letter.upper()) == plain
    assert names.other_match_keys("Sæther", "Straußberg") == ("saether", "", "")
    assert names.match_keys("Sæther", "Jens") == ("sather", "jens", "jens")  # was "saether": æ one way


@settings(max_examples=500, deadline=None)
@given(text=_PAIRS_HEAVY)
def test_the_fold_is_idempotent_and_the_same_in_any_order(text: str) -> None:
    """fold reads every written-out pair as its plain letter until none is left; done pair by pair in any
    order it gives the same (the rewriting is confluent), so Python and SQL need not agree on an order."""
    folded = names.fold(text)
    assert names.fold(folded) == folded
    assert not any(pair in folded for pair in names._FOLDED_PAIRS)
    assert folded[:1] == text[:1]  # the first letter is never dropped: initials survive the fold
    shuffled, rng = text, random.Random(text)
    while found := [i for i in range(len(shuffled) - 1) if shuffled[i : i + 2] in names._FOLDED_PAIRS]:
        at = rng.choice(found)
        shuffled = shuffled[: at + 1] + shuffled[at + 2 :]
    assert shuffled == folded


@settings(max_examples=300, deadline=None)
@given(name=_BASE)
def test_the_keys_are_idempotent(name: str) -> None:
    for key in (names.surname_key, names.folded_surname_key):
        once = key(name)
        assert key(once) == once
    folded = names.folded_surname_key(name)
    key = names.fold_match_keys(name, name)[0]
    assert names.rewritten(key, names.FOLD_TYPED) == f"{folded}={names._mac_as_mc(name)}"


def _spellings(data: st.DataObject, base: str) -> tuple[str, str]:
    """`base` with one to three letters of TWO_WAY put in (either case), and a spelling of it that writes
    each of them plain or written out, independently: (as written, a mix)."""
    letters = list(base)
    for _ in range(data.draw(st.integers(1, 3))):
        letters.insert(data.draw(st.integers(0, len(letters))), data.draw(st.sampled_from(sorted(TWO_WAY))))
    written = "".join(ch.upper() if data.draw(st.booleans()) else ch for ch in letters)
    mixed = "".join(TWO_WAY[ch][data.draw(st.integers(0, 1))] if ch in TWO_WAY else ch for ch in letters)
    if data.draw(st.booleans()):  # composed or decomposed: "ü" or "u" and a combining diaeresis
        written = unicodedata.normalize("NFD", written)
    return written, mixed


@settings(max_examples=400, deadline=None)
@given(surname=_BASE, forename=_BASE, data=st.data())
def test_written_out_plain_and_mixed_spellings_share_the_folded_keys(
    surname: str, forename: str, data: st.DataObject
) -> None:
    """A name written with ä ö ü ø å đ ð and any spelling of it that writes each such letter plain or
    written out (Đorđević: Dordevic, Djordjevic, Djordevic, Dordjevic) have the same folded keys; the name
    with the letters is marked as written two ways, so the gate and the detectors match the two, with the
    date of birth or postcode as ever, and never on the name alone."""
    surnames, forenames = _spellings(data, surname), _spellings(data, forename)
    written_keys = names.fold_match_keys(surnames[0], forenames[0])
    mixed_keys = names.fold_match_keys(surnames[1], forenames[1])
    for one, other in zip(written_keys, mixed_keys, strict=True):  # the same folded words; the LIKE matches
        assert one.partition("=")[0] == other.partition("=")[0]
        assert names.folds_alike(one, other) and names.folds_alike(other, one)
    assert all(names.other_match_keys(surnames[0], forenames[0]))
    born = date(1985, 6, 7)
    written = names.PersonKey.of(None, surnames[0], forenames[0], born, None)
    mixed = names.PersonKey.of(None, surnames[1], forenames[1], born, None)
    assert names.same_surname(written, mixed) and names.same_surname(mixed, written)
    assert names.same_person(written, mixed) and names.same_person(mixed, written)
    elsewhere = names.PersonKey.of(None, surnames[1], forenames[1], date(1985, 6, 8), "ME1 1AA")
    assert not names.same_person(written, elsewhere)


@settings(max_examples=300, deadline=None)
@given(name=_BASE, data=st.data())
def test_plain_names_a_written_out_pair_apart_stay_apart(name: str, data: st.DataObject) -> None:
    """Typed in plain letters, a name and the same with a pair's second letter added (Hoy and Hoey, Adei and
    Adjei, Odegard and Odegaard) are different names: neither is written two ways, so the folded keys,
    though equal, are not compared."""
    spots = [i for i, ch in enumerate(name) if ch in "aoud"]
    if not spots:
        return
    at = data.draw(st.sampled_from(spots))
    second = {"a": data.draw(st.sampled_from("ae")), "o": "e", "u": "e", "d": "j"}[name[at]]
    longer = name[: at + 1] + second + name[at + 1 :]
    assert names.other_match_keys(longer, longer) == names.other_match_keys(name, name) == ("", "", "")
    assert names.folded_surname_key(longer) == names.folded_surname_key(name)
    if names.surname_key(longer) != names.surname_key(name):  # a spelling variant may still join them
        born = date(1990, 1, 1)
        one = names.PersonKey.of(None, name, "Sam", born, "ME14 1AA")
        assert not names.same_person(one, names.PersonKey.of(None, longer, "Sam", born, "ME14 1AA"))


def test_the_examples_of_the_review() -> None:
    born = date(1980, 1, 1)

    def key(surname: str, forenames: str = "Ana") -> names.PersonKey:
        return names.PersonKey.of(None, surname, forenames, born, None)

    for spelling in ("Djordjevic", "Djordevic", "Dordjevic", "Dordevic", "DJORĐEVIĆ"):
        assert names.same_person(key("Đorđević"), key(spelling)), spelling
    assert not names.same_person(key("Djordjevic"), key("Dordevic"))  # both typed plain: as typed
    assert names.same_person(key("Ødegård", "Bjørn"), key("Odegaard", "Bjoern"))
    assert names.same_person(key("Åberg", "Håkon"), key("Aaberg", "Hakon"))
    assert names.same_person(key("Strauß"), key("Strauss")) and not names.same_person(
        key("Strauß"), key("Straus")
    )
    # æ is written as ä is, a or ae (review: "Sather" dodged a declared "Sæther"); never e
    assert names.same_person(key("Sæther"), key("Saether")) and names.same_person(
        key("Sæther"), key("Sather")
    )
    for spelling in ("Saebo", "Sabo", "Saeboe", "Saboe", "SÆBØ"):
        assert names.same_person(key("Sæbø"), key(spelling)) and names.same_person(key(spelling), key("Sæbø"))
    assert not names.same_person(key("Sæbø"), key("Sebo")) and not names.same_person(
        key("Saebo"), key("Sabo")
    )
    assert names.same_person(key("Bœuf", "Œdipe"), key("Boeuf", "Odipe"))
    assert names.same_person(key("Bœuf"), key("Bouf")) and not names.same_person(key("Boeuf"), key("Bouf"))
    # the letters folded, then as typed with "%" after each written two ways (kit.names._fold_key)
    assert names.fold_match_keys("Đorđević", "Đorđe") == (
        "dordevic=d%ord%evic",
        "dorde=d%ord%e",
        "dorde=d%ord%e",
    )
    # ...and "+" before each written-out second letter, which the fold drops
    assert names.fold_match_keys("Jön", "Joen") == ("jon=jo%n", "jon=jo+en", "jon=jo+en")
    assert names.fold_match_keys("Hoey-Müller", "Joe Jürgen") == (
        "hoymuller=ho+eymu%ller",
        "jo=jo+e",
        "jojurgen=jo+eju%rgen",
    )


def test_written_two_ways_is_decided_letter_by_letter() -> None:
    """Review: a part of a name was taken as written two ways if any word in it had ä ö ü ø å đ, and then
    every word of it was folded, so "Joe Jürgen Smith" was "Jo Smith" and "Hoey-Müller" was "Hoy-Muller"
    (same date of birth), while "Joe Smith" and "Jo Smith" were rightly apart. Only such a letter is read
    either way now (ü as u or ue); every other letter, of either name, is compared as typed."""
    born = date(1980, 1, 1)

    def key(surname: str, forenames: str = "Ana") -> names.PersonKey:
        return names.PersonKey.of(None, surname, forenames, born, None)

    def same(one: names.PersonKey, other: names.PersonKey) -> bool:
        assert names.same_person(one, other) == names.same_person(other, one)
        return names.same_person(one, other)

    assert not same(key("Smith", "Joe Jürgen"), key("Smith", "Jo"))
    assert not same(key("Smith", "Joe Jürgen"), key("Smith", "Jo Jurgen"))
    assert not same(key("Smith", "Jo Jürgen"), key("Smith", "Joe Juergen"))
    assert not same(key("Smith", "Joe"), key("Smith", "Jo"))
    assert not same(key("Hoey-Müller"), key("Hoy-Muller")) and not same(
        key("Hoey-Müller"), key("Hoy-Mueller")
    )
    assert not same(key("Hoy-Müller"), key("Hoey Mueller"))
    # the word written with the letter still meets every spelling of it, beside any other word
    assert same(key("Smith", "Joe Jürgen"), key("Smith", "Joe Juergen"))
    assert same(key("Smith", "Jürgen Joe"), key("Smith", "Juergen"))
    assert same(key("Hoey-Müller"), key("Hoey-Mueller")) and same(key("Hoey Müller"), key("HOEY-MULLER"))
    assert same(key("Müller-Hoey"), key("Mueller Hoey")) and not same(key("Müller-Hoey"), key("Mueller-Hoy"))
    for spelling in ("Djordjevic", "Djordevic", "Dordjevic", "Dordevic"):
        assert same(key("Đorđević"), key(spelling)) and same(key("Hoey-Đorđević"), key(f"Hoey-{spelling}"))
        assert not same(key("Hoey-Đorđević"), key(f"Hoy-{spelling}"))
    assert same(key("Ødegård"), key("Odegaard")) and same(key("Ødegård", "Bjørn"), key("Odegaard", "Bjoern"))
    assert same(key("Mu-eller", "Ju ergen"), key("Müller", "Jürgen"))  # where a hyphen falls never matters
    assert not names.folds_alike("hoymuller=ho+eymu%ller", "hoymuller=hoymuller")
    assert names.folds_alike("hoymuller=ho+eymu%ller", "hoymuller=ho+eymu+eller")
    assert names.folds_alike("hoymuller=ho+eymu+eller", "hoymuller=ho+eymu%ller")


_CONSONANTS = st.text(alphabet="bcfhklmnprstvwxyz", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(left=_CONSONANTS, right=_CONSONANTS, word=_CONSONANTS, data=st.data())
def test_a_plain_letter_beside_a_letter_written_two_ways_is_compared_as_typed(
    left: str, right: str, word: str, data: st.DataObject
) -> None:
    """Beside a word with ä ö ü ø å đ ð (in any spelling of it on the other side), a plain word and the same
    with an "e" after its "o" (Hoy and Hoey) stay apart, in the surname and the forenames, whichever side
    has the letters; the same plain word beside them matches, wherever a space or hyphen falls."""
    plain, longer = f"{left}o{right}", f"{left}oe{right}"
    written, mixed = _spellings(data, word)
    born = date(1990, 1, 1)
    one = names.PersonKey.of(None, f"{plain}-{written}", f"{plain} {written}", born, None)
    same_plain = names.PersonKey.of(None, f"{plain}{mixed}", f"{plain} {mixed}", born, None)
    other = names.PersonKey.of(None, f"{longer}-{mixed}", f"{longer} {mixed}", born, None)
    assert names.same_person(one, same_plain) and names.same_person(same_plain, one)
    if one.surname != other.surname:  # a spelling variant of the whole may still join them
        assert not names.same_surname(one, other) and not names.same_surname(other, one)
    if one.forenames[0] != other.forenames[0]:
        assert not names.forenames_agree(one, other) and not names.forenames_agree(other, one)


_LOWER = "abcdefghijklmnopqrstuvwxyz"


@settings(max_examples=300, deadline=None)
@given(rest=st.text(alphabet=_LOWER, min_size=3, max_size=10), data=st.data())
def test_mac_mc_and_m_apostrophe_are_one_prefix_before_a_name(rest: str, data: st.DataObject) -> None:
    """Mac, Mc, Mc written apart and M' before the rest of a name of three letters or more are one prefix,
    in the surname on its own and after another part (MacDonald = McDonald = Mc Donald = M'Donald,
    Smith-MacRae = Smith McRae), in the first keys that the gate, the detectors and casework compare."""
    spellings = [f"Mac{rest}", f"Mc{rest.title()}", f"Mc {rest}", f"Mc-{rest}", f"M'{rest}", f"M’{rest}"]
    one, other = data.draw(st.sampled_from(spellings)), data.draw(st.sampled_from(spellings))
    assert names.surname_key(one) == names.surname_key(other)
    assert names.surname_key(f"Smith-{one}") == names.surname_key(f"Smith {other}")
    born = date(1970, 1, 1)
    first = names.PersonKey.of(None, one, "Ian", born, None)
    second = names.PersonKey.of(None, other, "Ian", born, None)
    assert names.same_person(first, second) and names.same_person(second, first)
    assert names.forename_tokens(f"Mac{rest}") == names.forename_tokens(f"Mc{rest}")


@settings(max_examples=300, deadline=None)
@given(rest=st.text(alphabet=_LOWER, min_size=0, max_size=2), before=st.text(alphabet=_LOWER, max_size=4))
def test_a_name_that_merely_begins_with_mac_is_no_mac_name(rest: str, before: str) -> None:
    """Review: every "mac" was read as "mc", so Mack was "Mc K", Macey "Mcey", Camacho "Camcho". Only a
    prefix before the rest of a name of three letters or more is: Mack, Macey, Mace, Macy are as typed."""
    assert names.surname_key(f"Mac{rest}") != names.surname_key(f"Mc {rest}") or not rest
    assert names.surname_key(f"Mac{rest}") == f"mac{rest}"
    assert names.surname_key(f"{before}macdonald") == f"{before}macdonald" or not before
    assert names.forename_tokens(f"Mac{rest}") == (f"mac{rest}",)
    born = date(1970, 1, 1)
    if rest:
        mack = names.PersonKey.of(None, f"Mac{rest}", "Ian", born, None)
        mc_k = names.PersonKey.of(None, f"Mc{rest}", "Ian", born, None)
        assert not names.same_person(mack, mc_k) and not names.same_person(mc_k, mack)


def test_the_mac_examples_of_the_review() -> None:
    born = date(1980, 1, 1)

    def same(one: str, other: str) -> bool:
        first, second = (names.PersonKey.of(None, name, "Ian", born, None) for name in (one, other))
        assert names.same_person(first, second) == names.same_person(second, first)
        return names.same_person(first, second)

    for one in ("MacDonald", "McDonald", "Mc Donald", "M'Donald", "MACDONALD", "Mc-Donald"):
        assert same(one, "MacDonald") and same(one, "M’Donald")
    assert same("MacKay", "McKay") and same("Mackenzie", "McKenzie")
    assert not same("Mack", "Mc K") and not same("Mack", "McK") and not same("Macey", "Mcey")
    assert not same("Mace", "Mce") and not same("Macy", "Mcy") and not same("Camacho", "Camcho")
    # M' is read as Mc in the first keys only: before other names (M'Baye) it still meets the name typed
    # without the apostrophe, through the folded keys, which keep it as typed
    assert same("M'Baye", "Mbaye") and same("M'Baye", "McBaye") and not same("Mbaye", "McBaye")
    assert same("MacDonald-Müller", "McDonald-Mueller")  # the folded keys read Mac as Mc too
    assert names.surname_key("M'Donald") == "mcdonald" and names.fold_match_keys("M'Donald", "")[0] == (
        "mdonald=mdonald"
    )


_SPELT = {"letter": 0, "plain": 1, "written": 2}
_NO_PAIRS = "bcfghklnprstvwxyz"  # no letter that starts or ends a written-out pair, and no m (Mac)


@settings(max_examples=500, deadline=None)
@given(data=st.data())
def test_each_letter_is_read_on_its_own_whichever_side_has_it(data: st.DataObject) -> None:
    """Two spellings of one name, each writing each of its letters ä ö ü ø å đ ð æ œ with the letter, plain
    or written out, in any part: they are the same surname unless some letter is written plain on one side
    and written out on the other (Müller-Djordjevic = Mueller-Đorđević = Muller-Đorđević, but not
    Mueller-Djordjevic = Muller-Dordevic: review, a letter on each side that the other wrote out was
    missed). Hyphens and spaces may fall anywhere. The match is symmetric."""
    count = data.draw(st.integers(1, 4))
    chunks = [data.draw(st.text(alphabet=_NO_PAIRS, min_size=1, max_size=4)) for _ in range(count + 1)]
    letters = [data.draw(st.sampled_from(sorted(TWO_WAY))) for _ in range(count)]
    sides = [[data.draw(st.sampled_from(sorted(_SPELT))) for _ in letters] for _ in range(2)]

    def spelt(choices: list[str]) -> str:
        out = chunks[0]
        for letter, choice, chunk in zip(letters, choices, chunks[1:], strict=True):
            written = (letter, *TWO_WAY[letter])[_SPELT[choice]]
            out += written + data.draw(st.sampled_from(["", "", "-", " "])) + chunk
        return out.title() if data.draw(st.booleans()) else out

    one, other = spelt(sides[0]), spelt(sides[1])
    expected = not any({a, b} == {"plain", "written"} for a, b in zip(*sides, strict=True))
    born = date(1980, 1, 1)
    first, second = (names.PersonKey.of(None, name, "Ian", born, None) for name in (one, other))
    assert names.same_surname(first, second) is expected, (one, other)
    assert names.same_surname(second, first) is expected
    assert names.folds_alike(first.fold_surname, second.fold_surname) is expected
    assert names.same_person(first, second) is expected


@settings(max_examples=300, deadline=None)
@given(one=_PAIRS_HEAVY, other=_PAIRS_HEAVY, data=st.data())
def test_matching_is_symmetric(one: str, other: str, data: st.DataObject) -> None:
    """Whatever the names (written-out pairs and letters written two ways, hyphens anywhere), the folded
    keys, and so the gate, the detectors and casework, match them both ways or neither."""
    one = "".join(
        data.draw(st.sampled_from([ch, ch, "ü", "đ", "æ", "-"])) if ch in "ud" else ch for ch in one
    )
    born = date(1980, 1, 1)
    first = names.PersonKey.of(None, one or "x", one or "x", born, None)
    second = names.PersonKey.of(None, other or "x", other or "x", born, None)
    assert names.folds_alike(first.fold_surname, second.fold_surname) == names.folds_alike(
        second.fold_surname, first.fold_surname
    )
    assert names.same_person(first, second) == names.same_person(second, first)


def test_the_hyphenated_examples_of_the_review() -> None:
    """Review: a name written with such a letter in one part and written out in the other, against one
    written the other way round in each part, was missed (neither side's pattern covered the other)."""
    born = date(1980, 1, 1)

    def same(one: str, other: str, forenames: tuple[str, str] = ("Ana", "Ana")) -> bool:
        first = names.PersonKey.of(None, one, forenames[0], born, None)
        second = names.PersonKey.of(None, other, forenames[1], born, None)
        assert names.same_person(first, second) == names.same_person(second, first)
        return names.same_person(first, second)

    assert same("Müller-Djordjevic", "Mueller-Đorđević") and same("Müller-Djordjevic", "Muller-Đorđević")
    assert same("Müller Djordjevic", "MUELLER-ĐORĐEVIĆ") and same("Sæbø-Hoey", "Saebo-Høy")
    assert same("Smith", "Smith", ("Jürgen Djordje", "Juergen Đorđe"))
    assert not same("Mueller-Djordjevic", "Muller-Dordevic")  # typed plain on both sides: as typed
    assert not same("Müller-Djordjevic", "Mueller-Dordevic")  # the dj is typed, the d typed plain
    assert not same("Hoey-Müller", "Hoy-Mueller") and not same("Smith", "Smith", ("Joe Jürgen", "Jo Juergen"))
    assert names.fold_match_keys("Müller-Djordjevic", "")[0] == "mullerdordevic=mu%llerd+jord+jevic"
    assert names.fold_match_keys("Mueller-Đorđević", "")[0] == "mullerdordevic=mu+ellerd%ord%evic"
