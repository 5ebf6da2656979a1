"""Placeholders (documentation ranges, example.com names, placeholder project ids) are warnings
offline and errors when `pulumi up` deploys, naming the key and the fix."""

from __future__ import annotations

import ipaddress
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.config.load import load_config
from infra.config.problems import ConfigError
from infra.placeholders import documentation_domain, documentation_network, findings
from infra.plan.stackfiles import REPO_ROOT, read_stack

OWN = {"kserveDomain": "pdk.test"}


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("203.0.113.0/24", "203.0.113.0/24 (RFC 5737)"),
        ("203.0.113.7/32", "203.0.113.0/24 (RFC 5737)"),
        ("192.0.2.1/32", "192.0.2.0/24 (RFC 5737)"),
        ("198.51.100.0/25", "198.51.100.0/24 (RFC 5737)"),
        ("2001:db8::/48", "2001:db8::/32 (RFC 3849)"),
        ("0.0.0.0/0", None),  # wider than a documentation range: a real (risky) choice
        ("203.0.0.0/16", None),
        ("198.18.0.7/32", None),  # RFC 2544 benchmarking, not documentation
        ("10.0.0.0/8", None),
    ],
)
def test_documentation_networks(text: str, found: str | None) -> None:
    assert documentation_network(text) == found


@pytest.mark.parametrize(
    ("host", "found"),
    [
        ("example.com", "example.com"),
        ("mldm.Example.COM", "example.com"),
        ("a.b.example.org", "example.org"),
        ("pdk.example", "example"),
        ("notexample.com", None),
        ("example.com.au", None),
        ("pdk.test", None),
        ("pdk.localhost", None),
        ("pdk.internal", None),
    ],
)
def test_documentation_domains(host: str, found: str | None) -> None:
    assert documentation_domain(host) == found


@given(st.integers(0, 255), st.sampled_from(["192.0.2", "198.51.100", "203.0.113"]))
def test_every_documentation_address_is_found_in_a_list(last: int, prefix: str) -> None:
    value = f"10.0.0.0/8,{prefix}.{last}/32, 172.16.0.0/12"
    (finding,) = findings(value)
    assert f"{prefix}.{last}/32 is in the documentation range" in finding


@given(st.ip_addresses(v=4))
def test_no_address_outside_the_ranges_is_flagged(address: ipaddress.IPv4Address) -> None:
    reserved = [
        ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
    ]
    if any(address in network for network in reserved):
        return
    assert findings(f"{address}/32") == []


def _placeholder_keys(stack: str, **overrides: str) -> set[str]:
    raw, secret = read_stack(stack)
    config = load_config(stack, {**raw, **overrides}, secret)
    return {w.key for w in config.warnings if w.placeholder}


def test_the_committed_cloud_stacks_plan_with_warnings_and_the_others_have_none() -> None:
    assert _placeholder_keys("aws") == {"awsApiAccessCidrs", "exposeSourceRanges", "kserveDomain"}
    assert _placeholder_keys("gcp") == {
        "gcpProject",
        "gcpApiAccessCidrs",
        "exposeSourceRanges",
        "kserveDomain",
    }
    assert _placeholder_keys("local") == set() == _placeholder_keys("onprem")


def test_deploying_turns_each_placeholder_into_an_error_with_key_and_fix() -> None:
    raw, secret = read_stack("gcp")
    with pytest.raises(ConfigError) as caught:
        load_config("gcp", raw, secret, deploying=True)
    problems = {p.key: p for p in caught.value.problems}
    assert set(problems) == {
        "gcpProject",
        "gcpApiAccessCidrs",
        "exposeSourceRanges",
        "kserveDomain",
    }
    assert problems["gcpProject"].fix == "pulumi config set gcpProject <project-id> --stack gcp"
    rendered = problems["kserveDomain"].render()
    assert "example.com is a name reserved for documentation (RFC 2606)" in rendered
    assert "(not set, so the default)" in rendered and "pulumi up refuses placeholders" in rendered
    assert "Fix: pulumi config set kserveDomain <pdk.your-domain> --stack gcp" in rendered


def test_own_values_deploy() -> None:
    raw, secret = read_stack("aws")
    own = {
        "awsApiAccessCidrs": "198.18.0.7/32",
        "exposeSourceRanges": "10.0.0.0/8,198.18.0.7/32",
        **OWN,
    }
    config = load_config("aws", {**raw, **own}, secret, deploying=True)
    assert not [w for w in config.warnings if w.placeholder]


def test_a_flow_url_under_example_com_is_a_placeholder_too() -> None:
    keys = _placeholder_keys(
        "onprem", flowMldeUrl="https://mlde.example.com:8443", flowMldmAddress="localhost:30080"
    )
    assert keys == {"flowMldeUrl"}


def test_pdk_plan_warns_and_exits_0_for_placeholders() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "infra.cli", "plan", "-s", "aws"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stderr = " ".join(result.stderr.split())
    assert stderr.count("pulumi up refuses placeholders") == 3
    assert "pdk-deployer:awsApiAccessCidrs = '203.0.113.0/24'" in stderr
