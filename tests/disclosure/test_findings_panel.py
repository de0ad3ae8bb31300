"""The findings panel explains the K10 policy code only where a finding cites it."""

from custodes.disclosure.rules import finding
from custodes.disclosure.schemas import CheckResult
from custodes.web.templating import environment


def _panel(*codes: str) -> str:
    macro = environment.get_template("disclosure/_findings.html").module.all_findings  # type: ignore[attr-defined]
    return str(macro(CheckResult(tuple(finding(code, code.lower()) for code in codes))))


def test_k10_is_explained_when_a_finding_cites_it() -> None:
    assert "K10 is the force's policy" in _panel("AUTHORISATION_MISSING")
    assert "its rules on authorisation apply to every disclosure" in _panel("SCHEME_NOT_RECOGNISED")


def test_no_k10_sentence_when_no_finding_cites_it() -> None:
    panel = _panel("AGREEMENT_MISSING")
    assert "K10 is the force's policy" not in panel and "What the checks look for" in panel
    assert "K10 is the force's policy" not in _panel()
