"""Facts about an etcd member that keep the deploy's passwords on it.

The passwords reach the host on the fact's stdin and go from there to etcdctl through the
shell's ``read`` and the ``ETCDCTL_USER``/``ETCDCTL_PASSWORD`` environment (etcdctl reads
``ETCDCTL_*`` as its flags: ``etcdctl/ctlv3/command/global.go:129`` at v3.5.16), on no command
line; only words and etcd's own listings (user names, role permissions) come back.
"""

import shlex

from pyinfra.api.facts import FactBase

from datalayer.etcd.authentication import (
    PATRONI_ROLE,
    PATRONI_USER,
    ROOT_USER,
    AuthenticationState,
    parse_state,
)

# etcdctl 3.5's refusals, as its errors print them (server/etcdserver/api/v3rpc/rpctypes/
# error.go at v3.5.16: ErrGRPCUserEmpty, ErrGRPCAuthFailed).
USER_NAME_EMPTY = "user name is empty"
AUTHENTICATION_FAILED = "authentication failed, invalid user ID or password"


def etcdctl_session(endpoint: str) -> str:
    """Shell that reads root's and patroni's passwords from stdin (one line each) and defines
    ``as_root`` and ``as_patroni``: etcdctl at ``endpoint``, logged in as that user."""
    return (
        "IFS= read -r root_password; IFS= read -r patroni_password; "
        f"ETCDCTL_ENDPOINTS={shlex.quote(endpoint)}; export ETCDCTL_ENDPOINTS; "
        f"as_root() {{ ETCDCTL_USER={ROOT_USER} "
        'ETCDCTL_PASSWORD="$root_password" etcdctl "$@"; }; '
        f"as_patroni() {{ ETCDCTL_USER={PATRONI_USER} "
        'ETCDCTL_PASSWORD="$patroni_password" etcdctl "$@"; }; '
    )


def _login(variable: str, call: str) -> str:
    """Echo ``VARIABLE accepted`` or ``VARIABLE refused`` for an etcdctl ``call``."""
    return (
        f"if answer=$({call} 2>&1); then echo {variable} accepted; "
        f'else case "$answer" in *"{AUTHENTICATION_FAILED}"*) echo {variable} refused ;; '
        f"*) echo {variable} error ;; esac; fi; "
    )


class EtcdAuthentication(FactBase[AuthenticationState | None]):
    """The cluster's authentication as the member at ``endpoint`` reports it (see
    :class:`datalayer.etcd.authentication.AuthenticationState`); None while etcd does not
    answer there. Call with ``_stdin=hidden_stdin(ROOT_PASSWORD + "\\n" + PATRONI_PASSWORD +
    "\\n")``.

    ``auth status`` without a user answers while authentication is off and is refused with
    ``user name is empty`` once it is on; as root, etcdctl logs in where authentication is on
    and goes on without a token where it is off, so the listings come from either.
    """

    def command(self, endpoint: str) -> str:
        return (
            etcdctl_session(endpoint)
            + "if ! command -v etcdctl >/dev/null; then exit 0; fi; enabled=no; "
            "if answer=$(etcdctl auth status 2>&1); then "
            'case "$answer" in *"Status: false"*) echo auth disabled ;; *) exit 0 ;; esac; '
            f'else case "$answer" in *"{USER_NAME_EMPTY}"*) echo auth enabled; enabled=yes ;; '
            "*) exit 0 ;; esac; fi; "
            'if [ "$enabled" = yes ]; then '
            + _login("root-login", "as_root user list")
            + _login("patroni-login", f"as_patroni user get {PATRONI_USER}")
            + "fi; "
            "as_root user list 2>/dev/null | sed 's/^/user /'; "
            f"as_root role get {PATRONI_ROLE} 2>/dev/null | sed 's/^/role /'; "
            f"as_root user get {PATRONI_USER} 2>/dev/null | sed -n 's/^Roles:/patroni-roles/p'"
        )

    def process(self, output: list[str]) -> AuthenticationState | None:
        return parse_state(output)
