"""People's names as matched across registers: case, accents, letters outside the English alphabet
(transliterated: ł → l, ß → ss; ä ö ü ø å đ æ œ in every English spelling: Müller = Muller = Mueller,
Ødegård = Odegaard = Oedegard, Đorđević = Djordjevic = Djordevic = Dordevic, Sæther = Saether = Sather),
spacing, hyphens, apostrophes, Mac/Mc/M' as one surname prefix (MacDonald = M'Donald, not Mack = Mc K),
common spelling variants and initials tolerated; a name alone never decides (same_person wants a date of
birth or postcode too). Used by the pre-access gate and the monitoring detectors."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from anyascii import anyascii

from custodes.kit.tabular import normalise_postcode

# Spelling variants of the same name, each mapped to its group's first spelling. Nicknames (Bob, Bill) are
# left out on purpose: with a date of birth or postcode also required, variants catch real duplicates
# without turning every Robert into a Bob.
_VARIANT_GROUPS = (
    "john jon jonn",
    "steven stephen stevan steffan",
    "mohammed muhammad mohamed mohammad muhammed mohamad mohammod muhamed mohummed",
    "catherine katherine kathryn catharine katharine cathryn katheryn",
    "sean shaun shawn shaune",
    "philip phillip philipp",
    "geoffrey jeffrey jeffery geoffery",
    "ann anne",
    "sara sarah",
    "elliot elliott eliot",
    "claire clare",
    "matthew mathew",
    "neil neal neale",
    "alan allan allen",
    "brian bryan",
    "carl karl",
    "lee leigh",
    "nicola nichola",
    "rachel rachael",
    "rebecca rebekah",
    "stuart stewart",
    "teresa theresa",
    "graham graeme grahame",
    "ian iain",
    "zoe zoey",
    "aaron aron",
    "jane jayne",
    "lindsay lindsey",
    "ashley ashleigh",
    "kirsty kirstie",
    "louise louisa",
    "david dafydd",
    "yusuf yousef yusef youssef",
    "abdul abdal",
    "mohammad mohd",
    "ahmed ahmad",
    "hussain hussein husain",
    "aleksander alexander aleksandr",
)
VARIANTS: dict[str, str] = {}
for _group in _VARIANT_GROUPS:
    _first, *_others = _group.split()
    canonical = VARIANTS.get(_first, _first)
    for _name in (_first, *_others):
        VARIANTS.setdefault(_name, canonical)

_DROP = re.compile(r"['’`.]")
_SPLIT = re.compile(r"[^a-z]+")


# Letters English writes two ways: German (and Turkish, Hungarian...) ä ö ü with the marks dropped (Muller)
# or written out as ae oe ue (Mueller); Danish and Norwegian ø as o or oe (Sorensen, Soerensen) and å as a or
# aa (Hakon, Haakon; Swedish å too); Serbian and Croatian đ as d (Dordevic; anyascii's, and Vietnamese Đinh
# is Dinh) or as dj (Djordjevic, Djokovic). Icelandic ð is taken as đ too: its capital Ð looks the same as Đ
# and is often typed for it. Danish, Norwegian and Icelandic æ is the letter Swedish and German write ä, and
# is taken as ä is: a or ae (Sæther, Saether, and Sather, as Peder Sæther wrote it in California; Sæbø =
# Saebo = Sabo); œ (French, Bœuf) as ö: o or oe. Never e for either: Cæsar as Cesar is a word's spelling,
# not a name's. (ß is always ss, as `_letters` gives it: one spelling.)
# The only place these rules live: the first keys drop the marks (`_letters`); a part of a name holding one
# of these letters also has an "other" spelling, every such letter written out (`_other_letters`); and every
# name has folded keys (`fold_match_keys`), which mark which of its letters are written two ways. That is
# decided letter by letter, never for a whole name part (nor a whole word): a letter written as one of
# these may be written on the other side plain or with its written-out second letter (ü as u or ue, đ as d
# or dj), the letters are compared folded (each written-out pair, ae oe ue aa dj, read as its plain letter),
# and every other letter, of either name, as typed; whichever side has the letter, so each part of a
# name is read on its own (Müller-Djordjevic = Mueller-Đorđević: folds_alike). So every mix of the
# spellings matches the name written with the letters (Đorđević = Djordevic = Dordjevic, Ødegård =
# Odegaard, Hoey-Müller = Hoey-Mueller), and where a space or hyphen falls does not matter, while letters
# typed plain are compared as typed, even beside such a letter: Mueller and Muller, Djordjevic and Dordevic,
# Joe and Jo, Michael and Michal, Hoey and Hoy, Adjei and Adei stay apart ("Joe Jürgen" is not "Jo Jurgen",
# "Hoey-Müller" not "Hoy-Muller"; a general fold would refer every Joe looking up his sister Jo).
_TWO_WAYS = frozenset("äöüøåđðæœ")
_WRITTEN_OUT_PAIRS = {
    "ä": "ae", "ö": "oe", "ü": "ue", "ø": "oe", "å": "aa", "đ": "dj", "ð": "dj", "æ": "ae", "œ": "oe"
}  # fmt: skip
# The plain letter of the letters written two ways that have no accent to drop (ø đ ð are anyascii's o d d).
_PLAIN = str.maketrans({"æ": "a", "œ": "o"})
_WRITTEN_OUT = str.maketrans(_WRITTEN_OUT_PAIRS)
# Each written-out pair starts with the letter `_letters` gives (ä → a, ø → o, đ → d, æ → a; tested), so
# folding one is dropping its second letter.
_FOLDED_PAIRS = tuple(sorted(set(_WRITTEN_OUT_PAIRS.values())))


def fold(key: str) -> str:
    """`key` (letters) with every written-out pair (ae oe ue aa dj) read as its plain letter, until none is
    left: "mueller" → "muller", "djordjevic" → "dordevic", "oedegaard" → "odegard". The pairs' rewriting has
    one result whatever the order ("aae" → "a" either way), so the fold is well defined and idempotent.
    The folded keys (_fold_key) compare names so folded only where a letter is written two ways."""
    while True:
        folded = key
        for pair in _FOLDED_PAIRS:
            folded = folded.replace(pair, pair[0])
        if folded == key:
            return key
        key = folded


def _other_letters(value: str | None) -> str:
    """The letters of `value` in its other spelling (ä ö ü ø å æ œ as ae oe ue oe aa ae oe, đ as dj: see
    _TWO_WAYS), or "" when it has no letter English writes two ways (casefolded and composed first, so "Ü"
    and "u" + a combining diaeresis count)."""
    if not value or value.isascii():
        return ""
    composed = unicodedata.normalize("NFC", value.casefold())
    if _TWO_WAYS.isdisjoint(composed):
        return ""
    return _letters(composed.translate(_WRITTEN_OUT))


def _letters(value: str | None) -> str:
    """Case-folded, accents removed, other letters transliterated to the English alphabet (ł → l, ø → o,
    ı → i, æ → a, œ → o, ß → ss, þ → th, đ → d; other scripts too: anyascii), apostrophes and full stops
    dropped, anything else a space. Accented letters are decomposed first (NFKD) and their marks dropped;
    æ and œ are read as their plain letters (a, o: _TWO_WAYS); what is still not ASCII after that — letters
    that have no decomposition, which would otherwise vanish and let "Wałęsa" be a different name from
    "Walesa" — goes through anyascii (ISC licence; Unidecode, which does the same, is GPL)."""
    folded = unicodedata.normalize("NFKD", (value or "").casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    if not plain.isascii():
        plain = plain.translate(_PLAIN)
    if not plain.isascii():
        plain = anyascii(plain).casefold()
    return " ".join(_SPLIT.split(_DROP.sub("", plain))).strip()


# What search screens take as wildcards: `*` and `%` for any run of letters, `?` and `_` for one.
WILDCARDS = frozenset("*?%_")
# A name that reduces to nothing ("*", "-", "?") or to part of itself ("Nig*") would match nobody, and so
# let a search for a declared person through (or a declaration never refer): refused where names come in.
NAME_RULE = "must contain letters; wildcards are not accepted"


def usable_name(value: str | None) -> bool:
    """A name that can be matched: it has letters once folded (see `_letters`; an initial, `N` or `N.`, is
    enough), and no wildcard, which would be matched as a literal and so match nobody ("Nig*" is "nig")."""
    return bool(_letters(value)) and not WILDCARDS.intersection(value or "")


# Mac, Mc and M' (MacDonald, McDonald, Mc Donald, Mc-Donald, M'Donald): one prefix, read as "mc", but only
# at the start of a name part and only before the rest of a name of at least three letters, so that names
# which merely begin with those letters keep them: Mack, Macey, Mace, Macy, Macon are not Mac- names
# ("Mack" is not "Mc K", "Macey" not "Mcey"), while MacKay = McKay, Mackenzie = McKenzie (the same names).
# Where Mac or Mc is written apart from the rest (Mac Donald, Mc-Donald) the surname reads them together;
# a forename token is read on its own. M' (M'Donald; ’ ‘ ` too) is read as Mc in the first keys only: the
# folded keys keep it as typed, apostrophe dropped, so M'Baye still meets Mbaye (kit.names._fold_key).
# The only place this rule lives.
_MAC_IN_SURNAME = re.compile(r"(^| )ma?c ?(?=(?:[a-z]%?){3})")
_MAC_IN_TOKEN = re.compile(r"^ma?c(?=[a-z]{3})")
_M_APOSTROPHE = re.compile(r"(?<![^\W\d_])m\s*['’‘`]\s*(?=[^\W\d_]{3})", re.IGNORECASE)


def _mac_as_mc(letters: str) -> str:
    """A surname's letters (as `_letters` gives them, parts apart) with a Mac or Mc prefix as "mc":
    "mac donald" → "mcdonald", "smith macrae" → "smith mcrae"; "mack", "macey" as they are."""
    return _MAC_IN_SURNAME.sub(r"\1mc", letters)


def _m_apostrophe_as_mc(value: str | None) -> str | None:
    """`value` with an M' prefix written Mc ("M'Donald" → "McDonald"), for the first keys only (see
    _MAC_IN_SURNAME)."""
    return _M_APOSTROPHE.sub("mc", value) if value and "m" in value.casefold() else value


def _canonical(token: str) -> str:
    token = _MAC_IN_TOKEN.sub("mc", token)
    return VARIANTS.get(token, token)


def surname_key(value: str | None) -> str:
    """ "McDonald", "MacDonald", "Mac Donald", "Mc-Donald", "M'Donald" → "mcdonald" (but "Mack" → "mack":
    see _MAC_IN_SURNAME); "Smith-Jones" → "smithjones"; "O'Brien" → "obrien". The parts are run together,
    so where a space or hyphen falls never changes the key; then a whole-surname spelling variant is taken
    (Mohammed → Muhammad)."""
    return _surname_of(_letters(_m_apostrophe_as_mc(value)))


def _surname_of(letters: str) -> str:
    joined = "".join(_mac_as_mc(letters).split())
    return VARIANTS.get(joined, joined)


def folded_surname_key(value: str | None) -> str:
    """The surname's letters run together and folded ("Mueller", "Müller", "Muller" → "muller";
    "Hoey-Müller" → "hoymuller"; see fold): what the folded keys of two surnames that may match share
    (same_surname decides), for finding candidates."""
    return _folded_part(_surname_fold_key(value))


def _spelled(value: str | None) -> str:
    """`value`'s letters as `_letters` gives them, each letter that English writes two ways followed by "%"
    ("Hoey-Müller" → "hoey mu%ller", "Đorđe" → "d%ord%e"): which letters, and only those, may be written
    out on the other side. Letter by letter (casefolded and composed first, so "Ü" and "u" + a combining
    diaeresis count); if that ever gave other letters than the whole name does, the name is taken as having
    no such letter (compared as typed), never as having more."""
    letters = _letters(value)
    if not value or value.isascii():
        return letters
    composed = unicodedata.normalize("NFC", value.casefold())
    pieces = []
    for ch in composed:
        piece = _letters(ch)
        if not piece and not _DROP.fullmatch(ch) and not unicodedata.combining(ch):
            piece = " "  # a separator, as `_letters` reads it
        pieces.append(f"{piece}%" if piece and ch in _TWO_WAYS else piece)
    spelled = " ".join("".join(pieces).split())
    return spelled if spelled.replace("%", "") == letters else letters


# In a folded key, a letter the fold drops (the second letter of a written-out pair, typed: the "e" of
# Mueller, the "j" of Djordjevic) is written after this mark ("mu+eller"), so that SQL can read the key
# three ways with replace() alone: as typed (marks and "%" taken out: FOLD_TYPED), as a pattern where each
# letter written two ways may be written out (FOLD_PATTERN: "mu%ller"), and as a looser pattern where a
# written-out second letter may be missing too (FOLD_LOOSE: "mu+eller" as "mu%ller"), for names that each
# write a letter two ways (folds_alike). "+" is no letter, no LIKE wildcard and no escape.
_DROPPED_MARK = "+"
# (old, new) rewrites, applied in order, that SQL (detectors.py, casework.py) and folds_alike apply to a key.
FOLD_TYPED: tuple[tuple[str, str], ...] = (("%", ""), (_DROPPED_MARK, ""))
FOLD_PATTERN: tuple[tuple[str, str], ...] = ((_DROPPED_MARK, ""),)
FOLD_LOOSE: tuple[tuple[str, str], ...] = tuple(
    (f"{_DROPPED_MARK}{second}", "%") for second in sorted({pair[1] for pair in _FOLDED_PAIRS})
)


def rewritten(key: str, rewrites: tuple[tuple[str, str], ...]) -> str:
    """`key` with FOLD_TYPED, FOLD_PATTERN or FOLD_LOOSE applied, as SQL's nested replace() applies them."""
    for old, new in rewrites:
        key = key.replace(old, new)
    return key


