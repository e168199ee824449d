"""The ``lowcode`` command: migrate, init without prompts, demo, template export/import, serve failures."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from lowcode.cli import main
from tests.dbs import empty_database, fresh_database

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def db_env(tmp_path, monkeypatch):
    """The CLI's environment pointing at a migrated database."""
    with fresh_database(tmp_path) as url:
        monkeypatch.setenv("LOWCODE_DATABASE_URL", url)
        monkeypatch.setenv("LOWCODE_SECRET_KEY", "cli-test")
        yield url


@pytest.fixture
def empty_env(tmp_path, monkeypatch):
    """The CLI's environment pointing at an empty database (no `lowcode migrate` yet)."""
    with empty_database(tmp_path) as url:
        monkeypatch.setenv("LOWCODE_DATABASE_URL", url)
        monkeypatch.setenv("LOWCODE_SECRET_KEY", "cli-test")
        yield url


def test_migrate_runs_once_then_finds_nothing_to_do(empty_env):
    runner = CliRunner()
    first = runner.invoke(main, ["migrate"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("migrated the database from empty to revision ")
    again = runner.invoke(main, ["migrate"])
    assert again.exit_code == 0 and again.output.startswith("the database is up to date"), again.output


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["worker"]])
def test_serve_and_worker_refuse_a_database_that_needs_migrating(empty_env, command):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = subprocess.run(
        [sys.executable, "-m", "lowcode", *command], env=env, capture_output=True, text=True, timeout=60
    )
    assert started.returncode != 0
    assert started.stderr == (
        "error: cannot start: the database schema has no system tables yet: run `lowcode migrate`\n"
    )


def test_init_creates_admin_without_prompting_and_is_idempotent(empty_env):
    runner = CliRunner()
    first = runner.invoke(main, ["init", "--admin-user", "boss", "--admin-password", "long-enough-1"])
    assert first.exit_code == 0, first.output
    assert "migrated the database from empty" in first.output  # init migrates by itself
    assert "created administrator 'boss'" in first.output
    again = runner.invoke(main, ["init", "--admin-user", "boss", "--admin-password", "long-enough-1"])
    assert again.exit_code == 0 and "kept existing" in again.output


def test_init_with_a_short_password_fails_with_one_line_reason(db_env):
    result = CliRunner().invoke(main, ["init", "--admin-user", "boss", "--admin-password", "short"])
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_demo_then_export_and_import_a_template(empty_env, tmp_path):
    runner = CliRunner()
    demo = ["demo", "--password", "demo-pass-123", "--template", str(ROOT / "app_templates" / "demo")]
    result = runner.invoke(main, demo)
    assert result.exit_code == 0, result.output
    assert "installed app 'demo'" in result.output
    assert "already installed" in runner.invoke(main, demo).output
    out = tmp_path / "exported"
    assert runner.invoke(main, ["template", "export", "demo", str(out)]).exit_code == 0
    assert (out / "app.json").is_file() and (out / "entities" / "order.json").is_file()
    app_json = (out / "app.json").read_text().replace('"name": "demo"', '"name": "demo_copy"')
    (out / "app.json").write_text(app_json)
    imported = runner.invoke(main, ["template", "import", str(out)])
    assert imported.exit_code == 0, imported.output
    assert "installed app 'demo_copy'" in imported.output
    missing = runner.invoke(main, ["template", "export", "nope", str(tmp_path / "x")])
    assert missing.exit_code != 0 and "No published app 'nope'" in missing.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_and_fails_cleanly_on_a_taken_port(db_env):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "lowcode", "serve", "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        body = None
        for _ in range(100):  # wait until the port answers (bounded: 10 s)
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/openapi.json", timeout=1
                ) as response:
                    body = response.read()
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None and b'"openapi"' in body
        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=30)
        assert second.returncode != 0
        assert second.stderr.strip().startswith("error: cannot listen on")
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        server.terminate()
        server.wait(timeout=10)
