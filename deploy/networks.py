"""The stack network's address plan (STACK_NET.0/24): is it free on this Docker engine, and a free one if not."""

from __future__ import annotations

import ipaddress
import random
import subprocess

from deploy.compose import Runner


def used_subnets(runner: Runner = subprocess.run) -> dict[str, ipaddress.IPv4Network]:
    """The IPv4 subnets of every Docker network on this engine, by network name."""
    names = runner(["docker", "network", "ls", "--format", "{{.Name}}"], capture_output=True, text=True)
    found: dict[str, ipaddress.IPv4Network] = {}
    for name in names.stdout.split():
        done = runner(
            ["docker", "network", "inspect", name, "--format", "{{range .IPAM.Config}}{{.Subnet}} {{end}}"],
            capture_output=True,
            text=True,
        )
        for subnet in done.stdout.split():
            network = ipaddress.ip_network(subnet, strict=False)
            if isinstance(network, ipaddress.IPv4Network):
                found[name] = network
    return found


def clash(stack_net: str, used: dict[str, ipaddress.IPv4Network], own_network: str) -> str | None:
    """The name of another network overlapping `<stack_net>.0/24` (None if it is free or it is ours)."""
    ours = ipaddress.ip_network(f"{stack_net}.0/24")
    return next((name for name, net in used.items() if name != own_network and net.overlaps(ours)), None)


def free_stack_net(used: dict[str, ipaddress.IPv4Network], rng: random.Random | None = None) -> str:
    """A /24 prefix in 10.128.0.0/9 that no Docker network uses (for throwaway stacks: tests, benchmarks)."""
    rng = rng or random.Random()
    for _ in range(1000):
        prefix = f"10.{rng.randint(128, 254)}.{rng.randint(0, 254)}"
        if not any(net.overlaps(ipaddress.ip_network(f"{prefix}.0/24")) for net in used.values()):
            return prefix
    raise RuntimeError("no free /24 found in 10.128.0.0/9")
