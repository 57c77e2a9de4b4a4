"""The controller: the deploy logic running continuously in the stack (`python -m deploy.controller`).

It probes both colors all the time, moves the traffic to the idle color when the active one fails (and the
idle one is healthy on a release that served before), judges a switched-to color on live traffic with
Prometheus queries and rolls it back when it fails, alerts through Alertmanager and records every decision
in the history. Docs: docs/deployment.md, "The controller".
"""
