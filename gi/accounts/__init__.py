"""Users of the service: accounts, passwords (argon2), access tokens, failed-login pauses and data scopes."""
