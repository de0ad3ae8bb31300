"""People's names as matched across registers: case, accents, letters outside the English alphabet
(transliterated: ł → l, ø → o), spacing, hyphens, apostrophes, Mc/Mac, common spelling variants and initials
tolerated; a name alone never decides (same_person wants a date of birth or postcode too). Used by the
pre-access gate and the monitoring detectors."""

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


# Transliterations where the English-language spelling differs from anyascii's: Serbian and Croatian đ is
# written dj in English (Djokovic, Djordjevic), anyascii gives d.
_OWN_SPELLING = str.maketrans({"đ": "dj"})


def _letters(value: str | None) -> str:
    """Case-folded, accents removed, other letters transliterated to the English alphabet (ł → l, ø → o,
    ı → i, æ → ae, ß → ss, þ → th, đ → dj; other scripts too: anyascii), apostrophes and full stops dropped,
    anything else a space. Accented letters are decomposed first (NFKD) and their marks dropped; what is still
    not ASCII after that — letters that have no decomposition, which would otherwise vanish and let "Wałęsa"
    be a different name from "Walesa" — goes through anyascii (ISC licence; Unidecode, which does the same,
    is GPL)."""
    folded = unicodedata.normalize("NFKD", (value or "").casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    if not plain.isascii():
        plain = anyascii(plain.translate(_OWN_SPELLING)).casefold()
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


def _canonical(token: str) -> str:
    if token.startswith("mc") and len(token) > 3:
        token = "mac" + token[2:]
    return VARIANTS.get(token, token)


def surname_key(value: str | None) -> str:
    """ "McDonald", "Mac Donald", "Mc-Donald" → "mcdonald"; "Smith-Jones" → "smithjones"; "O'Brien" →
    "obrien". The parts are run together first, so where a space or hyphen falls never changes the key;
    then a whole-surname spelling variant is taken (Mohammed → Muhammad) and every Mac is read as Mc."""
    joined = "".join(_letters(value).split())
    return VARIANTS.get(joined, joined).replace("mac", "mc")


def forename_tokens(value: str | None) -> tuple[str, ...]:
    return tuple(_canonical(token) for token in _letters(value).split())


def forenames_agree(first: PersonKey, second: PersonKey) -> bool:
    """The first forenames agree (same name after variants, or one is an initial of the other, as written
    or after variants: "K" is Karl's initial though Karl is matched as Carl), or the forenames run together
    are the same ("Anne Marie" / "Annemarie"). Middle names are not compared."""
    if not first.forenames or not second.forenames:
        return False
    a, b = first.forenames[0], second.forenames[0]
    if a == b:
        return True
    if len(a) == 1 and (b.startswith(a) or second.joined.startswith(a)):
        return True
    if len(b) == 1 and (a.startswith(b) or first.joined.startswith(b)):
        return True
    return first.joined == second.joined


@dataclass(frozen=True, slots=True)
class PersonKey:
    """A person as matched: ids as given, names normalised once (see surname_key, forename_tokens)."""

    subject_id: str | None
    surname: str
    forenames: tuple[str, ...]
    date_of_birth: date | None
    postcode: str | None
    joined: str = ""  # the forenames' letters run together, as given

    @staticmethod
    def of(
        subject_id: str | None,
        surname: str | None,
        forenames: str | None,
        date_of_birth: date | None,
        postcode: str | None,
    ) -> PersonKey:
        code = (normalise_postcode(postcode) or " ".join(postcode.split()).upper()) if postcode else None
        joined = _letters(forenames).replace(" ", "")
        return PersonKey(
            subject_id, surname_key(surname), forename_tokens(forenames), date_of_birth, code, joined
        )


def same_person(declared: PersonKey, subject: PersonKey) -> bool:
    """By id; or by name (variation tolerated, see above) with the same date of birth or postcode."""
    if declared.subject_id and declared.subject_id == subject.subject_id:
        return True
    if not declared.surname or declared.surname != subject.surname:
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
