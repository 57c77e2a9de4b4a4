"""Access control: API keys (hashes in a key store file the deploy CLI writes), scopes per route, the caller of a
request (for the audit trail) and when each key was last used."""
