"""Identity and least privilege: accounts, sign-in, sessions, roles and the checks.

- :mod:`~landgov.security.policy`: roles, capabilities, date rules (pure);
- :mod:`~landgov.security.passwords`: argon2id hashes and the password rule;
- :mod:`~landgov.security.sessions`: sign-in with lockout and TOTP, sessions, binding
  the actor to a database transaction;
- :mod:`~landgov.security.authz`: :func:`authorize`, the check of every action;
- :mod:`~landgov.security.accounts`: the administrator's commands, services, bootstrap;
- :mod:`~landgov.security.access`: the access log of personal-data reads.

Identity always comes from a session (:class:`Actor`), never from a name a caller types.
"""

from landgov.security.access import log_access
from landgov.security.actor import Actor
from landgov.security.authz import authorize, may_unmask
from landgov.security.sessions import authenticate, bind, login, logout, service_login

__all__ = [
    "Actor",
    "authenticate",
    "authorize",
    "bind",
    "log_access",
    "login",
    "logout",
    "may_unmask",
    "service_login",
]
