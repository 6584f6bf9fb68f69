"""The CLI acts as a signed-in person: login, the token file, logout, expiry, and the
administrator's ``landgov users`` commands, through typer's runner against real PostGIS."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from cli_support import fresh_code, invoke, sign_in, use_database
from security_support import PASSWORD, code_for, owner_engine, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import AuthenticationFailed
from landgov.security import authenticate

OFFICER_CNIC = "35404-1234567-1"


@pytest.fixture
def cli(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The CLI on a fresh database with an administrator and an officer posted today."""
    use_database(engine, tmp_path, monkeypatch)
    with owner_engine(engine).begin() as conn:
        province = conn.execute(text(
            "INSERT INTO admin_unit (level, name) VALUES ('province', 'Punjab') RETURNING id"
        )).scalar_one()  # fmt: skip
        district = conn.execute(text(
            "INSERT INTO admin_unit (level, name, parent_id) VALUES ('district', 'Sheikhupura',"
            " :p) RETURNING id"), {"p": province}).scalar_one()  # fmt: skip
        tehsil = conn.execute(text(
            "INSERT INTO admin_unit (level, name, parent_id) VALUES ('tehsil', 'Ferozewala',"
            " :p) RETURNING id"), {"p": district}).scalar_one()  # fmt: skip
        officer = conn.execute(text(
            "INSERT INTO officer (name, designation, cnic) VALUES ('Iqbal Ahmed',"
            " 'naib_tehsildar', :c) RETURNING id"), {"c": OFFICER_CNIC}).scalar_one()  # fmt: skip
        conn.execute(text(
            "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
            " VALUES (:o, :t, DATE '2020-01-01')"), {"o": officer, "t": tehsil})  # fmt: skip
    staff_actor(engine, "administrator")  # the account
    return engine


def _admin(engine: Engine) -> str:
    """The administrator's username (security_support's staff account)."""
    return staff_actor(engine, "administrator").username


def _session_file() -> Path:
    return Path(os.environ["LANDGOV_SESSION_FILE"])


