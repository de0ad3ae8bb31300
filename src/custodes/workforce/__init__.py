"""Workforce integrity: staff records, training, vetting, declarations and the pre-access gate."""
