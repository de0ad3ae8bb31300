"""Disclosures: the rule engine that checks every disclosure of personal information."""