def _audit(engine: Engine, action: str) -> list[tuple[str, dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, details FROM audit_log WHERE action = :a ORDER BY seq"),
            {"a": action},
        ).all()
    return [(r.actor, r.details) for r in rows]


def test_login_with_password_and_code_leaves_a_private_token(cli: Engine) -> None:
    admin = _admin(cli)
    result = sign_in(cli, admin)
    assert f"signed in as {admin}" in result.output
    path = _session_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["username"] == admin
    actor = authenticate(cli, saved["token"])  # the database knows the token
    assert actor.username == admin and actor.second_factor
    with cli.connect() as conn:
        channel, minutes = conn.execute(text(
            "SELECT channel, round(extract(epoch FROM expires_at - created_at) / 60)"
            " FROM user_session WHERE id = :s"), {"s": actor.session_id}).one()  # fmt: skip
        setting = conn.execute(
            text("SELECT value FROM security_setting WHERE name = 'cli_token_minutes'")
        ).scalar_one()
    assert channel == "cli" and int(minutes) == setting

    who = invoke("whoami", "--json")
    assert who.exit_code == 0, who.output
    info = json.loads(who.output)
    assert info["username"] == admin and info["roles"] == ["administrator"]
    assert info["second_factor"] is True


def test_a_wrong_code_or_password_is_a_clean_refusal(cli: Engine) -> None:
    wrong = invoke("login", "-u", _admin(cli), "--password-stdin", input=f"{PASSWORD}\n000000\n")
    assert wrong.exit_code == 1
    assert "sign-in failed" in wrong.output and "Traceback" not in wrong.output
    missing = invoke("login", "-u", _admin(cli), "--password-stdin",
                     input=f"not the password\n{fresh_code(cli, _admin(cli))}\n")  # fmt: skip
    assert missing.exit_code == 1 and "sign-in failed" in missing.output
    nobody = invoke("login", "-u", "nobody.here", "--password-stdin", input="whatever\n123456\n")
    assert nobody.output == missing.output  # the same words whether the account exists
    assert not _session_file().exists()


def test_a_changing_command_refuses_without_a_session(cli: Engine, tmp_path: Path) -> None:
    result = invoke("users", "add", "new.user", "--name", "New User", "--role", "auditor")
    assert result.exit_code == 1
    assert "not signed in: run 'landgov login' first" in result.output
    assert "Traceback" not in result.output
    # a batch command with neither a session nor its service's key readable
    rates = tmp_path / "dc.csv"
    rates.write_text("x\n1\n", encoding="utf-8")
    job = invoke("tax", "rates", "load", "dc", str(rates))
    assert job.exit_code == 1
    assert "runs as the 'demo' service" in job.output and "landgov login" in job.output
    assert _audit(cli, "account.add") == []


def test_a_token_file_others_can_read_is_refused(cli: Engine) -> None:
    sign_in(cli, _admin(cli))
    _session_file().chmod(0o644)
    result = invoke("whoami")
    assert result.exit_code == 1
    assert "can be read by other users" in result.output
    assert "Traceback" not in result.output


def test_logout_revokes_the_token_in_the_database(cli: Engine) -> None:
    sign_in(cli, _admin(cli))
    token = json.loads(_session_file().read_text(encoding="utf-8"))["token"]
    result = invoke("logout")
    assert result.exit_code == 0, result.output
    assert not _session_file().exists()
    with pytest.raises(AuthenticationFailed):
        authenticate(cli, token)
    again = invoke("whoami")
    assert again.exit_code == 1 and "not signed in" in again.output


def test_an_expired_token_is_refused(cli: Engine) -> None:
    sign_in(cli, _admin(cli))
    token = json.loads(_session_file().read_text(encoding="utf-8"))["token"]
    with owner_engine(cli).begin() as conn:
        conn.execute(text(
            "UPDATE user_session SET idle_expires_at = now() - interval '1 minute',"
            " expires_at = now() - interval '1 minute'"
            " WHERE token_hash = encode(sha256(convert_to(:t, 'UTF8')), 'hex')"),
            {"t": token})  # fmt: skip
    result = invoke("users", "list")
    assert result.exit_code == 1
    assert "your session has ended" in result.output and "Traceback" not in result.output


def test_users_add_by_a_non_administrator_is_refused(cli: Engine) -> None:
    sign_in(cli, staff_actor(cli, "revenue_analyst").username)
    result = invoke("users", "add", "new.user", "--name", "New User", "--role", "auditor")
    assert result.exit_code == 1
    assert "refused by rule role" in result.output and "manage accounts" in result.output
    with cli.connect() as conn:
        assert (
            conn.execute(text("SELECT 1 FROM app_user WHERE username = 'new.user'")).first() is None
        )
    assert _audit(cli, "account.add") == []


def test_the_administrator_manages_accounts_and_each_change_is_audited(cli: Engine) -> None:
    sign_in(cli, _admin(cli))
    added = invoke("users", "add", "iqbal.nt", "--name", "Iqbal Ahmed", "--officer", OFFICER_CNIC)
    assert added.exit_code == 0, added.output
    password = next(line.split(": ", 1)[1] for line in added.output.splitlines()
                    if "one-time password" in line)  # fmt: skip
    secret = next(line.split(": ", 1)[1] for line in added.output.splitlines()
                  if "TOTP secret" in line)  # fmt: skip
    assert "otpauth://totp/" in added.output  # a deciding officer must enrol TOTP

    analyst = invoke("users", "add", "sana.analyst", "--name", "Sana Malik",
                     "--role", "revenue_analyst")  # fmt: skip
    assert analyst.exit_code == 0, analyst.output
    assert "TOTP secret" not in analyst.output  # an analyst needs no second factor

    listed = invoke("users", "list", "--json")
    assert listed.exit_code == 0, listed.output
    accounts = {a["username"]: a for a in json.loads(listed.output)}
    assert accounts["iqbal.nt"]["roles"] == ["naib_tehsildar"]
    assert accounts["iqbal.nt"]["second_factor"] is True
    assert accounts["sana.analyst"]["roles"] == ["revenue_analyst"]

    roles = invoke("users", "roles", "sana.analyst", "--grant", "auditor")
    assert roles.exit_code == 0, roles.output
    listed = json.loads(invoke("users", "list", "--json").output)
    assert {a["username"]: a["roles"] for a in listed}["sana.analyst"] == [
        "auditor", "revenue_analyst",
    ]  # fmt: skip
    bad_role = invoke("users", "roles", "sana.analyst", "--grant", "tehsildar")
    assert bad_role.exit_code == 1 and "unknown role 'tehsildar'" in bad_role.output

    # the new officer signs in with what was handed over and sees his posting
    officer_login = invoke("login", "-u", "iqbal.nt", "--password-stdin",
                           input=f"{password}\n{code_for(secret)}\n")  # fmt: skip
    assert officer_login.exit_code == 0, officer_login.output
    who = invoke("whoami", "--json")
    info = json.loads(who.output)
    assert info["designation"] == "naib_tehsildar"
    assert [p["name"] for p in info["postings"]] == ["Ferozewala"]
    text_who = invoke("whoami")
    assert "posted over tehsil Ferozewala since 2020-01-01" in text_who.output
    # ... and may not manage accounts
    refused = invoke("users", "disable", "sana.analyst")
    assert refused.exit_code == 1 and "refused by rule role" in refused.output

    sign_in(cli, _admin(cli))
    reset = invoke("users", "reset-password", "iqbal.nt", "--totp")
    assert reset.exit_code == 0, reset.output
    assert "one-time password" in reset.output and "TOTP secret" in reset.output
    disabled = invoke("users", "disable", "sana.analyst")
    assert disabled.exit_code == 0, disabled.output
    listed = {a["username"]: a for a in json.loads(invoke("users", "list", "--json").output)}
    assert listed["sana.analyst"]["disabled"] is True
    itself = invoke("users", "disable", _admin(cli))
    assert itself.exit_code == 1 and "cannot disable his own account" in itself.output

    for action, username in [("account.add", "iqbal.nt"), ("account.add", "sana.analyst"),
                             ("account.roles", "sana.analyst"),
                             ("account.reset_password", "iqbal.nt"),
                             ("account.disable", "sana.analyst")]:  # fmt: skip
        rows = [d for a, d in _audit(cli, action) if d.get("username") == username]
        assert rows, f"no {action} audit row for {username}"
        assert all(a == f"user:{_admin(cli)}" for a, d in _audit(cli, action))
    # nothing secret in the audit log
    with cli.connect() as conn:
        logged = " ".join(
            str(d) for d in conn.execute(text("SELECT details FROM audit_log")).scalars()
        )
    assert password not in logged and secret not in logged


def test_bootstrap_admin_only_while_there_is_none(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(engine, tmp_path, monkeypatch)
    first = invoke("users", "bootstrap-admin", "chief.admin", "--name", "Chief Admin")
    assert first.exit_code == 0, first.output
    assert "one-time password" in first.output and "TOTP secret" in first.output
    again = invoke("users", "bootstrap-admin", "second.admin", "--name", "Second Admin")
    assert again.exit_code == 1 and "an administrator exists already" in again.output
    with engine.connect() as conn:
        roles = conn.execute(text(
            "SELECT u.username, r.role, r.valid_from FROM user_role r JOIN app_user u"
            " ON u.id = r.user_id WHERE u.kind = 'person'")).all()  # fmt: skip
    assert [(r.username, r.role) for r in roles] == [("chief.admin", "administrator")]
    assert roles[0].valid_from <= date.today()
