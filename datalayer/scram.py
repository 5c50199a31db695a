"""SCRAM-SHA-256 verifiers, computed on the control machine.

The plaintext password never leaves the machine that runs the deploy: the host receives only the
verifier PostgreSQL stores in ``pg_authid`` (which cannot be used to log in), and a deploy compares
the stored verifier with the secret here to decide, without a change, that a password is current.
Format and derivation follow PostgreSQL's ``scram_build_secret`` (RFC 5802, RFC 7677).
"""

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 4096  # PostgreSQL's scram_iterations default
_SALT_BYTES = 16


def _keys(password: str, salt: bytes, iterations: int) -> tuple[bytes, bytes]:
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    return stored_key, server_key


def verifier(password: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` for ``password``."""
    salt = secrets.token_bytes(_SALT_BYTES) if salt is None else salt
    stored_key, server_key = _keys(password, salt, iterations)
    encode = base64.b64encode
    return (
        f"SCRAM-SHA-256${iterations}:{encode(salt).decode()}"
        f"${encode(stored_key).decode()}:{encode(server_key).decode()}"
    )


def salt_header(stored: str | None) -> str | None:
    """``<iterations>:<salt>`` of a stored SCRAM verifier: what a server tells any client that
    starts a SCRAM login, so no secret; None for anything that is not such a verifier."""
    if not stored or not stored.startswith("SCRAM-SHA-256$"):
        return None
    return stored.removeprefix("SCRAM-SHA-256$").split("$")[0]


def verifier_with(password: str, header: str) -> str | None:
    """The verifier of ``password`` under a stored verifier's ``<iterations>:<salt>`` header:
    equal to the stored one exactly when ``password`` is its password. None: a header that is
    not SCRAM-SHA-256's."""
    try:
        iterations_text, salt_text = header.split(":")
        salt = base64.b64decode(salt_text, validate=True)
        iterations = int(iterations_text)
    except ValueError:
        return None
    return verifier(password, salt=salt, iterations=iterations)


def matches(password: str, stored: str | None) -> bool:
    """Whether ``stored`` (a pg_authid.rolpassword) is a SCRAM verifier of ``password``."""
    header = salt_header(stored)
    candidate = None if header is None else verifier_with(password, header)
    return candidate is not None and stored is not None and hmac.compare_digest(candidate, stored)