def _fold_key(spelled: str) -> str:
    """The folded key of letters `spelled` (see _spelled), run together: "folded=letters". The letters
    folded (fold: Mueller as "muller"), "=", then the letters as typed with "%" after each written two ways
    (T, which SQL LIKE reads as any letters) and "+" before each letter the fold drops, the second letter of
    a written-out pair (W): "Müller" → "muller=mu%ller", "Mueller" → "muller=mu+eller", "Muller" →
    "muller=muller", "Hoey-Müller" → "hoymuller=ho+eymu%ller", "Djordevic" → "dordevic=d+jordevic".
    Each letter of the folded letters is so, on each side, plain (P), written out (W) or written with
    one of those letters (T, either); folds_alike says when two keys match. Spelling variants are left
    to the first keys: rewriting the letters would move them against the marks (a surname's Mac or Mc
    prefix, which holds no such letter, is read as "mc" first: _surname_fold_key)."""
    letters = "".join(spelled.split())
    marked, kept = [], ""
    for ch in letters:  # the fold, letter by letter: a letter after which `ch` makes a pair drops `ch`
        if ch != "%" and kept and kept + ch in _FOLDED_PAIRS:
            marked.append(_DROPPED_MARK)
        elif ch != "%":
            kept = ch
        marked.append(ch)
    return f"{fold(letters.replace('%', ''))}={''.join(marked)}"


