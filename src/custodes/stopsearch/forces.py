"""The police forces of England and Wales: data.police.uk ids, names, and the names population tables use."""

from __future__ import annotations

import re

# data.police.uk force id → the force's name.
FORCES = {
    "avon-and-somerset": "Avon and Somerset Constabulary",
    "bedfordshire": "Bedfordshire Police",
    "btp": "British Transport Police",
    "cambridgeshire": "Cambridgeshire Constabulary",
    "cheshire": "Cheshire Constabulary",
    "city-of-london": "City of London Police",
    "cleveland": "Cleveland Police",
    "cumbria": "Cumbria Constabulary",
    "derbyshire": "Derbyshire Constabulary",
    "devon-and-cornwall": "Devon & Cornwall Police",
    "dorset": "Dorset Police",
    "durham": "Durham Constabulary",
    "dyfed-powys": "Dyfed-Powys Police",
    "essex": "Essex Police",
    "gloucestershire": "Gloucestershire Constabulary",
    "greater-manchester": "Greater Manchester Police",
    "gwent": "Gwent Police",
    "hampshire": "Hampshire Constabulary",
    "hertfordshire": "Hertfordshire Constabulary",
    "humberside": "Humberside Police",
    "kent": "Kent Police",
    "lancashire": "Lancashire Constabulary",
    "leicestershire": "Leicestershire Police",
    "lincolnshire": "Lincolnshire Police",
    "merseyside": "Merseyside Police",
    "metropolitan": "Metropolitan Police Service",
    "norfolk": "Norfolk Constabulary",
    "north-wales": "North Wales Police",
    "north-yorkshire": "North Yorkshire Police",
    "northamptonshire": "Northamptonshire Police",
    "northumbria": "Northumbria Police",
    "nottinghamshire": "Nottinghamshire Police",
    "south-wales": "South Wales Police",
    "south-yorkshire": "South Yorkshire Police",
    "staffordshire": "Staffordshire Police",
    "suffolk": "Suffolk Constabulary",
    "surrey": "Surrey Police",
    "sussex": "Sussex Police",
    "thames-valley": "Thames Valley Police",
    "warwickshire": "Warwickshire Police",
    "west-mercia": "West Mercia Police",
    "west-midlands": "West Midlands Police",
    "west-yorkshire": "West Yorkshire Police",
    "wiltshire": "Wiltshire Police",
}
# Forces with no resident population to count searches against (stopsearch.md: their population, rates and
# ratios are null). Their population figures are not stored, and the report says why.
NO_RESIDENT_POPULATION = {
    "city-of-london": (
        "the City of London has a few thousand residents (7,375 at Census 2011) but hundreds of thousands of "
        "people work in or visit it each day, so searches per resident would mislead"
    ),
    "btp": "British Transport Police polices the railways, which have no resident population",
}
# Spellings in population tables and elsewhere that do not slug to the id.
_ALIASES = {
    "metropolitan-police": "metropolitan",
    "metropolitan-police-service": "metropolitan",
    "london-city-of": "city-of-london",
    "british-transport-police": "btp",
}
_SUFFIXES = ("-police", "-constabulary", "-police-service")
_FORCE_ID = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def slug(text: str) -> str:
    text = text.strip().lower().replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def force_key(text: str) -> str | None:
    """The force id for a name or id ("Metropolitan Police", "London, City of", "kent"); None if not a force.

    Forces outside the known list (a test force, a force's own name for itself) are accepted when the text
    is already a valid id: lower case letters, digits and hyphens.
    """
    key = slug(text)
    if key in FORCES:
        return key
    if key in _ALIASES:
        return _ALIASES[key]
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and key.removesuffix(suffix) in FORCES:
            return key.removesuffix(suffix)
    if text.strip() == key and _FORCE_ID.match(key):
        return key
    return None


def force_name(key: str) -> str:
    return FORCES.get(key, key.replace("-", " ").title())
