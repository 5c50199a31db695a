"""SCRAM verifiers computed on the control machine (proven against a real server by tests/infra)."""

import base64
import hmac

from datalayer import scram

PASSWORD = "correct horse battery staple"


def test_verifier_matches_its_password() -> None:
    assert scram.matches(PASSWORD, scram.verifier(PASSWORD))


def test_verifier_does_not_match_another_password() -> None:
    assert not scram.matches("another password!", scram.verifier(PASSWORD))


def test_verifier_has_postgresql_format() -> None:
    method, header, keys = scram.verifier(PASSWORD).split("$")
    iterations, salt = header.split(":")
    stored_key, server_key = keys.split(":")
    assert method == "SCRAM-SHA-256"
    assert iterations == "4096"
    assert len(base64.b64decode(salt)) == 16
    assert len(base64.b64decode(stored_key)) == len(base64.b64decode(server_key)) == 32


def test_each_verifier_gets_a_fresh_salt() -> None:
    assert scram.verifier(PASSWORD) != scram.verifier(PASSWORD)


def test_server_key_reproduces_rfc7677_server_signature() -> None:
    # RFC 7677 section 3: user "user", password "pencil"; the server's final message proves
    # ServerKey: v = HMAC(ServerKey, AuthMessage).
    auth_message = (
        "n=user,r=rOprNGfwEbeRWgbNEkqO,"
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
        "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
    )
    verifier = scram.verifier("pencil", salt=base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ=="))
    server_key = base64.b64decode(verifier.split("$")[2].split(":")[1])
    signature = hmac.digest(server_key, auth_message.encode(), "sha256")
    assert base64.b64encode(signature).decode() == "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_md5_or_empty_stored_passwords_never_match() -> None:
    assert not scram.matches(PASSWORD, "md5c0ffee")
    assert not scram.matches(PASSWORD, None)
    assert not scram.matches(PASSWORD, "SCRAM-SHA-256$broken")