def _surname_fold_key(value: str | None) -> str:
    """The surname's folded key: its letters, a Mac or Mc prefix read as "mc" (as in the first keys, so
    MacDonald-Müller meets McDonald-Mueller), an M' as typed (see _MAC_IN_SURNAME)."""
    return _fold_key(_mac_as_mc(_spelled(value)))


def _folded_part(key: str) -> str:
    return key.partition("=")[0]


def _like(value: str, pattern: str) -> bool:
    """SQL's `value LIKE pattern` for these keys (letters and "="; "%" any run of characters)."""
    return re.fullmatch(".*".join(map(re.escape, pattern.split("%"))), value, re.DOTALL) is not None


def folds_alike(first: str, second: str) -> bool:
    """Two folded keys (`_fold_key`) match (detectors.py and casework.py compare the stored keys so): one,
    as typed (FOLD_TYPED), LIKE the other as a pattern (FOLD_PATTERN); or, where each writes some letter
    two ways (each holds a "%"), each as typed LIKE the other as a loose pattern (FOLD_LOOSE). The "="
    makes LIKE match the folded letters whole, so they are the same; and then, letter by letter, a letter
    written with one of the letters English writes two ways (ä ö ü ø å đ ð æ œ) on either side may be
    plain or written out on the other, while a letter typed plain on one side and written out on the
    other keeps them apart: "Hoey-Mueller" and "Hoey Muller" match "Hoey-Müller", "Hoy-Muller" does not
    (Hoey's "e" is typed, Hoy has none), nor "Jo" "Joe Jürgen", nor Mueller Muller. Each letter is read on
    its own, whichever side has it, so each part of a name is too: Müller-Djordjevic matches
    Mueller-Đorđević and Muller-Đorđević (review: neither side's pattern covered the other, and such a
    name was missed). Two names typed plain throughout are compared as typed; where each has a letter
    written two ways, two different written-out letters after the same letter are not told apart (the
    loose pattern reads both as "%": Maas-Müller meets Maes-Müller, though Maas does not meet Maes; a rare
    mix, accepted). Symmetric."""
    typed_first, typed_second = rewritten(first, FOLD_TYPED), rewritten(second, FOLD_TYPED)
    if _like(typed_second, rewritten(first, FOLD_PATTERN)) or _like(
        typed_first, rewritten(second, FOLD_PATTERN)
    ):
        return True
    return (
        "%" in first
        and "%" in second
        and _like(typed_first, rewritten(second, FOLD_LOOSE))
        and _like(typed_second, rewritten(first, FOLD_LOOSE))
    )


