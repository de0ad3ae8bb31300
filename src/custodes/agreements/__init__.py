"""Reference data for disclosures: partner organisations, sharing agreements, crime-reduction schemes."""
