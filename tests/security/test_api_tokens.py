"""Access tokens of API clients (issue 20): HMAC-signed JWTs, checked strictly. No
database: the signer is pure."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from landgov.errors import AuthenticationFailed
from landgov.security.clients import ApiClient, TokenSigner, secret_hash
from landgov.security.policy import API_SCOPES, parse_scopes

CLIENT = ApiClient(7, "a-bank", "A Bank", frozenset({"fard:read", "parcels:read"}),
                   "client_credentials", 60)  # fmt: skip


def _part(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_round_trips_its_claims_until_it_expires() -> None:
    signer = TokenSigner(b"k" * 32)
    token, claims = signer.issue(CLIENT, {"fard:read"}, 15, now=1_000_000)
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "typ": "at+jwt", "kid": signer.key_id}
    back = signer.verify(token, now=1_000_000 + 899)
    assert back == claims and back.scopes == {"fard:read"} and back.client_id == 7
    with pytest.raises(AuthenticationFailed, match="expired"):
        signer.verify(token, now=1_000_000 + 900)


def test_a_token_cannot_claim_a_scope_its_client_lacks() -> None:
    with pytest.raises(AuthenticationFailed):
        TokenSigner(b"k" * 32).issue(CLIENT, {"holdings:read"}, 15)


@pytest.mark.parametrize("attack", ["other_key", "alg_none", "alg_rs256", "edited", "garbage"])
def test_forged_tokens_are_refused(attack: str) -> None:
    signer = TokenSigner(b"k" * 32)
    token, _ = signer.issue(CLIENT, CLIENT.scopes, 15)
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    forged = {
        "other_key": TokenSigner(b"x" * 32).issue(CLIENT, CLIENT.scopes, 15)[0],
        "alg_none": f"{_part({'alg': 'none', 'kid': signer.key_id})}.{payload}.",
        "alg_rs256": f"{_part({'alg': 'RS256', 'kid': signer.key_id})}.{payload}.{sig}",
        "edited": f"{head}.{_part({**claims, 'client_id': 8})}.{sig}",
        "garbage": "a.b.c",
    }[attack]
    with pytest.raises(AuthenticationFailed, match="not valid"):
        signer.verify(forged)


def test_the_key_file_is_made_private_once_and_refused_when_readable(tmp_path: Path) -> None:
    path = tmp_path / "api" / "token_signing.key"
    first = TokenSigner.from_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert TokenSigner.from_file(path).key_id == first.key_id  # kept, not remade
    path.chmod(0o644)
    with pytest.raises(AuthenticationFailed, match="read by other users"):
        TokenSigner.from_file(path)
    with pytest.raises(ValueError, match="256 bits"):
        TokenSigner(b"short")


def test_scopes_parse_from_commas_or_spaces() -> None:
    assert parse_scopes("fard:read, parcels:read") == {"fard:read", "parcels:read"}
    assert parse_scopes("valuation:read holdings:read") == {"valuation:read", "holdings:read"}
    assert set(API_SCOPES) == {"fard:read", "parcels:read", "valuation:read", "holdings:read"}
    with pytest.raises(ValueError, match="unknown scope"):
        parse_scopes("records:write")
    assert len(secret_hash("lgk_x")) == 64 and secret_hash(" lgk_x ") == secret_hash("lgk_x")
