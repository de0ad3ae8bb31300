"""Text checks for K10 8.3–8.5: realistic police wording that must fire, ordinary wording that must not."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from custodes.disclosure.textchecks import (
    TextHit,
    find_address,
    find_danger_warning,
    find_pnc_warning_signals,
    find_previous_convictions,
    mentions,
    normalise_postcode,
)

Finder = Callable[[str], list[TextHit]]
SHOP_THEFT = "It is suspected that this subject may engage in shop theft in your area"

# (text, a fragment the excerpt of some hit must contain); None: must not fire.
ADDRESS_CASES: list[tuple[str, str, str | None]] = [
    # postcodes
    ("pc-full", "Seen near ME14 1XX last week", "ME14 1XX"),
    ("pc-lower", "postcode me14 1xx", "me14 1xx"),
    ("pc-nospace", "Known to frequent ME141XX", "ME141XX"),
    ("pc-nospace-lower", "me141xx", "me141xx"),
    ("pc-london", "SW1A 2AA", "SW1A 2AA"),
    ("pc-a9", "M1 1AE is where he stays", "M1 1AE"),
    ("pc-aa99", "DN55 1PT", "DN55 1PT"),
    ("pc-a9a", "W1A 1AA", "W1A 1AA"),
    ("pc-in-brackets", "(CT1 2EH)", "CT1 2EH"),
    ("pc-end-of-sentence", "His mother is at ME15 9BZ.", "ME15 9BZ"),
    ("pc-two-spaces", "ME14  1XX", "ME14  1XX"),
    ("pc-after-town", "Maidstone, Kent, ME16 8AB", "ME16 8AB"),
    # house number and street
    ("house-avenue", "12 Acacia Avenue", "12 Acacia Avenue"),
    ("house-flat", "Flat 3, 21 High St", "21 High St"),
    ("house-suffix", "14a Mill Road", "14a Mill Road"),
    ("house-lower", "seen going into 7 queens road", "7 queens road"),
    ("house-caps", "SUBJECT FREQUENTS 44 TONBRIDGE ROAD", "44 TONBRIDGE ROAD"),
    ("house-range", "12-14 Bank Street", "12-14 Bank Street"),
    ("house-comma", "12, Acacia Avenue", "12, Acacia Avenue"),
    ("house-the", "5 The Green, Bearsted", "5 The Green"),
    ("house-number-word", "No. 9 Church Lane", "No. 9 Church Lane"),
    ("house-close", "Stays at 3 Pilgrims Close most nights", "3 Pilgrims Close"),
    ("house-drive", "17 Sandling Drive", "17 Sandling Drive"),
    ("house-way", "2 Bower Mount Way", "2 Bower Mount Way"),
    ("house-saint", "8 St Peter's Street", "8 St Peter's Street"),
    ("house-abbrev", "33 London Rd", "33 London Rd"),
    ("house-crescent", "101 Oakwood Crescent", "101 Oakwood Crescent"),
    ("house-mews", "4 Orchard Mews", "4 Orchard Mews"),
    ("house-terrace", "26 Union Terrace", "26 Union Terrace"),
    ("house-gardens", "9 Tufton Gardens", "9 Tufton Gardens"),
    ("house-court", "11 Bishops Court", "11 Bishops Court"),
    ("house-hyphen-name", "40 Stoke-on-Trent Road", "40 Stoke-on-Trent Road"),
    ("house-of", "John SMITH of 12 Acacia Avenue", "12 Acacia Avenue"),
    ("house-apostrophe", "6 King’s Walk", "6 King’s Walk"),
    ("house-shop", "Boots, 12 High Street (any address line fires, whoever lives there)", "12 High Street"),
    # flats
    ("flat-alone", "Flat 3, Victoria House", "Flat 3"),
    ("flat-lower", "he uses flat 12b above the bookmakers", "flat 12b"),
    ("apartment", "Apartment 4, The Maltings", "Apartment 4"),
    ("flat-letter", "Flat B, Mill House", "Flat B"),
    # where someone lives
    (
        "lives-at",
        "He lives at the Salvation Army hostel on Union Street",
        "lives at the Salvation Army hostel",
    ),
    ("resides-at", "Resides at Rose Cottage, Mill Lane", "Resides at Rose Cottage"),
    ("lives-on", "lives on Station Road", "lives on Station Road"),
    ("lives-in-street", "She lives in Mill Lane with her partner", "lives in Mill Lane"),
    ("lives-off", "lives off London Road", "lives off London Road"),
    ("lives-on-estate", "lives on the Park Wood Estate", "lives on the Park Wood Estate"),
    (
        "living-with-at",
        "living with his mother at Brookside Farm",
        "living with his mother at Brookside Farm",
    ),
    ("lived-at", "previously lived at The Old Forge, Boxley", "lived at The Old Forge"),
    ("residing-on", "residing on Tonbridge Road", "residing on Tonbridge Road"),
    ("home-is", "his home is on Hastings Road", "his home is on Hastings Road"),
    ("lives-lower-street", "lives on sutton road", "lives on sutton road"),
    ("home-address-is", "Home address is Holly Lodge, Boxley Road", "Home address is Holly Lodge"),
    ("address-colon", "Address: The Bungalow, Pilgrims Way", "Address: The Bungalow"),
    ("last-known-address", "last known address - Brook Farm, Detling", "last known address - Brook Farm"),
    ("address-lives-number", "lives at 4 Bell Road", "lives at 4 Bell Road"),
    # must not fire
    ("shop-theft", SHOP_THEFT, None),
    ("street-cctv", "seen on Station Road CCTV", None),
    ("high-street-branch", "High Street branch of Boots", None),
    ("outward-only", "active in the ME14 area", None),
    ("outward-only-lower", "targets stores across me15 and me16", None),
    ("motorway-time", "travelled up the M6 2pm on Friday", None),
    ("motorway-am", "joined the M1 3am", None),
    ("men-on-road", "2 men on Station Road", None),
    ("times-near", "seen 3 times near High Street", None),
    ("mph", "a 30 mph road", None),
    ("minutes-walk", "about 5 minutes walk from London Road", None),
    ("car-park", "Level 2 Car Park, Fremlin Walk", None),
    ("lives-locally", "lives locally and uses the bus", None),
    ("lives-in-town", "lives in Maidstone", None),
    ("lives-in-area", "lives in your area", None),
    ("lives-at-home", "lives at home with his parents", None),
    ("nfa", "of no fixed abode", None),
    ("address-unknown", "Address: not known", None),
    ("address-na", "address: N/A", None),
    ("address-withheld", "his address is withheld", None),
    ("email-address", "email address: shopwatch@example.org", None),
    ("time", "at 14:00 on Tonbridge Road", None),
    ("year", "in 2019 Station Road was closed", None),
    ("items", "took 4 bottles from the Co-op on High Street", None),
    ("reference", "ref CZ/001/02 custody image CI-88", None),
    ("record-id", "PNC-1", None),
    ("vehicle", "driving a silver Ford Focus AB12 CDE", None),
    ("grading", "intelligence graded B2", None),
    ("form", "Form 3795 signed", None),
    ("back-gardens", "ran through 3 back gardens", None),
    ("lives-with", "lives with his grandmother", None),
    ("money", "stole £40 worth of razors from Week Street", None),
    ("age", "aged 25, slim build, seen on Gabriel's Hill", None),
    ("stayed-at-scene", "stayed at the scene until police arrived", None),
]

CONVICTION_CASES: list[tuple[str, str, str | None]] = [
    ("previous-convictions", "He has previous convictions for theft", "previous convictions"),
    ("counted", "has 3 convictions for theft", "3 convictions"),
    ("counted-word", "two convictions for shoplifting", "two convictions"),
    ("criminal-convictions", "criminal convictions for burglary", "criminal convictions"),
    ("kind-convictions", "4 theft convictions", "4 theft convictions"),
    ("string-of", "a string of convictions", "a string of convictions"),
    ("numerous", "numerous convictions for shop theft", "numerous convictions"),
    ("no-previous", "He has no previous convictions", "previous convictions"),
    ("was-convicted", "was convicted of burglary in 2019", "convicted of burglary"),
    ("convicted-in", "convicted in 2019 at Maidstone Crown Court", "convicted in 2019"),
    ("convicted-shoplifter", "a convicted shoplifter", "convicted shoplifter"),
    ("reconvicted", "was reconvicted last year", "reconvicted"),
    ("conviction-for", "conviction for assault", "conviction for assault"),
    ("conviction-in", "a conviction in 2021", "conviction in 2021"),
    ("conviction-court", "conviction at Canterbury Crown Court", "conviction at Canterbury Crown Court"),
    ("conviction-history", "conviction history attached", "conviction history"),
    ("his-conviction", "following his conviction he moved away", "following his conviction"),
    ("her-convictions", "her convictions include fraud", "her convictions"),
    ("has-a-conviction", "He has a conviction.", "has a conviction"),
    ("has-convictions", "subject has convictions", "has convictions"),
    ("first-conviction", "his first conviction was in 2015", "first conviction"),
    ("pre-cons", "pre-cons for theft", "pre-cons"),
    ("precons", "see precons", "precons"),
    ("previous-cons", "previous cons for dishonesty", "previous cons"),
    ("has-previous", "He has previous.", "has previous"),
    ("has-previous-for", "has previous for shoplifting", "has previous for"),
    ("has-form", "he has form for this", "has form for"),
    ("criminal-record", "has a criminal record", "criminal record"),
    ("criminal-history", "long criminal history", "criminal history"),
    ("offending-history", "offending history dating back years", "offending history"),
    ("long-record", "has a long record", "has a long record"),
    ("record-for", "has a record for theft", "has a record for"),
    ("pnc-record", "PNC record shows 4 convictions", "PNC record shows"),
    ("pnc-shows", "PNC shows he was dealt with in 2020", "PNC shows"),
    ("his-pnc", "his PNC is extensive", "his PNC"),
    ("according-pnc", "according to PNC he has been arrested", "according to PNC"),
    ("on-pnc", "He is on PNC", "is on PNC"),
    ("antecedents", "antecedents attached", "antecedents"),
    ("cro", "CRO number 12345/99", "CRO number"),
    ("cautioned-for", "previously cautioned for theft", "previously cautioned"),
    ("was-cautioned-for", "was cautioned for criminal damage", "cautioned for"),
    ("received-caution", "received a caution in March", "received a caution"),
    ("simple-caution", "given a simple caution", "simple caution"),
    ("conditional-caution", "conditional caution for possession", "conditional caution"),
    ("cautions-counted", "2 cautions for shoplifting", "2 cautions"),
    ("youth-reprimand", "youth reprimand in 2010", "youth reprimand"),
    ("final-warning", "received a final warning for theft", "final warning for"),
    ("prison-sentence", "served a prison sentence", "prison sentence"),
    ("served-month-sentence", "served a 6 month sentence", "served a 6 month sentence"),
    ("suspended", "currently on a suspended sentence", "suspended sentence"),
    ("sentenced", "was sentenced to 18 months", "sentenced to 18 months"),
    ("served-time", "has served time", "served time"),
    ("served-months", "served 18 months for robbery", "served 18 months"),
    ("released-prison", "recently released from prison", "released from prison"),
    ("released-hmp", "released from HMP Elmley in June", "released from HMP"),
    ("hmp", "was in HMP Maidstone", "HMP"),
    ("on-licence", "is currently out on licence", "out on licence"),
    ("recalled", "recalled to prison in May", "recalled to prison"),
    ("jailed", "was jailed for burglary", "jailed"),
    ("pleaded-guilty", "pleaded guilty at court", "pleaded guilty"),
    ("found-guilty", "found guilty of assault", "found guilty"),
    ("fined", "fined £200 by magistrates", "fined £"),
    ("disqualified", "disqualified from driving", "disqualified from driving"),
    ("community-order", "given a community order", "community order"),
    ("conditional-discharge", "a conditional discharge", "conditional discharge"),
    ("ex-con", "he is an ex-con", "ex-con"),
    ("caps", "HAS 12 PREVIOUS CONVICTIONS", "PREVIOUS CONVICTIONS"),
    # how officers say it (the disclosure review's cases first)
    ("counted-previous", "He has 14 previous for shoplifting", "14 previous for"),
    ("counted-previous-word", "three previous for theft", "three previous for"),
    ("got-months", "He got 6 months for theft last year", "got 6 months for theft"),
    ("got-a-year", "got a year for burglary", "got a year for burglary"),
    ("spent-in-prison", "spent 18 months in prison", "spent 18 months in prison"),
    ("months-suspended", "given 6 months suspended", "given 6 months suspended"),
    ("sent-down", "He was sent down for robbery in 2019", "was sent down"),
    ("sent-to-prison", "sent to prison in 2019", "sent to prison"),
    ("did-years-inside", "Did 2 years inside for robbery", "Did 2 years inside"),
    ("doing-time", "he was doing time for robbery", "doing time"),
    ("did-time", "He did time.", "did time"),
    ("offences-record", "11 offences on his record", "offences on his record"),
    ("crimes-pnc", "crimes listed on his PNC record", "crimes listed on his PNC record"),
    ("counted-offences", "27 recorded offences", "27 recorded offences"),
    ("registered-sex-offender", "Subject is a registered sex offender", "registered sex offender"),
    ("sex-offenders-register", "is on the sex offenders register", "sex offenders register"),
    ("shpo", "subject to a SHPO", "SHPO"),
    ("cbo", "has a criminal behaviour order", "criminal behaviour order"),
    (
        "appeared-magistrates",
        "Appeared at Maidstone Magistrates and was fined",
        "Appeared at Maidstone Magistrates",
    ),
    ("appeared-in-court", "appeared in court last month", "appeared in court"),
    ("up-before", "was up before the magistrates", "up before the magistrates"),
    ("fined-at-court", "fined at Medway Magistrates", "fined at Medway Magistrates"),
    ("fined-for-theft", "was fined for shoplifting", "fined for shoplifting"),
    # must not fire
    ("shop-theft", SHOP_THEFT, None),
    ("street-robbery", "It is suspected that this subject may engage in a street robbery in your area", None),
    ("spoke-with-conviction", "spoke with conviction", None),
    ("great-conviction", "said with great conviction that he would return", None),
    ("conviction-that", "he has a strong conviction that staff are targeting him", None),
    ("religious", "his religious convictions", None),
    ("deeply-held", "deeply held political convictions", None),
    ("unconvinced", "the manager was unconvinced", None),
    ("convinced", "staff are convinced it is him", None),
    ("arrested-cautioned", "he was arrested and cautioned", None),
    ("cautioned-replied", "cautioned and made no reply", None),
    ("the-caution", "he was given the caution and replied", None),
    ("exercise-caution", "staff should exercise caution", None),
    ("with-caution", "approach with caution", None),
    ("previously-seen", "previously seen in the store", None),
    ("previous-incidents", "previous incidents at this branch", None),
    ("previous-day", "on the previous day", None),
    ("record", "record the details on the log", None),
    ("recorded-cctv", "recorded on CCTV", None),
    ("source-record", "checked against source record", None),
    ("pnc-id", "PNC-1", None),
    ("sentence-grammar", "the sentence above is a quote", None),
    ("served-customers", "served customers at the till", None),
    ("served-army", "served in the Army", None),
    ("released-hospital", "released from hospital", None),
    ("licensed", "licensed premises", None),
    ("off-licence", "off-licence on the corner", None),
    ("driving-licence", "no driving licence", None),
    ("guilty-look", "looked guilty", None),
    ("not-guilty", "felt not guilty at all", None),
    ("criminal-damage", "criminal damage to the door", None),
    ("known-shoplifter", "a known shoplifter", None),
    ("prolific", "prolific offender in the town centre", None),
    ("court-car-park", "seen in the court car park", None),
    ("fine-weather", "fine weather", None),
    ("intelligence", "intelligence suggests he steals to order", None),
    ("previous-address", "previous address in Chatham", None),
    ("months-ago", "seen 6 months ago", None),
    ("fined-parking", "was fined by the parking authority", None),
    ("days-off", "got 2 days off work", None),
    ("days-hospital", "spent 3 days in hospital", None),
    ("sent-down-stockroom", "was sent down to the stockroom", None),
    ("sent-down-stock", "the manager sent down for more stock", None),
    ("time-checks", "did time checks on the tills", None),
    ("appeared-entrance", "appeared at the store entrance", None),
    ("offences-area", "offences in your area", None),
    ("previous-incidents-counted", "2 previous incidents at the store", None),
    ("registered-member", "registered member of the scheme", None),
    ("weeks-to-pay", "given 2 weeks to pay", None),
    ("years-inside-company", "spent 2 years inside the company", None),
    ("court-road", "appeared in the Court Road area", None),
    ("months-for-refit", "got 6 months for the refit", None),
]

SIGNAL_CASES: list[tuple[str, str, str | None]] = [
    ("warning-signal", "PNC warning signal present", "warning signal"),
    ("warning-signals", "warning signals: VI, WE", "warning signals"),
    ("pnc-warning-markers", "PNC warning markers", "PNC warning"),
    ("warning-marker", "has a warning marker", "warning marker"),
    ("pnc-flag", "PNC flag for drugs", "PNC flag"),
    ("flagged-violent-pnc", "flagged as violent on PNC", "flagged as violent on PNC"),
    ("flagged-violent", "flagged as violent", "flagged as violent"),
    ("flagged-weapons", "flagged for weapons", "flagged for weapons"),
    ("flagged-suicide", "flagged as a suicide risk", "flagged as a suicide"),
    ("weapons-marker", "has a weapons marker", "weapons marker"),
    ("violence-marker", "violence marker on file", "violence marker"),
    ("violent-marker", "carries a violent marker", "violent marker"),
    ("firearms-marker", "firearms marker", "firearms marker"),
    ("drugs-flag", "drugs flag", "drugs flag"),
    ("mh-flag", "mental health flag", "mental health flag"),
    ("self-harm-marker", "self-harm marker", "self-harm marker"),
    ("suicidal-marker", "suicidal marker", "suicidal marker"),
    ("escaper-signal", "escaper signal", "escaper signal"),
    ("contagious-marker", "contagious marker", "contagious marker"),
    ("ailment-marker", "ailment marker", "ailment marker"),
    ("explosives-marker", "explosives warning marker", "explosives warning marker"),
    ("impersonator", "female impersonator marker", "female impersonator marker"),
    ("male-impersonator", "male impersonator signal", "male impersonator signal"),
    ("alleges", "alleges marker", "alleges marker"),
    ("code-marker", "VI marker", "VI marker"),
    ("marker-colon-fi", "marker: FI", "marker: FI"),
    ("markers-list", "markers: VI, WE, DR", "markers: VI, WE, DR"),
    ("ws-colon-name", "WS: violent", "WS: violent"),
    ("ws-codes", "WS VI/WE", "WS VI/WE"),
    ("ws-dash", "WS - SU", "WS - SU"),
    ("signals-space-codes", "signals VI WE", "signals VI"),
    ("flags-colon", "Flags: drugs, weapons", "Flags: drugs, weapons"),
    ("warning-colon-code", "Warning: VI", "Warning: VI"),
    ("has-weapons-warning", "has a weapons warning", "has a weapons warning"),
    ("with-violence-warning", "with a violence warning", "with a violence warning"),
    ("on-pnc-as", "shown on PNC as violent", "on PNC as violent"),
    ("pnc-shows-violent", "PNC shows he is violent", "PNC shows he is violent"),
    ("pnc-mh", "PNC notes mental health issues", "PNC notes mental health"),
    ("pnc-signal", "PNC signals", "PNC signals"),
    ("marker-on-pnc", "a marker on PNC", "marker on PNC"),
    ("flag-on-pnc", "flag held on PNC", "flag held on PNC"),
    ("mh-code", "MH marker", "MH marker"),
    ("xp-code", "markers: XP", "markers: XP"),
    ("su-code", "signal: SU", "signal: SU"),
    ("ag-code", "WS: AG", "WS: AG"),
    ("co-code", "markers CO", "markers CO"),
    ("es-code", "ES marker", "ES marker"),
    ("ex-code", "EX flag", "EX flag"),
    ("im-code", "IM marker", "IM marker"),
    ("caps", "FLAGGED AS VIOLENT ON PNC", "FLAGGED AS VIOLENT ON PNC"),
    ("drugs-indicator", "drugs indicator", "drugs indicator"),
    ("weapons-pnc-flag", "weapons PNC flag", "weapons PNC flag"),
    # how officers write it (the disclosure review's cases first)
    ("pnc-colon-codes", "PNC: FI, WE", "PNC: FI, WE"),
    ("pnc-dash-name", "PNC - violent", "PNC - violent"),
    ("warning-colon-name", "Warning: violent", "Warning: violent"),
    ("warnings-colon-names", "Warnings: weapons, drugs.", "Warnings: weapons, drugs"),
    ("markers-for", "Has markers for violence and weapons", "markers for violence"),
    ("flag-for", "a flag for firearms", "flag for firearms"),
    ("marker-of", "a marker of self-harm", "marker of self-harm"),
    # must not fire
    ("shop-theft", SHOP_THEFT, None),
    ("weapon-in-store", "was seen with a weapon in the store", None),
    ("weapon-cctv", "seen on CCTV carrying a weapon", None),
    ("knife", "threatened staff with a knife", None),
    ("drugs", "may be in possession of drugs", None),
    ("violent-staff", "violent towards staff", None),
    ("has-been-violent", "has been violent in the past", None),
    ("known-knife", "known to carry a knife", None),
    ("drug-related", "drug-related thefts", None),
    ("mh-crisis", "has mental health difficulties", None),
    ("suicidal", "said he felt suicidal", None),
    ("warning-sign", "warning sign at the door", None),
    ("warning-given", "a warning was given by security", None),
    ("verbal-warning", "verbal warning from the manager", None),
    ("final-warning", "first warning issued", None),
    ("marker-pen", "wrote on the shelf with a marker pen", None),
    ("permanent-marker", "a permanent marker", None),
    ("drugs-marker-pen", "Drugs marker pen graffiti was found", None),
    ("ws-member", "WS member stores should report sightings", None),
    ("flag-st-george", "wearing a flag of St George", None),
    ("flagged-down", "flagged down a taxi", None),
    ("flagged-up-staff", "flagged up by staff", None),
    ("signals", "signals to an accomplice", None),
    ("alleged", "alleged theft of razors", None),
    ("allegations", "allegations of assault", None),
    ("warning-we", "warning we have had reports", None),
    ("warning-at", "warning at the entrance", None),
    ("flags-at", "flags at half mast", None),
    ("escape", "tried to escape through the fire exit", None),
    ("contagious", "contagious laugh", None),
    ("explosive", "explosive temper", None),
    ("gun", "imitation gun seen in his waistband", None),
    ("firearm", "officers recovered a firearm", None),
    ("self-harm", "history of self-harm", None),
    ("record-id", "PNC-1", None),
    ("danger", "Do not approach but call the police immediately", None),
    ("danger-staff", "danger to staff: may become aggressive", None),
    ("intel", "intelligence graded B2 suggests he carries drugs", None),
    ("impersonates", "impersonates delivery drivers", None),
    ("violence-used", "violence used against staff on 3 occasions", None),
    ("warning-colon-behaviour", "Warning: violent towards staff", None),
    ("warning-colon-sentence", "Warning: drugs may be hidden in bags", None),
    ("warning-colon-approach", "Warning: do not approach", None),
    ("markers-for-park", "cones and markers for the car park", None),
    ("flags-for-parade", "flags for the parade", None),
    ("pnc-checked", "PNC checked, nothing relevant", None),
]

DANGER_CASES: list[tuple[str, str, bool]] = [
    ("exact", "Do not approach but call the police immediately", True),
    ("dash", "do not approach – call police", True),
    ("semicolon-999", "Do not approach; dial 999", True),
    ("caps", "DO NOT APPROACH. CALL POLICE ON 999", True),
    ("dont", "Don't approach him, phone 999", True),
    ("curly", "Don’t approach – ring the police", True),
    ("contact-force", "Do not approach; contact Kent Police immediately", True),
    ("passive", "He must not be approached. Call 999.", True),
    ("should-not", "should not be approached – call police immediately", True),
    ("reverse", "Call the police immediately and do not approach", True),
    ("confront", "Do not confront; call police", True),
    ("challenge", "Do not challenge this male, call 999", True),
    ("avoid", "Avoid approaching him and telephone the police", True),
    ("with-subject", "Do not approach the subject but call the police immediately", True),
    ("call-alone", "call police if seen", False),
    ("approach-alone", "Do not approach", False),
    ("approach-staff", "staff may approach him and call the police", False),
    ("no-warning", SHOP_THEFT, False),
    ("empty", "", False),
    ("danger-only", "danger to staff", False),
    ("approached-by", "he approached staff and called them names", False),
    ("different-lines", "Do not approach\n\nOther stores: call the police", False),
]

MENTION_CASES: list[tuple[str, str, str, str | None]] = [
    ("exact", "Seen with Jane Doe near the shop", "Jane Doe", "Jane Doe"),
    ("case", "seen with JANE DOE", "jane doe", "JANE DOE"),
    ("punctuation", "Doe, Jane was present", "Doe Jane", "Doe, Jane"),
    ("spacing", "Jane\n  Doe", "Jane Doe", "Jane\n  Doe"),
    ("apostrophe", "Mr OBrien", "O'Brien", "OBrien"),
    ("curly-apostrophe", "Mr O’Brien", "O'Brien", "O’Brien"),
    ("hyphen", "Smith-Jones", "Smith Jones", "Smith-Jones"),
    ("accent", "José Alvarez", "Jose Alvarez", "José Alvarez"),
    ("street-abbrev", "visits 12 acacia ave. daily", "12 Acacia Avenue", "12 acacia ave"),
    ("road-abbrev", "5 Mill Rd", "5 Mill Road", "5 Mill Rd"),
    ("postcode-spaceless", "near ME141XX", "ME14 1XX", "ME141XX"),
    ("postcode-spaced", "near me14 1xx", "ME141XX", "me14 1xx"),
    ("part-of-word", "Smithson", "Smith", None),
    ("other-name", "John Smith", "Jane Smith", None),
    ("order", "Doe Jane", "Jane Doe", None),
    ("empty-needle", "anything", "", None),
    ("punct-needle", "anything", " -- ", None),
    ("empty-text", "", "Jane", None),
    ("refuge", "the refuge at 4 Bell Road", "4 Bell Rd", "4 Bell Road"),
]


def _ids(cases: list[tuple[str, str, str | None]]) -> list[str]:
    return [("fires-" if case[2] else "quiet-") + case[0] for case in cases]


def _assert_case(finder: Finder, check: str, text: str, fragment: str | None) -> None:
    hits = finder(text)
    if fragment is None:
        assert hits == [], f"{text!r} should not fire: {hits}"
        return
    assert hits, f"{text!r} should fire"
    assert any(fragment in hit.excerpt for hit in hits), f"{fragment!r} not in {hits}"
    for hit in hits:
        assert hit.check == check and hit.excerpt in text and hit.why


@pytest.mark.parametrize(("name", "text", "fragment"), ADDRESS_CASES, ids=_ids(ADDRESS_CASES))
def test_address(name: str, text: str, fragment: str | None) -> None:
    _assert_case(find_address, "address", text, fragment)


@pytest.mark.parametrize(("name", "text", "fragment"), CONVICTION_CASES, ids=_ids(CONVICTION_CASES))
def test_previous_convictions(name: str, text: str, fragment: str | None) -> None:
    _assert_case(find_previous_convictions, "previous_convictions", text, fragment)


@pytest.mark.parametrize(("name", "text", "fragment"), SIGNAL_CASES, ids=_ids(SIGNAL_CASES))
def test_pnc_warning_signals(name: str, text: str, fragment: str | None) -> None:
    _assert_case(find_pnc_warning_signals, "pnc_warning_signals", text, fragment)


@pytest.mark.parametrize(("name", "text", "expected"), DANGER_CASES, ids=[case[0] for case in DANGER_CASES])
def test_danger_warning(name: str, text: str, expected: bool) -> None:
    assert find_danger_warning(text) is expected


@pytest.mark.parametrize(
    ("name", "text", "needle", "expected"), MENTION_CASES, ids=[case[0] for case in MENTION_CASES]
)
def test_mentions(name: str, text: str, needle: str, expected: str | None) -> None:
    assert mentions(text, needle) == expected


def test_tables_are_large() -> None:
    for cases in (ADDRESS_CASES, CONVICTION_CASES, SIGNAL_CASES):
        assert len(cases) >= 60
        assert sum(case[2] is None for case in cases) >= 25
        assert len({case[0] for case in cases}) == len(cases)


def test_hits_come_in_text_order_and_nested_hits_are_dropped() -> None:
    text = "Resides at 12 Acacia Avenue. Other address: Flat 3, 21 High St, ME14 1XX"
    hits = find_address(text)
    starts = [text.index(hit.excerpt) for hit in hits]
    assert starts == sorted(starts)
    assert hits[0].excerpt == "Resides at 12 Acacia Avenue"
    assert not any(hit.excerpt == "12 Acacia Avenue" for hit in hits)


def test_hit_is_frozen() -> None:
    hit = find_address("ME14 1XX")[0]
    assert hit == TextHit("address", "ME14 1XX", "looks like a UK postcode")
    with pytest.raises(AttributeError):
        hit.excerpt = "x"  # type: ignore[misc]


def test_normalise_postcode_is_the_kit_one() -> None:
    assert normalise_postcode("me141xx") == "ME14 1XX"
    assert normalise_postcode("not a postcode") is None


# --------------------------------------------------------------------------- properties

REAL_POSTCODES = [
    "SW1A 2AA", "SW1A 1AA", "EC1A 1BB", "W1A 1AA", "M1 1AE", "B33 8TH", "CR2 6XH", "DN55 1PT", "ME15 9BZ",
    "CF10 1EP", "EH99 1SP", "BT1 5GS", "G2 1DU", "L1 8JQ", "LS1 4AP", "CT1 2EH", "TN1 1YP", "ME14 1XX",
]  # fmt: skip
postcodes = st.sampled_from(REAL_POSTCODES).flatmap(
    lambda code: st.sampled_from([code, code.lower(), code.replace(" ", ""), code.replace(" ", "").lower()])
)
FINDERS: list[Finder] = [find_address, find_previous_convictions, find_pnc_warning_signals]

# Ordinary words and phrases of a disclosure, including near misses: street names without a number,
# "weapon", "violent", "record", "caution", "conviction" in the wrong sense.
_WORDS = (
    "it is suspected that this subject may engage in shop theft street robbery your area the a an and "
    "seen on Station Road High Street CCTV branch of Boots store staff manager security male female white "
    "slim build aged tall wearing black hoodie jeans trainers weapon knife violent towards drugs theft "
    "razors meat alcohol stole took left walked ran via car park town centre Maidstone Kent week Monday "
    "Friday evening morning intelligence suggests graded B2 record CCTV recorded approach convinced "
    "previously visited times several bus stop near outside entrance exit police officers called reported "
    "incident log custody image reference photo is was been known shoplifter prolific offender in at to by "
    "for from Co-op Tesco Mill Lane Church Green Park Close"
)
LEXICON = [
    *_WORDS.split(),
    "spoke with conviction.",
    "staff should exercise caution",
    "arrested and cautioned.",
    "was seen with a weapon in the store",
    "threatened staff with a knife",
    "wrote with a marker pen",
    "warning sign at the door",
    "lives locally.",
    "lives in Maidstone.",
    "seen on Station Road CCTV",
    "High Street branch of Boots",
    "active in the ME14 area",
    "2 men",
    "3 times",
    "at 14:00",
    "Level 2 Car Park",
    "PNC-1",
    "CZ/001/02",
    "call the police",
]
sentences = st.lists(st.sampled_from(LEXICON), min_size=1, max_size=40).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_never_raises_and_excerpts_come_from_the_text(text: str) -> None:
    for finder in FINDERS:
        for hit in finder(text):
            assert hit.excerpt and hit.excerpt in text
    assert isinstance(find_danger_warning(text), bool)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.text(max_size=30))
def test_mentions_never_raises(text: str, needle: str) -> None:
    found = mentions(text, needle)
    assert found is None or found in text


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300), st.data())
def test_a_postcode_inserted_anywhere_fires(text: str, data: st.DataObject) -> None:
    code = data.draw(postcodes)
    at = data.draw(st.integers(0, len(text)))
    padded = f"{text[:at]} {code} {text[at:]}"
    assert any(code in hit.excerpt for hit in find_address(padded))
    assert mentions(padded, code) is not None


@settings(max_examples=150, deadline=None)
@given(sentences)
def test_ordinary_wording_never_fires(text: str) -> None:
    for finder in FINDERS:
        assert finder(text) == [], text
    assert not find_danger_warning(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(LEXICON), min_size=1, max_size=30), st.data())
def test_mentions_finds_any_run_of_words(words: list[str], data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(words) - 1))
    end = data.draw(st.integers(start + 1, len(words)))
    needle = " ".join(words[start:end])
    text = " ".join(words)
    assert mentions(text.upper(), needle) is not None
    assert mentions(", ".join(words), needle.lower()) is not None


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 5000,
        "12 a " * 3000,
        "lives " * 3000,
        "lives with " * 2000,
        "PNC " * 4000,
        "do not approach " * 2000,
        "call " * 4000,
        "address: " * 3000,
        "A1 " * 5000,
        "x" * 20000,
        "Flat 1, 2 The The The The " * 1000,
        "marker: VI, " * 2000,
    ],
    ids=lambda text: repr(text[:12]),
)
def test_pathological_text_is_quick(text: str) -> None:
    began = time.perf_counter()
    for finder in FINDERS:
        finder(text)
    find_danger_warning(text)
    mentions(text, "Acacia Avenue")
    assert time.perf_counter() - began < 1.0
