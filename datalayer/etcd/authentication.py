"""etcd's authentication for Patroni: what the cluster holds, and the etcdctl steps to the spec.

Wanted: a ``root`` user (etcd requires it, with the ``root`` role, before ``auth enable``:
``server/auth/store.go:224-246`` at v3.5.16; ``etcdctl auth enable`` adds the role and grants
it when missing, ``etcdctl/ctlv3/command/auth_command.go:72-99``), a ``patroni`` user whose only
role, ``patroni``, may read and write the keys under Patroni's namespace for the cluster's scope
and nothing else, and authentication on. Patroni 4.0.7 keeps a cluster's keys under
``/<namespace>/<scope>``, namespace ``service`` by default (``patroni/dcs/__init__.py:1502`` at
v4.0.7), and lists the members through the cluster API, which needs no key permission.

Nothing here holds a password: the deploy sends them to etcdctl on stdin (``etcdctl/ctlv3/
command/user_command.go:127-160,229-240``: ``user add`` and ``user passwd`` with
``--interactive=false`` read the password with ``fmt.Scanf``), and logs in as root through the
``ETCDCTL_USER``/``ETCDCTL_PASSWORD`` environment variables, which etcdctl reads as its
``--user``/``--password`` flags (``etcdctl/ctlv3/command/global.go:129``, ``SetPflagsFromEnv``).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

ROOT_USER = "root"
PATRONI_USER = "patroni"
PATRONI_ROLE = "patroni"
PATRONI_NAMESPACE = "service"
"""Patroni's ``namespace``: its default, which the project's Patroni configuration keeps."""


def patroni_prefix(scope: str) -> str:
    """The keys Patroni keeps for ``scope``: ``/service/SCOPE/``. The trailing slash keeps a
    scope ``trading`` from reaching ``trading-sandbox``'s keys."""
    return f"/{PATRONI_NAMESPACE}/{scope}/"


def role_listing(prefix: str) -> list[str]:
    """``etcdctl role get patroni`` of the wanted role: read and write on ``prefix`` alone,
    as etcdctl prints a prefix permission (``etcdctl/ctlv3/command/printer_simple.go:181-220``
    at v3.5.16: the range end is the prefix with its last byte incremented)."""
    end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    permission = f"\t[{prefix}, {end}) (prefix {prefix})"
    return [f"Role {PATRONI_ROLE}", "KV Read:", permission, "KV Write:", permission]


class Login(StrEnum):
    """How etcd answered a login with the deploy's password."""

    ACCEPTED = "accepted"
    REFUSED = "refused"
    UNCHECKED = "unchecked"
    """Authentication is off: etcd checks no password, so none can be judged."""


@dataclass(frozen=True)
class AuthenticationState:
    """What one member reports of the cluster's authentication (``EtcdAuthentication``).

    + enabled: ``auth status``
    + users: ``user list``
    + root_login, patroni_login: each user's login with the deploy's password
    + patroni_roles: the roles of the patroni user (``user get``), empty if it is missing
    + role_listing: ``role get patroni``'s lines, empty if the role is missing
    """

    enabled: bool
    users: frozenset[str]
    root_login: Login
    patroni_login: Login
    patroni_roles: frozenset[str]
    role_listing: tuple[str, ...]


class Step(StrEnum):
    """One etcdctl call the deploy makes, as root (or anonymously while authentication is off)."""

    ADD_ROOT = "add user root"
    SET_ROOT_PASSWORD = "set root's password"
    REPLACE_ROLE = "delete role patroni"
    ADD_ROLE = "add role patroni"
    GRANT_PERMISSION = "grant role patroni read and write on Patroni's keys"
    ADD_PATRONI = "add user patroni"
    SET_PATRONI_PASSWORD = "set patroni's password"
    GRANT_ROLE = "grant role patroni to user patroni"
    ENABLE = "enable authentication"


class RootPasswordRefusedError(ValueError):
    """etcd refuses root's password: the deploy cannot log in to change anything."""


def steps(state: AuthenticationState, prefix: str) -> list[Step]:
    """The calls that bring ``state`` to the wanted authentication, in order; none when it is.

    While authentication is off, nothing proves a stored password, so both are set again, and
    authentication is turned on last, once root and patroni exist. Once it is on, a password is
    set only when etcd refuses it, and a role that grants anything but ``prefix`` is replaced
    whole. Root's password cannot be changed by a deploy that etcd refuses as root: that stops
    the deploy (RootPasswordRefusedError) instead.
    """
    if state.enabled and state.root_login is Login.REFUSED:
        raise RootPasswordRefusedError(
            "etcd refuses the root password from the secret named by "
            "timescaledb.cluster.etcd.root_password_secret: give the secret etcd's current "
            "root password, or change root's password in etcd first (etcdctl user passwd root)"
        )
    found: list[Step] = []
    if ROOT_USER not in state.users:
        found.append(Step.ADD_ROOT)
    elif not state.enabled:
        found.append(Step.SET_ROOT_PASSWORD)
    wanted_role = role_listing(prefix)
    if list(state.role_listing) != wanted_role:
        if state.role_listing:
            found.append(Step.REPLACE_ROLE)
        found += [Step.ADD_ROLE, Step.GRANT_PERMISSION]
    if PATRONI_USER not in state.users:
        found.append(Step.ADD_PATRONI)
    elif state.patroni_login is not Login.ACCEPTED:
        found.append(Step.SET_PATRONI_PASSWORD)
    # A deleted role leaves every user it was granted to.
    if Step.REPLACE_ROLE in found or state.patroni_roles != {PATRONI_ROLE}:
        found.append(Step.GRANT_ROLE)
    if not state.enabled:
        found.append(Step.ENABLE)
    return found


def parse_state(lines: Sequence[str]) -> AuthenticationState | None:
    """The ``EtcdAuthentication`` fact's output; None when etcd did not answer (not installed
    yet, or not running): the deploy then plans every step."""
    fields: dict[str, list[str]] = {}
    for line in lines:
        key, _, value = line.partition(" ")
        fields.setdefault(key, []).append(value)
    logins = [fields.get(name, ["unchecked"])[0] for name in ("root-login", "patroni-login")]
    if fields.get("auth") not in (["enabled"], ["disabled"]) or not set(logins) <= set(Login):
        return None
    return AuthenticationState(
        enabled=fields["auth"] == ["enabled"],
        users=frozenset(fields.get("user", [])),
        root_login=Login(logins[0]),
        patroni_login=Login(logins[1]),
        patroni_roles=frozenset(
            role for value in fields.get("patroni-roles", []) for role in value.split()
        ),
        role_listing=tuple(fields.get("role", [])),
    )


NOT_ANSWERING = AuthenticationState(
    enabled=False,
    users=frozenset(),
    root_login=Login.UNCHECKED,
    patroni_login=Login.UNCHECKED,
    patroni_roles=frozenset(),
    role_listing=(),
)
"""What a member not yet answering is planned as: a fresh cluster, every step to make."""