def surname_keys(value: str | None) -> tuple[str, ...]:
    """The surname's keys: `surname_key`, and the key of its other spelling when it has letters English
    writes two ways ("Müller" → ("muller", "mueller"); "Đorđević" → ("dordevic", "djordjevic")). Its mixed
    spellings are matched through their folded keys (same_surname)."""
    first, other = surname_key(value), _surname_of(_other_letters(value))
    return (first, other) if other and other != first else (first,)


def forename_tokens(value: str | None) -> tuple[str, ...]:
    return _tokens_of(_letters(value))


def _tokens_of(letters: str) -> tuple[str, ...]:
    return tuple(_canonical(token) for token in letters.split())


def _forenames_agree(a: tuple[str, ...], a_joined: str, b: tuple[str, ...], b_joined: str) -> bool:
    if not a or not b:
        return False
    x, y = a[0], b[0]
    if x == y:
        return True
    if len(x) == 1 and (y.startswith(x) or b_joined.startswith(x)):
        return True
    if len(y) == 1 and (x.startswith(y) or a_joined.startswith(y)):
        return True
    return a_joined == b_joined


def forenames_agree(first: PersonKey, second: PersonKey) -> bool:
    """The first forenames agree (same name after variants, or one is an initial of the other, as written
    or after variants: "K" is Karl's initial though Karl is matched as Carl), or the forenames run together
    are the same ("Anne Marie" / "Annemarie"). Middle names are not compared. Or the first forenames, or
    the forenames run together, match by their folded keys (folds_alike): a letter written with one of the
    letters English writes two ways is read either way, the others as typed ("Jürgen" agrees with "Jurgen"
    and "Juergen", "Đorđe" with "Djorde"; "Joe Jürgen" not with "Jo" or "Jo Jurgen"; see _TWO_WAYS)."""
    if _forenames_agree(first.forenames, first.joined, second.forenames, second.joined):
        return True
    return bool(first.forenames and second.forenames) and (
        folds_alike(first.fold_forename, second.fold_forename)
        or folds_alike(first.fold_joined, second.fold_joined)
    )


