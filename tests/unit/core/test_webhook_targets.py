"""Which hosts a webhook may call: local and private addresses only when LOWCODE_WEBHOOK_ALLOW names them."""

from __future__ import annotations

import pytest

from lowcode.webhook_targets import UnsafeTarget, resolve_target


def _dns(answers: dict[str, list[str]]):
    return lambda host, port: answers[host]


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "127.8.9.1", "10.1.2.3", "172.16.0.9", "172.31.255.1", "192.168.1.1", "169.254.169.254",
     "0.0.0.0", "::1", "::", "fe80::1", "fd00::5", "::ffff:127.0.0.1", "100.64.0.1"],
)  # fmt: skip
def test_local_and_private_addresses_are_refused(address):
    with pytest.raises(UnsafeTarget, match="local or private address"):
        resolve_target("https://hooks.example/x", {}, _dns({"hooks.example": [address]}))


def test_a_literal_address_is_judged_too():
    with pytest.raises(UnsafeTarget, match="169.254.169.254"):
        resolve_target(
            "http://169.254.169.254/latest/meta-data", {}, _dns({"169.254.169.254": ["169.254.169.254"]})
        )


def test_one_bad_address_among_good_ones_is_refused():
    with pytest.raises(UnsafeTarget):
        resolve_target("https://hooks.example/x", {}, _dns({"hooks.example": ["93.184.216.34", "10.0.0.1"]}))


def test_public_addresses_pass_and_the_checked_one_is_returned():
    dns = _dns({"hooks.example": ["93.184.216.34", "2606:2800:220:1::1"]})
    assert resolve_target("https://hooks.example/x", {}, dns) == "93.184.216.34"


@pytest.mark.parametrize(
    "allow", ["hooks.internal", "HOOKS.internal, other", "10.0.0.0/8", ["10.1.2.3"], "x 10.1.2.3/32"]
)
def test_the_allow_list_names_hosts_or_networks(allow):
    dns = _dns({"hooks.internal": ["10.1.2.3"]})
    assert resolve_target("http://hooks.internal:8080/x", {"WEBHOOK_ALLOW": allow}, dns) == "10.1.2.3"


def test_an_allowed_network_does_not_allow_other_private_addresses():
    with pytest.raises(UnsafeTarget):
        resolve_target(
            "http://h.internal/", {"WEBHOOK_ALLOW": "10.0.0.0/8"}, _dns({"h.internal": ["192.168.0.1"]})
        )


def test_unresolvable_and_non_http_urls_are_refused():
    def fail(host, port):
        raise OSError("Name or service not known")

    with pytest.raises(UnsafeTarget, match="cannot resolve"):
        resolve_target("https://nowhere.example/", {}, fail)
    with pytest.raises(UnsafeTarget, match="http"):
        resolve_target("ftp://hooks.example/", {}, fail)
