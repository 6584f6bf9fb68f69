"""Time-based one-time passwords: HOTP (RFC 4226) and TOTP (RFC 6238), pure.

The second factor of every account that can sanction, decide a case or change rates.
Authenticator apps (Google Authenticator, FreeOTP, Microsoft Authenticator) use the
defaults here: HMAC-SHA1, 6 digits, 30-second steps, a base32 secret of 160 bits.

Replay: :func:`verify` returns the time step that matched, so the caller can store it
and refuse that step (and earlier ones) next time; a code seen once is spent.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from typing import Final
from urllib.parse import quote

DIGITS: Final = 6
STEP_SECONDS: Final = 30


def hotp(secret: bytes, counter: int, digits: int = DIGITS) -> str:
    """RFC 4226 §5.3: dynamic truncation of HMAC-SHA1(secret, counter), ``digits`` long."""
    mac = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    code = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return str(code).zfill(digits)


def decode_secret(secret_b32: str) -> bytes:
    """The key bytes of a base32 secret (blanks and case ignored, padding optional)."""
    cleaned = "".join(secret_b32.split()).upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def step_at(unix_time: float, step_seconds: int = STEP_SECONDS) -> int:
    """RFC 6238 §4.2: T = floor((unix time - T0) / X) with T0 = 0."""
    return int(unix_time // step_seconds)


def totp(secret_b32: str, unix_time: float, digits: int = DIGITS) -> str:
    """The code of ``secret_b32`` at ``unix_time``."""
    return hotp(decode_secret(secret_b32), step_at(unix_time), digits)


def verify(
    secret_b32: str,
    code: str,
    unix_time: float,
    *,
    last_step: int | None = None,
    window: int = 1,
) -> int | None:
    """The time step ``code`` belongs to, or None when it is wrong or spent.

    Accepts the current step and ``window`` steps either side (clock drift between the
    server and the phone), compared in constant time; a step at or before ``last_step``
    (the last one accepted for this account) is refused, so a code works once.
    """
    given = "".join(code.split())
    if len(given) != DIGITS or not given.isdigit():
        return None
    key = decode_secret(secret_b32)
    now = step_at(unix_time)
    found: int | None = None
    for step in range(now - window, now + window + 1):
        if hmac.compare_digest(hotp(key, step), given) and (last_step is None or step > last_step):
            found = step
    return found


def provisioning_uri(secret_b32: str, account: str, issuer: str = "landgov") -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or typed in)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    return f"otpauth://totp/{label}?secret={secret_b32}&issuer={quote(issuer)}&digits={DIGITS}"
