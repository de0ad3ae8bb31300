"""Words for counts, shared by screens, messages and the command line."""


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """ "1 action", "3 actions", "1,204 accounts": the count (thousands separated) and the word that fits
    it. `plural_form` for words that do not just take an s ("1 person", "2 people")."""
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count:,} {word}"
