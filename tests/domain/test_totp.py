"""HOTP/TOTP against the published test vectors (RFC 4226 appendix D, RFC 6238 appendix B)."""

from __future__ import annotations

import base64

import pytest

from landgov.domain import totp

SECRET = b"12345678901234567890"
SECRET_B32 = base64.b32encode(SECRET).decode()


@pytest.mark.parametrize(
    ("counter", "code"),
    list(enumerate(["755224", "287082", "359152", "969429", "338314",
                    "254676", "287922", "162583", "399871", "520489"])),
)  # fmt: skip
def test_hotp_rfc4226_vectors(counter: int, code: str) -> None:
    assert totp.hotp(SECRET, counter) == code


@pytest.mark.parametrize(
    ("unix_time", "code8"),
    [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ],
)
def test_totp_rfc6238_sha1_vectors(unix_time: int, code8: str) -> None:
    assert totp.hotp(SECRET, totp.step_at(unix_time), digits=8) == code8
    assert totp.totp(SECRET_B32, unix_time) == code8[-6:]


def test_verify_accepts_one_step_of_drift_and_refuses_more() -> None:
    t = 1234567890
    code = totp.totp(SECRET_B32, t)
    assert totp.verify(SECRET_B32, code, t) == totp.step_at(t)
    assert totp.verify(SECRET_B32, code, t + 30) == totp.step_at(t)
    assert totp.verify(SECRET_B32, code, t - 30) == totp.step_at(t)
    assert totp.verify(SECRET_B32, code, t + 90) is None


def test_a_code_works_once() -> None:
    t = 1234567890
    code = totp.totp(SECRET_B32, t)
    step = totp.verify(SECRET_B32, code, t)
    assert step is not None
    assert totp.verify(SECRET_B32, code, t, last_step=step) is None
    later = totp.totp(SECRET_B32, t + 30)
    assert totp.verify(SECRET_B32, later, t + 30, last_step=step) == step + 1


@pytest.mark.parametrize("bad", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_are_refused(bad: str) -> None:
    assert totp.verify(SECRET_B32, bad, 59) is None


def test_secret_is_read_without_padding_and_case() -> None:
    assert totp.decode_secret(SECRET_B32.lower().rstrip("=")) == SECRET


def test_provisioning_uri_names_issuer_and_account() -> None:
    uri = totp.provisioning_uri(SECRET_B32, "tehsildar.1")
    assert uri.startswith("otpauth://totp/landgov:tehsildar.1?secret=")
    assert "issuer=landgov" in uri