def same_surname(first: PersonKey, second: PersonKey) -> bool:
    """The same surname: the same key, or matching folded keys (folds_alike), where a letter written with
    one of the letters English writes two ways is read either way, the others as typed (Müller = Mueller =
    Muller; Đorđević = Djordevic; Hoey-Müller = Hoey-Mueller; but Mueller ≠ Muller, Hoey-Müller ≠
    Hoy-Muller: see _TWO_WAYS)."""
    if not first.surname:
        return False
    if first.surname == second.surname:
        return True
    return folds_alike(first.fold_surname, second.fold_surname)


@dataclass(frozen=True, slots=True)
class PersonKey:
    """A person as matched: ids as given, names normalised once (see surname_key, forename_tokens)."""

    subject_id: str | None
    surname: str
    forenames: tuple[str, ...]
    date_of_birth: date | None
    postcode: str | None
    joined: str = ""  # the forenames' letters run together, as given
    # The same in the name's other spelling, where it has letters English writes two ways (Müller:
    # surname "muller", other_surname "mueller"; Đorđević: "dordevic", "djordjevic"); empty where it has
    # none.
    other_surname: str = ""
    other_forenames: tuple[str, ...] = ()
    other_joined: str = ""
    # The folded keys (_fold_key, folds_alike) of the surname, the first forename and the forenames run
    # together: Mueller "muller=mu+eller", Müller "muller=mu%ller", Hoey-Müller "hoymuller=ho+eymu%ller".
    fold_surname: str = ""
    fold_forename: str = ""
    fold_joined: str = ""

    @staticmethod
    def of(
        subject_id: str | None,
        surname: str | None,
        forenames: str | None,
        date_of_birth: date | None,
        postcode: str | None,
    ) -> PersonKey:
        code = (normalise_postcode(postcode) or " ".join(postcode.split()).upper()) if postcode else None
        first_surname = _m_apostrophe_as_mc(surname)  # M' as Mc in the first keys (see _MAC_IN_SURNAME)
        letters, surname_letters = _letters(forenames), _letters(first_surname)
        other_surname, other_forenames = _other_letters(first_surname), _other_letters(forenames)
        joined = letters.replace(" ", "")
        spelled = _spelled(forenames)
        return PersonKey(
            subject_id,
            _surname_of(surname_letters),
            _tokens_of(letters),
            date_of_birth,
            code,
            joined,
            _surname_of(other_surname) if other_surname else "",
            _tokens_of(other_forenames) if other_forenames else (),
            other_forenames.replace(" ", ""),
            _surname_fold_key(surname),
            _fold_key(spelled.split()[0] if spelled else ""),
            _fold_key(spelled),
        )


