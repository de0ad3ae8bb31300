"""Text checks for the disclosure rules: what may never reach a scheme member (K10 8.3–8.5) in free text.

Every finder reads one free-text field and returns `TextHit`s (the words as written, and why they matched)
in text order; a hit lying wholly inside another is dropped. All regexes are compiled once, bounded and free
of nested unbounded repetition, so several KB of arbitrary text is checked in linear time.

Decisions
- Address (K10 8.3, `find_address`):
  * a full UK postcode in any case, with or without its space (`ME14 1XX`, `me141xx`); the inward letters
    must be valid (no C I K M O V), so "the M6 2pm" is not a postcode. A bare outward code ("seen in the
    ME14 area") is a district of thousands of homes, not an address, and does not fire.
  * a house number and a street: "12 Acacia Avenue", "14a Mill Road", "Flat 3, 21 High St", "No. 5 The
    Green", "12-14 Bank St". Unambiguous street words (Road, Street, Avenue, Lane, Crescent, Mews...) match in
    any case; street words that are also ordinary English (Close, Drive, Way, Park, Green, Court...) only
    when written with a capital. Up to three name words may sit between number and street word, but not
    little words (on, in, at, of...) or units ("2 men on Station Road", "30 mph road", "3 times near High
    Street" do not fire). Whose address it is cannot be known, so a shop's "12 High Street" fires too: the
    officer sees the excerpt and writes "High Street" instead. A flat or apartment number fires on its own.
  * where someone lives: "lives at/resides at ..." (but not "lives at home"), and "lives/resides in/on/off"
    followed by a street or an estate ("lives on Station Road"); "lives in Maidstone" or "lives locally"
    names only a town or area and does not fire. "Home/current/last known address is/: <Capital or digit>".
  * a street named without a house number ("seen on Station Road CCTV", "High Street branch of Boots") is
    where something happened, not an address, and does not fire.
- Previous convictions (K10 8.4, `find_previous_convictions`): convictions (counted, qualified, possessed,
  "conviction for/in 2019", "convicted ..."), "pre-cons", "has previous/form for", criminal record or
  history, what the PNC record shows, cautions, reprimands and final warnings as outcomes, sentences
  (prison, suspended, community), "sentenced", "served time", "released from prison", "on licence",
  "pleaded/found guilty", court disposals. Also the way officers say it: "14 previous for shoplifting",
  "got 6 months for theft", "did 2 years inside", "spent 18 months in prison", "was sent down", "doing
  time", "11 offences on his record", "registered sex offender" (and the register, SHPO, criminal behaviour
  order), a court appearance ("appeared at Maidstone Magistrates", "up before the magistrates") and "fined
  at court / for <offence>". Reporting that there are none ("no previous convictions") still
  fires: it is record information all the same. Belief ("spoke with conviction", "a conviction that",
  "religious convictions"), the PACE caution at arrest ("arrested and cautioned"), "exercise caution" and an
  indication of likely offending ("may engage in shop theft in your area") do not fire; nor do a time
  ("seen 6 months ago", "spent 3 days in hospital", "got 6 months for the refit"), a previous address or
  incident, or a fine that is not a court's ("fined by the parking authority").
- PNC warning signals (K10 8.5, `find_pnc_warning_signals`): wording about a marker, signal or flag: "warning
  signal(s)/marker(s)", "PNC warning/marker/flag", "flagged as violent (on PNC)", "has a weapons marker",
  "marker: FI", "WS: VI/WE", "PNC: FI, WE", "markers for violence and weapons", "PNC ... violent" within
  one clause, and "Warning: violent" when the signal names end the clause ("Warning: violent towards staff"
  describes behaviour and does not fire). The standard signals are alleges (AG),
  ailment (AT), contagious (CO), drugs (DR), escaper (ES), explosives (EX), female / male impersonator
  (IF / IM), firearms (FI), mental health (MH, XM, XP), self-harm (SH), suicidal (SU), violent (VI), weapons
  (WE); two-letter codes count only in capitals after a marker word. Describing behaviour or what was seen
  ("was seen with a weapon in the store", "violent towards staff", "known to carry a knife") is
  intelligence, not a PNC signal, and does not fire: it belongs in the risk assessment and warning phrase.
- Danger warning (K10 8.5, `find_danger_warning`): a "do not approach / confront / challenge" clause and a
  "call / phone / dial / contact ... police / 999" clause within 80 characters of each other, either order.
- `mentions`: token-wise, ignoring case, accents, punctuation, apostrophes and spacing; street abbreviations
  are folded (Rd = Road, St = Street, Ave = Avenue, ...) and a postcode matches with or without its space.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from custodes.kit.tabular import normalise_postcode

__all__ = [
    "TextHit",
    "find_address",
    "find_danger_warning",
    "find_pnc_warning_signals",
    "find_previous_convictions",
    "mentions",
    "normalise_postcode",
]

ADDRESS, PREVIOUS_CONVICTIONS, PNC_WARNING_SIGNALS = "address", "previous_convictions", "pnc_warning_signals"


@dataclass(frozen=True, slots=True)
class TextHit:
    check: str  # "address" | "previous_convictions" | "pnc_warning_signals"
    excerpt: str  # the matched words, as they appear in the text
    why: str  # plain English, for the officer


_Rule = tuple[re.Pattern[str], str]
_I = re.IGNORECASE


def _alt(words: Iterable[str]) -> str:
    return "|".join(words)


def _capitalised(words: Iterable[str]) -> str:
    """Title Case or UPPER CASE only: for street words that are also ordinary English."""
    return _alt(form for word in words for form in (word, word.upper()))


# --------------------------------------------------------------------------- addresses

_OUTWARD = r"[A-PR-UWYZ](?:[0-9][0-9A-HJKPSTUW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
_INWARD = r"[0-9][ABD-HJLNP-UW-Z]{2}"
_POSTCODE = re.compile(rf"(?<![A-Za-z0-9]){_OUTWARD}[ \t\u00a0]{{0,2}}{_INWARD}(?![A-Za-z0-9])", _I)

_STRONG_STREET = (
    "road|rd|street|st|avenue|ave|lane|ln|crescent|cres|terrace|terr|tce|mews|grove|boulevard|blvd|"
    "gdns|cl|ct|pl|sq|pde"
)
_WEAK_STREET = _capitalised(
    [
        "Close",
        "Drive",
        "Dr",
        "Way",
        "Court",
        "Place",
        "Hill",
        "Park",
        "Square",
        "Walk",
        "Row",
        "Rise",
        "View",
        "Green",
        "Parade",
        "Vale",
        "Wharf",
        "Yard",
        "Gate",
        "End",
        "Fields",
        "Meadow",
        "Meadows",
        "Heights",
        "Chase",
        "Croft",
        "Mount",
        "Gardens",
        "Villas",
        "Cottages",
        "Quay",
        "Circus",
        "Orchard",
        "Ridge",
        "Approach",
        "Hollow",
        "Wood",
        "Crossway",
    ]
)
_STREET = rf"(?:(?i:{_STRONG_STREET})|{_WEAK_STREET})\b"
_LITTLE = (
    "in|on|at|of|the|a|an|from|near|by|to|outside|inside|into|onto|and|or|but|with|for|off|opposite|behind|"
    "towards?|along|past|via|across|around|between|beside|next|is|was|were|are|has|had|have|be|been|he|she|"
    "they|it|his|her|their|its|this|that|these|those|who|which|when|where|while|then|than|times?|minutes?|"
    "mins?|hours?|hrs?|days?|weeks?|months?|years?|yards?|yds|metres?|meters?|m|miles?|feet|foot|ft|km|mph|"
    "people|persons?|men|women|males?|females?|youths?|children|kids|items?|bottles?|cans|packs?|occasions?|"
    "visits?|incidents?|other|different|separate|more|less|about|approx|approximately|over|under|aged?|"
    "car|main|side|back|rear|front|bus|fast|slow|dual|busy|quiet|same|every|each|all|some|any|no"
)
_NAME_WORD = rf"(?!(?i:{_LITTLE})\b)[A-Za-z][A-Za-z'’-]{{0,29}}"
_HOUSE_NUMBER = (
    r"(?<![\w£$€.,:/\-–])(?:(?:No\.?|Number|NUMBER)[ \t]*)?(?!(?:19|20)[0-9]{2}\b)[0-9]{1,4}[A-Za-z]?"
    r"(?:[ \t]*[-–/][ \t]*[0-9]{1,4}[A-Za-z]?)?,?"
)
_HOUSE_AND_STREET = re.compile(
    rf"{_HOUSE_NUMBER}[ \t]+(?:(?:The|THE)[ \t]+(?:{_NAME_WORD}[ \t]+){{0,2}}|(?:{_NAME_WORD}[ \t]+){{1,3}})"
    rf"{_STREET}"
)
_NOT_AN_ADDRESS = re.compile(r"\bcar\s+park$", _I)
_FLAT = re.compile(
    r"\b(?:(?i:flat|apartment|apt|maisonette|bedsit)\.?[ \t]*(?:no\.?[ \t]*)?[0-9]{1,4}[A-Za-z]?\b"
    r"|(?:Flat|FLAT|Apartment)[ \t]+[A-Z](?=[ \t]*,))"
)
_RESIDES = (
    r"\b(?i:lives|live|living|lived|resides|reside|residing|resided|dwells|dwelling|(?:his|her|their)\s+home\s+is)"
    r"(?:[ \t]+(?!(?i:at|in|on|off)\b)[^\s.;,]+){0,5}?[ \t]+"
)
_CLAUSE = r"(?:[ \t,]*(?!(?i:and|but|where|who|with|since|when|while|whilst|although|so)\b)[^\s.;,]+){1,8}"
_LIVES_AT = re.compile(
    rf"{_RESIDES}(?i:at)[ \t]+"
    r"(?!(?i:home|least|times|present|the\s+(?:same|scene|time|moment)|an?\s+(?:unknown|address)|no\s+fixed)\b)"
    rf"{_CLAUSE}"
)
_LIVES_ON = re.compile(
    rf"{_RESIDES}(?i:in|on|off)[ \t]+(?:(?i:the)[ \t]+)?(?:{_NAME_WORD}[ \t]+){{1,3}}"
    rf"(?:{_STREET}|(?i:estate)\b)"
)
_ADDRESS_IS = re.compile(
    r"\b(?:(?i:home|current|last[ \t]+known|registered|residential|postal|usual|his|her|their|subject['’]?s)"
    r"[ \t]+)?(?<!(?i:email) )(?<!(?i:e-mail) )(?<!IP )(?<!(?i:web) )(?i:address)"
    r"[ \t]*(?:(?i:is|was|being)[ \t]+|[:=\-–][ \t]*)"
    r"(?!(?i:n/?a|nfa|not|unknown|none|withheld|tbc|tba|held|on\s+file)\b)(?=[A-Z0-9])"
    rf"{_CLAUSE}"
)
_ADDRESS_RULES: tuple[_Rule, ...] = (
    (_POSTCODE, "looks like a UK postcode"),
    (_HOUSE_AND_STREET, "looks like a house number and street"),
    (_FLAT, "looks like a flat or apartment number"),
    (_LIVES_AT, "says where the person lives"),
    (_LIVES_ON, "says which street the person lives on"),
    (_ADDRESS_IS, "gives an address"),
)

# --------------------------------------------------------------------------- previous convictions

_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|[0-9]{1,3}"
_COUNTED = (
    r"previous|prior|past|earlier|former|spent|unspent|recorded|relevant|outstanding|existing|criminal|"
    r"numerous|multiple|several|many|various|repeated|similar|related|recent|last|latest|first|only|"
    r"most\s+recent|a\s+(?:number|string|list|series|history|record)\s+of|dozens\s+of|a\s+few|a\s+couple\s+of|"
    rf"PNC|court|{_NUMBER_WORDS}"
)
_OFFENCE_KIND = (
    r"theft|shoplifting|shop\s+theft|drugs?|violence|violent|assault|burglary|robbery|driving|motoring|"
    r"dishonesty|fraud|sexual|public\s+order|weapons?|firearms?|criminal|previous|prior|similar|related|"
    r"relevant|recorded|court"
)
_NEXT_WORD = r"(?:[ \t]+[^\s.;,]+)"
_CONVICTION_RULES: tuple[_Rule, ...] = tuple(
    (re.compile(pattern, _I), why)
    for pattern, why in (
        (
            rf"\b(?:{_COUNTED})[ \t]+(?:(?:{_OFFENCE_KIND})[ \t]+)?convictions?\b"
            rf"(?:[ \t]+(?:for|of|in|at){_NEXT_WORD})?",
            "mentions previous convictions",
        ),
        (r"\bpre[- ]?cons?\b|\bprevious[ \t]+cons?\b", "mentions previous convictions (pre-cons)"),
        (
            rf"\bconvictions?[ \t]+(?:for{_NEXT_WORD}|in[ \t]+(?:19|20)[0-9]{{2}}|dating[ \t]+back|"
            r"going[ \t]+back|history|record|list|count|include[sd]?|relat(?:e|es|ing)[ \t]+to|"
            r"was[ \t]+(?:for|in|at|quashed|overturned|spent)|"
            r"at[ \t]+(?:[^\s.;,]+[ \t]+){0,3}?(?:crown|magistrates['’]?|youth|county)[ \t]+court)",
            "mentions a conviction",
        ),
        (
            r"\b(?:his|her|their|subject['’]?s|whose)[ \t]+convictions?\b(?![ \t]+that\b)",
            "mentions the person's convictions",
        ),
        (
            r"\b(?:on|upon|after|following|since|before|prior[ \t]+to|pending|until)[ \t]+"
            r"(?:(?:his|her|their|a|the)[ \t]+)?conviction\b(?![ \t]+that\b)",
            "mentions a conviction",
        ),
        (
            r"\b(?:has|had|have|having|got)[ \t]+(?:(?:a|no|any)[ \t]+conviction\b|(?:(?:no|any)[ \t]+)?"
            r"convictions\b)(?![ \t]+that\b)",
            "mentions convictions",
        ),
        (
            r"\b(?:re-?)?convicted\b(?:[ \t]+(?:of|for|in|at|on|by|as)\b)?(?:[ \t]+[^\s.;,]+)?",
            "says the person was convicted",
        ),
        (r"\bex[- ]?con(?:vict)?s?\b", "says the person is an ex-convict"),
        (
            r"\b(?:criminal|offending|conviction|convictions|PNC)[ \t]+(?:record|records|history|past|"
            r"antecedents|background)\b|\bantecedents\b|\bantecedent[ \t]+history\b|"
            r"\bCRO[ \t]*(?:no|number|ref)\b",
            "mentions a criminal record",
        ),
        (
            r"\b(?:has|had|got|with|having)[ \t]+(?:a|an)[ \t]+(?:(?:long|lengthy|extensive|substantial|"
            r"criminal|police|previous|prior|PNC)[ \t]+)+record\b|\b(?:has|had|got)[ \t]+a[ \t]+record[ \t]+"
            r"(?:for|as[ \t]+long)\b|\b(?:has|had|have|got)[ \t]+(?:got[ \t]+)?(?:(?:a[ \t]+lot|lots|plenty)"
            r"[ \t]+of[ \t]+)?(?:previous|form)[ \t]+for\b|"
            r"\bhas[ \t]+(?:got[ \t]+)?previous(?=[ \t]*(?:[.;,!]|$))",
            "says the person has a record",
        ),
        (
            r"\b(?:his|her|their|subject['’]?s|whose)[ \t]+PNC\b|\bPNC[ \t]+(?:(?:record|records|history|"
            r"print|printout|entry|trace)[ \t]+)?(?:shows|showed|reveals|revealed|lists|listed|indicates|"
            r"indicated|says|confirms|confirmed)\b|\baccording[ \t]+to[ \t]+(?:the[ \t]+)?PNC\b|"
            r"\b(?:is|was|are|were|appears|recorded|listed|known)[ \t]+on[ \t]+(?:the[ \t]+)?PNC\b",
            "quotes the PNC record",
        ),
        (
            r"\b(?:previously|formally)[ \t]+cautioned\b|\bcautioned[ \t]+(?:for|in[ \t]+(?:19|20)[0-9]{2}|"
            r"twice|previously|before)\b|\b(?:has|had|have)[ \t]+been[ \t]+cautioned[ \t]+(?:for|in|on)\b|"
            r"\b(?:simple|conditional|adult|youth|formal)[ \t]+cautions?\b|"
            rf"\b(?:{_NUMBER_WORDS}|several|previous|prior|past|numerous|multiple)[ \t]+cautions\b|"
            r"\b(?:received|accepted|given|issued(?:[ \t]+with)?|got|has|had)[ \t]+(?:a|an)[ \t]+caution\b|"
            r"\b(?:a|an|his|her|their)[ \t]+caution[ \t]+(?:for|in[ \t]+(?:19|20)[0-9]{2})\b",
            "mentions a caution",
        ),
        (
            r"\b(?:youth|police|formal)[ \t]+(?:reprimands?|final[ \t]+warnings?)\b|"
            r"\b(?:received|given|issued(?:[ \t]+with)?|has|had)[ \t]+(?:a|an)[ \t]+(?:reprimand|final[ \t]+"
            r"warning)[ \t]+for\b",
            "mentions a reprimand or final warning",
        ),
        (
            r"\b(?:prison|custodial|jail|gaol|suspended|community|immediate|life)[ \t]+sentences?\b|"
            r"\bsentenced\b(?:[ \t]+to(?:[ \t]+[^\s.;,]+){1,2})?|"
            r"\bserved[ \t]+(?:time|[0-9]{1,3}[ \t]+(?:days|weeks|months|years)|(?:a|his|her|their)[ \t]+"
            r"(?:[^\s.;,]+[ \t]+){0,3}?sentence)\b",
            "mentions a sentence",
        ),
        (
            r"\b(?:released|freed|out)[ \t]+(?:from|of)[ \t]+(?:prison|jail|gaol|HMP|HMYOI|YOI|"
            r"a[ \t]+young[ \t]+offenders?)\b|"
            r"\b(?:released|out|is|was|currently|remains|still|now|while|whilst)[ \t]+on[ \t]+licence\b|"
            r"\brecalled[ \t]+to[ \t]+(?:prison|custody)\b|\b(?:jailed|imprisoned|incarcerated)\b|"
            r"\b(?-i:HMP|HMYOI)\b",
            "mentions prison",
        ),
        (
            r"\b(?:pleaded|pled|pleads|plead)[ \t]+guilty\b|\bfound[ \t]+guilty\b|"
            r"\bfined[ \t]+(?:£|[0-9]|by[ \t]+(?:the[ \t]+)?(?:magistrates|court|judge))|"
            r"\b(?:disqualified|banned)[ \t]+from[ \t]+driving\b|\b(?:conditional|absolute)[ \t]+discharge\b|"
            r"\b(?:community|referral|suspended[ \t]+sentence|youth[ \t]+rehabilitation)[ \t]+order\b",
            "mentions a court outcome",
        ),
        (
            rf"\b(?:{_NUMBER_WORDS}|several|numerous|many)[ \t]+previous(?:es)?[ \t]+(?:for|of)\b",
            "says the person has previous convictions",
        ),
        (
            r"\b(?:got|get|gets|getting|given|received|receiving|handed|copped|serving|doing|did|done|spent|"
            rf"spending)[ \t]+(?:{_NUMBER_WORDS}|a)[ \t]+(?:days?|weeks?|months?|years?|yrs?)(?:[ \t]+"
            r"(?:suspended\b|inside\b(?![ \t]+(?:the|a|an|his|her|their|of|this|that|my|our)\b)|in[ \t]+"
            r"(?:prison|jail|gaol|custody|HMP|a[ \t]+young[ \t]+offenders?)\b)|[ \t]+for[ \t]+"
            r"(?!(?:the|a|an|his|her|their|this|that|it|him|them|me|us|work|good|now|free)\b)[^\s.;,]+)",
            "mentions a sentence",
        ),
        (
            r"\b(?:was|were|been|got|get|gets|getting|being|is|be)[ \t]+sent[ \t]+down\b"
            r"(?![ \t]+(?:the|to|a|an|into|from|by|stairs|here|there|with)\b)|"
            r"\bsent[ \t]+to[ \t]+(?:prison|jail|gaol|HMP|a[ \t]+young[ \t]+offenders?)\b|"
            r"\b(?:did|done|doing|do|does)[ \t]+(?:some[ \t]+)?(?:time|bird|porridge)\b"
            r"(?=[ \t]*(?:[.;,!\n]|$)|[ \t]+(?:for|in|inside)\b)",
            "mentions prison",
        ),
        (
            r"\b(?:offences|offenses|crimes|convictions|cautions|charges|arrests)[ \t]+(?:(?:recorded|listed|"
            r"shown)[ \t]+)?(?:on|in|against)[ \t]+(?:his|her|their|the[ \t]+subject['’]?s|the)[ \t]+"
            r"(?:(?:criminal|PNC)[ \t]+)?(?:record|records|PNC|history)\b|"
            rf"\b(?:{_NUMBER_WORDS})[ \t]+(?:recorded|previous|prior|proven)[ \t]+offences\b",
            "mentions offences on the person's record",
        ),
        (
            r"\b(?:registered|convicted|notified)[ \t]+sex(?:ual)?[ \t]+offender\b|"
            r"\bsex(?:ual)?[ \t]+offenders?['’]?[ \t]+register\b|"
            r"\b(?:sexual[ \t]+harm|sexual[ \t]+risk|sex[ \t]+offender)[ \t]+prevention[ \t]+orders?\b|"
            r"\b(?-i:SHPO|SOPO|ViSOR)\b|\bcriminal[ \t]+behaviour[ \t]+orders?\b",
            "mentions sex offender registration or an order made on conviction",
        ),
        (
            r"\b(?:appeared|appearing|appears|appear|remanded|bailed)[ \t]+(?:at|before|in)[ \t]+"
            r"(?:[^\s.;,]+[ \t]+){0,3}?(?:magistrates['’]?|crown[ \t]+court|youth[ \t]+court|court|bench)\b"
            r"(?![ \t]+(?:car[ \t]+park|road|street|lane|yard|house|building|steps|entrance)\b)|"
            r"\bup[ \t]+before[ \t]+(?:the[ \t]+)?(?:magistrates|court|bench|judge)\b|"
            r"\bfined[ \t]+(?:at|in)[ \t]+(?:[^\s.;,]+[ \t]+){0,3}?(?:magistrates['’]?|court)\b|"
            rf"\bfined[ \t]+for[ \t]+(?:{_OFFENCE_KIND})\b",
            "mentions a court appearance or outcome",
        ),
    )
)

# --------------------------------------------------------------------------- PNC warning signals

_SIGNAL_NAME = (
    r"violent|violence|weapons?|firearms?|guns?|drugs?|mental[ \t]+(?:health|disorder|illness)|"
    r"suicid(?:al|e)|self[- ]?harm(?:er|ing)?|escaper|escape[ \t]+risk|contagious|infectious|ailment|"
    r"explosives?|"
    r"(?:fe)?male[ \t]+impersonator|impersonator|alleges"
)
_SIGNAL_CODE = r"(?-i:VI|WE|FI|DR|MH|XM|XP|SU|SH|ES|CO|AT|EX|IF|IM|AG)"
_SIGNAL = rf"(?:{_SIGNAL_CODE}|{_SIGNAL_NAME})\b"
_MORE_SIGNALS = rf"(?:[ \t]*[,/&+][ \t]*{_SIGNAL})*"
_MARKER = r"(?:markers?(?![ \t]+pens?\b)|signals?|flags?|indicators?)"
_SIGNAL_RULES: tuple[_Rule, ...] = tuple(
    (re.compile(pattern, _I), why)
    for pattern, why in (
        (r"\bwarning[ \t]+(?:signals?|markers?|flags?)\b", "mentions a warning signal or marker"),
        (
            r"\bPNC[ \t]+(?:warnings?|markers?|flags?|flagged|signals?|alerts?)\b|"
            r"\b(?:flag|flags|flagged|marker|markers|marked)[ \t]+(?:[^\s.;,]+[ \t]+){0,3}?"
            r"on[ \t]+(?:the[ \t]+)?PNC\b",
            "mentions a PNC marker",
        ),
        (
            rf"\bon[ \t]+(?:the[ \t]+)?PNC[ \t]+as[ \t]+(?:(?:an?|being)[ \t]+)?{_SIGNAL}|"
            r"\bPNC(?:[ \t]+(?:record|entry|check|trace|print(?:out)?))?[ \t]+(?:shows|showed|lists|listed|"
            r"indicates|indicated|notes|noted|says|said|records|recorded|reveals|revealed|confirms|confirmed|"
            rf"has[ \t]+(?:him|her|them))\b[^.;\n]{{0,40}}?\b(?:{_SIGNAL_NAME})\b",
            "mentions a PNC warning signal",
        ),
        (
            rf"\b(?:{_SIGNAL_NAME}|{_SIGNAL_CODE})[ \t]+"
            rf"(?:(?:warning|caution|PNC|information|info|risk)[ \t]+)?{_MARKER}\b",
            "names a PNC warning signal",
        ),
        (
            rf"\b(?:has|have|had|carries|carry|with|holds?)[ \t]+(?:an?[ \t]+)?(?:{_SIGNAL_NAME})"
            r"[ \t]+warnings?\b",
            "names a PNC warning signal",
        ),
        (
            rf"\b(?:{_MARKER}|WS)[ \t]*[:=\-–][ \t]*{_SIGNAL}{_MORE_SIGNALS}|\b(?:{_MARKER}|(?-i:WS))[ \t]+"
            rf"{_SIGNAL_CODE}\b{_MORE_SIGNALS}|\bwarnings?[ \t]*[:=\-–][ \t]*{_SIGNAL_CODE}\b{_MORE_SIGNALS}",
            "lists PNC warning signals",
        ),
        (
            rf"\bflagged[ \t]+(?:up[ \t]+)?(?:as|for)[ \t]+(?:(?:an?|being)[ \t]+)?(?:{_SIGNAL_NAME})\b",
            "says the person is flagged with a warning signal",
        ),
        (
            rf"\bPNC[ \t]*[:=\-–][ \t]*{_SIGNAL}{_MORE_SIGNALS}|"
            rf"\bwarnings?[ \t]*[:=\-–][ \t]*(?:{_SIGNAL_NAME})\b{_MORE_SIGNALS}(?=[ \t]*(?:[.;,)!\n]|$))",
            "lists PNC warning signals",
        ),
        (
            rf"\b(?:markers?(?![ \t]+pens?\b)|flags?|warning[ \t]+signals?)[ \t]+(?:for|of)[ \t]+{_SIGNAL}",
            "names a PNC warning signal",
        ),
    )
)

# --------------------------------------------------------------------------- danger warning

_DO_NOT_APPROACH = (
    r"(?:\b(?:do[ \t]+not|don['’]?t|never|must[ \t]+not|mustn['’]?t|should[ \t]+not|shouldn['’]?t|"
    r"not[ \t]+to)[ \t]+(?:be[ \t]+)?(?:approach|confront|challenge|engage|tackle)(?:ed)?\b|"
    r"\bavoid[ \t]+(?:approaching|confronting|challenging)\b)"
)
_CALL_POLICE = (
    r"\b(?:call|phone|ring|dial|contact|telephone|tel|alert|inform|notify|report[ \t]+to)\b"
    r"(?:[ \t]+[^\s.;]+){0,3}?[ \t]*\b(?:police|999|101|112|officers?)\b"
)
_DANGER_WARNING = re.compile(
    rf"{_DO_NOT_APPROACH}[^\n]{{0,80}}?{_CALL_POLICE}|{_CALL_POLICE}[^\n]{{0,80}}?{_DO_NOT_APPROACH}", _I
)

# --------------------------------------------------------------------------- mentions

_TOKEN = re.compile(r"[^\W_]+(?:['’‘`][^\W_]+)*")
_APOSTROPHES = re.compile(r"['’‘`]")
_FOLDED = {
    "rd": "road",
    "st": "street",
    "str": "street",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "cl": "close",
    "cres": "crescent",
    "dr": "drive",
    "gdns": "gardens",
    "gr": "grove",
    "ct": "court",
    "pl": "place",
    "sq": "square",
    "terr": "terrace",
    "tce": "terrace",
    "pde": "parade",
    "blvd": "boulevard",
    "apt": "apartment",
    "no": "number",
}
_OUTWARD_ONLY = re.compile(rf"{_OUTWARD}", _I)
_INWARD_ONLY = re.compile(_INWARD, _I)


# --------------------------------------------------------------------------- the finders


def _hits(
    text: str, rules: Iterable[_Rule], check: str, reject: re.Pattern[str] | None = None
) -> list[TextHit]:
    spans: list[tuple[int, int, str]] = []
    for pattern, why in rules:
        for match in pattern.finditer(text):
            start, end = match.span()
            end = start + len(text[start:end].rstrip(" \t,:-–"))
            if end > start and not (reject and reject.search(text[start:end])):
                spans.append((start, end, why))
    spans.sort(key=lambda span: (span[0], -span[1]))
    kept: list[tuple[int, int, str]] = []
    for start, end, why in spans:
        if not any(s <= start and end <= e for s, e, _ in kept):
            kept.append((start, end, why))
    return [TextHit(check, text[start:end], why) for start, end, why in kept]


def find_address(text: str) -> list[TextHit]:
    """UK postcodes, house number and street, flat numbers, where someone lives (K10 8.3)."""
    return _hits(text, _ADDRESS_RULES, ADDRESS, reject=_NOT_AN_ADDRESS)


def find_previous_convictions(text: str) -> list[TextHit]:
    """Convictions, cautions, sentences, criminal record, the PNC record (K10 8.4)."""
    return _hits(text, _CONVICTION_RULES, PREVIOUS_CONVICTIONS)


def find_pnc_warning_signals(text: str) -> list[TextHit]:
    """PNC warning signals written as markers, signals or flags (K10 8.5)."""
    return _hits(text, _SIGNAL_RULES, PNC_WARNING_SIGNALS)


def find_danger_warning(text: str) -> bool:
    """True if the text says "Do not approach but call the police immediately" or similar (K10 8.5)."""
    return _DANGER_WARNING.search(text) is not None


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", _APOSTROPHES.sub("", word))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _FOLDED.get(plain, plain)


def _tokens(text: str) -> Iterator[tuple[str, int, int]]:
    """(folded word, start, end); an outward and inward postcode pair becomes one word, as if unspaced."""
    words = [(_fold(m.group()), m.start(), m.end()) for m in _TOKEN.finditer(text)]
    i = 0
    while i < len(words):
        word, start, end = words[i]
        if i + 1 < len(words):
            after, _, after_end = words[i + 1]
            if (
                _OUTWARD_ONLY.fullmatch(word)
                and _INWARD_ONLY.fullmatch(after)
                and text[end : words[i + 1][1]].strip(" \t\u00a0") == ""
            ):
                yield word + after, start, after_end
                i += 2
                continue
        yield word, start, end
        i += 1


def mentions(text: str, needle: str) -> str | None:
    """The first place `text` mentions `needle` word for word (case, accents, punctuation, spacing and street
    abbreviations aside), as written in `text`; None if it does not, or if `needle` has no words."""
    wanted = [word for word, _, _ in _tokens(needle)]
    if not wanted:
        return None
    found = list(_tokens(text))
    size = len(wanted)
    for i in range(len(found) - size + 1):
        if found[i][0] == wanted[0] and all(found[i + k][0] == wanted[k] for k in range(1, size)):
            return text[found[i][1] : found[i + size - 1][2]]
    return None
