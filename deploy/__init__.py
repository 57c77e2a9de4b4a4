"""Host-side deployment CLI: compose stacks, health-gated blue/green switching (`python -m deploy.cli`)."""