def same_person(declared: PersonKey, subject: PersonKey) -> bool:
    """By id; or by name (variation tolerated, see above) with the same date of birth or postcode."""
    if declared.subject_id and declared.subject_id == subject.subject_id:
        return True
    if not same_surname(declared, subject):
        return False
    if not forenames_agree(declared, subject):
        return False
    same_birth = declared.date_of_birth is not None and declared.date_of_birth == subject.date_of_birth
    return same_birth or (declared.postcode is not None and declared.postcode == subject.postcode)


def match_keys(surname: str | None, forenames: str | None) -> tuple[str, str, str]:
    """(surname key, first forename key, forenames run together) as `same_person` compares them: what the
    monitoring detectors store so that the same matching runs as a relational join."""
    key = PersonKey.of(None, surname, forenames, None, None)
    return key.surname, key.forenames[0] if key.forenames else "", key.joined


def fold_match_keys(surname: str | None, forenames: str | None) -> tuple[str, str, str]:
    """The folded keys (see _fold_key) of the surname, the first forename and the forenames run together:
    "Mueller", "Jürgen Hans" → ("muller=mu+eller", "jurgen=ju%rgen", "jurgenhans=ju%rgenhans"). Stored
    beside `match_keys`, for every name; matched by LIKE as folds_alike says."""
    key = PersonKey.of(None, surname, forenames, None, None)
    return key.fold_surname, key.fold_forename, key.fold_joined


def other_match_keys(surname: str | None, forenames: str | None) -> tuple[str, str, str]:
    """The same keys for the name's other spelling (see _TWO_WAYS): the surname's where it has letters
    English writes two ways, the forenames' where they have, "" for a part that has none ("Müller", "Hans"
    → ("mueller", "", ""); "Đorđević", "Đorđe" → ("djordjevic", "djordje", "djordje"); "Søren" →
    "soeren"). Stored beside `match_keys` (a part that has one holds a letter written two ways); which
    letters are is in the folded keys (fold_match_keys), which match them."""
    key = PersonKey.of(None, surname, forenames, None, None)
    return key.other_surname, key.other_forenames[0] if key.other_forenames else "", key.other_joined
