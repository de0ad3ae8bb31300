"""Staff accounts, log-in, roles and permissions, API tokens, configuration."""
