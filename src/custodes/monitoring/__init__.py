"""Monitoring: the reference registers that explain access (nominals, cases, rosters); later, access logs."""
