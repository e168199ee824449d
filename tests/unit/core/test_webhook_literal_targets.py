"""Webhook URLs judged at publish without DNS: IP literals in any spelling a resolver accepts and loopback
names are refused unless LOWCODE_WEBHOOK_ALLOW names them; host names are left to the delivery check."""

from __future__ import annotations

import pytest

from lowcode.webhook_targets import literal_target_problem


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:169.254.169.254]/",
        "http://127.1/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://0177.0.0.1/",
        "http://127.000.000.001/",
        "http://user@127.0.0.1/",
        "http://example.com@127.0.0.1/",
        "http://127.0.0.1#@example.com/",
        "http://[::1]:8080/",
        "http://[fe80::1%25eth0]/",
        "http://[::]/",
        "http://0.0.0.0:80/",
        "http://10.0.0.1/",
        "http://[fd00::1]/",
        "http://224.0.0.1/",
        "http://LOCALHOST/",
        "http://localhost./",
        "http://admin.localhost/",
    ],
)
def test_local_literals_and_loopback_names_are_refused(url):
    assert "LOWCODE_WEBHOOK_ALLOW" in literal_target_problem(url, {})


@pytest.mark.parametrize(
    "url", ["http://[zz/", "http://example.com:99999/", "ftp://example.com/", "http:///x"]
)
def test_malformed_urls_are_refused(url):
    assert literal_target_problem(url, {}).startswith("not an http(s) URL")


@pytest.mark.parametrize(
    ("url", "allow"),
    [
        ("http://127.0.0.1:9000/x", "127.0.0.1"),
        ("http://localhost/x", "localhost"),
        ("http://localhost/x", "127.0.0.0/8"),
        ("http://[::1]/x", "::1/128"),
        ("http://10.20.1.2/x", "erp.internal, 10.20.0.0/16"),
    ],
)
def test_the_allow_list_lets_named_hosts_and_networks_through(url, allow):
    assert literal_target_problem(url, {"WEBHOOK_ALLOW": allow}) is None
    assert literal_target_problem(url, {"WEBHOOK_ALLOW": "192.0.2.0/24"}) is not None


@pytest.mark.parametrize(
    "url", ["https://hooks.example/x", "http://8.8.8.8/", "http://1.2.3.4.5/", "https://erp.internal/x"]
)
def test_public_addresses_and_host_names_pass_without_dns(url):
    assert literal_target_problem(url, {}) is None
