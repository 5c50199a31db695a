"""Bring a running InfluxDB 2 to the spec: onboarding once, bucket retention, scoped tokens.

    python3 -m datalayer.onhost.influxdb_setup check PLAN_FILE            what is pending; no secret
    python3 -m datalayer.onhost.influxdb_setup apply PLAN_FILE < SECRETS  converge

``check`` prints one line per pending item and exits 3 when there is any; ``apply`` prints one
line per item, created, changed or unchanged (``datalayer.onhost.step``). SECRETS is
``{"admin_password", "admin_token"}`` as JSON.

Where it runs: on the droplet itself, after the package is installed and the service started.
The deploy uploads ``datalayer/onhost/`` and the plan, and runs this with the host's python3,
the operator password and token on stdin (never on argv, so neither ``ps`` nor pyinfra's output
shows them). Running it on the droplet, rather than from the control machine, is what lets it
store each new token in a root-owned file right where the spec says, and reach the API on the
address it is bound to (in prod, a private VPC address the control machine may not reach)
without an SSH tunnel.

Hence this module uses Python's standard library and ``datalayer.onhost`` only. The decisions
take a transport, so unit tests feed them recorded server answers instead of a server.
"""

import json
import os
import pwd
import ssl
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from datalayer.onhost import step


@dataclass(frozen=True)
class Answer:
    """An HTTP answer: status and decoded JSON body (None when there is none)."""

    status: int
    body: Any


Transport = Callable[[str, str, Any, str | None], Answer]
"""``transport(method, path_and_query, json_body, token)``: one API request."""


class SetupError(RuntimeError):
    """The server answered something the setup cannot go on from."""


@dataclass(frozen=True)
class TokenPlan:
    """One scoped token: its role, how it is found again, where it is stored, what it may do."""

    role: str
    description: str
    file: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Plan(step.JsonPlan):
    """Everything the setup needs from the spec; holds no secret. JSON both ways (``JsonPlan``)."""

    url: str
    ca_file: str | None
    server_name: str | None
    """The name the server's certificate must carry, whatever address ``url`` names; None with a
    ``ca_file``: that file is the server's own certificate, pinned (see :func:`http_transport`)."""
    org: str
    bucket: str
    retention_seconds: int
    username: str
    tokens: tuple[TokenPlan, ...]


@dataclass(frozen=True)
class Credentials:
    """The operator's password and token, as the spec's secrets hold them."""

    password: str
    token: str

    def __repr__(self) -> str:
        return "Credentials(password='***', token='***')"


class TokenFiles(Protocol):
    """Where tokens are kept on the host; tests use a dictionary."""

    def exists(self, path: str) -> bool: ...

    def read(self, path: str) -> str | None: ...

    def write(self, path: str, token: str) -> None: ...


def _checked(method: str, path: str, answer: Answer) -> Any:
    """The answer's body; a :class:`SetupError` naming the status and the server's message
    unless it is a success."""
    if not 200 <= answer.status < 300:
        message = answer.body.get("message") if isinstance(answer.body, dict) else answer.body
        raise SetupError(f"{method} {path.split('?')[0]}: HTTP {answer.status}: {message}")
    return answer.body


def _request(transport: Transport, method: str, path: str, body: Any, token: str | None) -> Any:
    return _checked(method, path, transport(method, path, body, token))


def _find(transport: Transport, path: str, token: str) -> Any | None:
    """A name lookup: its body, or None when the server answers 404. InfluxDB looks a bucket or
    an org up by its name in an index and answers a missing one with 404, not with an empty
    list (tenant/storage_bucket.go:122-127 and tenant/storage_org.go:104-106, v2.7.12)."""
    answer = transport("GET", path, None, token)
    return None if answer.status == 404 else _checked("GET", path, answer)


def _query(path: str, **parameters: str) -> str:
    return f"{path}?{urllib.parse.urlencode(parameters)}"


def _expire_rule(bucket: dict[str, Any]) -> dict[str, Any]:
    """A bucket's expire rule; an empty one when it has none (infinite retention)."""
    rules = [rule for rule in bucket.get("retentionRules") or [] if rule.get("type") == "expire"]
    return rules[0] if rules else {}


def _retention_of(bucket: dict[str, Any]) -> int:
    """A bucket's retention in seconds: its expire rule, 0 (infinite) when it has none."""
    return int(_expire_rule(bucket).get("everySeconds", 0))


def _shard_group_of(bucket: dict[str, Any]) -> int:
    """A bucket's shard-group duration in seconds, as the server reports it; where it reports
    none, the one its storage uses for none (v1/services/meta/data.go:1367-1371, v2.7.12)."""
    seconds = int(_expire_rule(bucket).get("shardGroupDurationSeconds", 0))
    return seconds or shard_group_seconds(_retention_of(bucket))


def shard_group_seconds(retention_seconds: int) -> int:
    """The shard-group duration InfluxDB gives a bucket of this retention when none is asked
    for: 7 days for infinite or at least 180 days, 1 day from 2 days on, else 1 hour
    (``shardGroupDuration``, v1/services/meta/data.go:1357-1364 at v2.7.12, applied to every new
    bucket by storage/bucket_service.go:56-57)."""
    if retention_seconds == 0 or retention_seconds >= 180 * 86400:
        return 7 * 86400
    if retention_seconds >= 2 * 86400:
        return 86400
    return 3600


def _permissions(plan: TokenPlan, org_id: str, bucket_id: str) -> list[dict[str, Any]]:
    return [
        {"action": action, "resource": {"type": "buckets", "id": bucket_id, "orgID": org_id}}
        for action in plan.actions
    ]


def _permission_set(permissions: list[dict[str, Any]]) -> set[tuple[str, str, str, str]]:
    return {
        (
            p["action"],
            p["resource"].get("type", ""),
            p["resource"].get("id", ""),
            p["resource"].get("orgID", ""),
        )
        for p in permissions
    }


def _retention_text(seconds: int) -> str:
    return "infinite" if seconds == 0 else f"{seconds} s"


def converge(
    transport: Transport, plan: Plan, credentials: Credentials, files: TokenFiles
) -> list[str]:
    """Onboard once, converge the bucket's retention, create the scoped tokens that are missing.

    One line per item, each ending in created, changed or unchanged. Will not touch the operator
    user or token after onboarding, other buckets, or authorizations it did not create.
    """
    admin = credentials.token
    if _request(transport, "GET", "/api/v2/setup", None, None).get("allowed"):
        org_id, bucket = _onboard(transport, plan, credentials)
        lines = [
            f"onboarding: created (org {plan.org}, bucket {plan.bucket}, user {plan.username})"
        ]
    else:
        lines = ["onboarding: unchanged (already set up)"]
        org_id = _org_id(transport, plan, admin)
        existing = _bucket(transport, plan, org_id, admin)
        if existing is not None:
            bucket = existing
        else:
            bucket = _create_bucket(transport, plan, org_id, admin)
            lines.append(f"bucket {plan.bucket}: created")
    lines.append(_converge_retention(transport, plan, bucket, admin))
    lines.extend(_converge_tokens(transport, plan, org_id, bucket["id"], admin, files))
    return lines


def _onboard(
    transport: Transport, plan: Plan, credentials: Credentials
) -> tuple[str, dict[str, Any]]:
    """Onboard a fresh server: the operator, the org, the bucket; their org id and bucket."""
    onboarded = _request(
        transport,
        "POST",
        "/api/v2/setup",
        {
            "username": plan.username,
            "password": credentials.password,
            "org": plan.org,
            "bucket": plan.bucket,
            "retentionPeriodSeconds": plan.retention_seconds,
            "token": credentials.token,
        },
        None,
    )
    return onboarded["org"]["id"], onboarded["bucket"]


def _org_id(transport: Transport, plan: Plan, admin: str) -> str:
    """The id of the plan's org on a server that is set up; a :class:`SetupError` without one."""
    orgs = _find(transport, _query("/api/v2/orgs", org=plan.org), admin)
    if orgs is None:
        raise SetupError(f"org {plan.org} does not exist on a server that is already set up")
    org_id: str = orgs["orgs"][0]["id"]
    return org_id


def _bucket(transport: Transport, plan: Plan, org_id: str, admin: str) -> dict[str, Any] | None:
    """The plan's bucket in the org; None when it is missing."""
    buckets = _find(transport, _query("/api/v2/buckets", name=plan.bucket, orgID=org_id), admin)
    return None if buckets is None else buckets["buckets"][0]


def _create_bucket(transport: Transport, plan: Plan, org_id: str, admin: str) -> dict[str, Any]:
    bucket: dict[str, Any] = _request(
        transport,
        "POST",
        "/api/v2/buckets",
        {
            "orgID": org_id,
            "name": plan.bucket,
            "retentionRules": [{"type": "expire", "everySeconds": plan.retention_seconds}],
        },
        admin,
    )
    return bucket


def _converge_retention(
    transport: Transport, plan: Plan, bucket: dict[str, Any], admin: str
) -> str:
    """Change the bucket's retention. InfluxDB refuses (422) a finite retention shorter than the
    bucket's shard-group duration unless the same PATCH sets a shard-group duration that fits
    (v1/services/meta/data.go:243-250, storage/engine.go:304-320, v2.7.12); the setup then asks
    for the one the server would give a new bucket of that retention. Otherwise the shard-group
    duration is left as it is."""
    current = _retention_of(bucket)
    wanted = plan.retention_seconds
    if current == wanted:
        return f"bucket {plan.bucket} retention: unchanged ({_retention_text(wanted)})"
    rule: dict[str, Any] = {"type": "expire", "everySeconds": wanted}
    if 0 < wanted < _shard_group_of(bucket):
        rule["shardGroupDurationSeconds"] = shard_group_seconds(wanted)
    _request(
        transport, "PATCH", f"/api/v2/buckets/{bucket['id']}", {"retentionRules": [rule]}, admin
    )
    return (
        f"bucket {plan.bucket} retention: changed "
        f"({_retention_text(current)} -> {_retention_text(wanted)})"
    )


def _converge_tokens(
    transport: Transport, plan: Plan, org_id: str, bucket_id: str, admin: str, files: TokenFiles
) -> list[str]:
    """Each of the plan's scoped tokens, as :func:`_converge_token` leaves it."""
    authorizations = _request(
        transport, "GET", _query("/api/v2/authorizations", orgID=org_id), None, admin
    )["authorizations"]
    return [
        _converge_token(transport, token, org_id, bucket_id, authorizations, admin, files)
        for token in plan.tokens
    ]


def _converge_token(
    transport: Transport,
    token: TokenPlan,
    org_id: str,
    bucket_id: str,
    authorizations: list[dict[str, Any]],
    admin: str,
    files: TokenFiles,
) -> str:
    """Create the token when missing. Its permissions cannot be edited (InfluxDB's PATCH takes
    only status and description: AuthorizationUpdate, auth.go:32-36 at v2.7.12), so a token
    whose permissions differ is replaced: deleted and created anew. So is one whose file is
    gone: 2.7 still lists token values to the operator (authorization/http_server.go:137-184),
    but the step does not rely on reading a token back (see ``datalayer.spec.influxdb``)."""
    wanted = _permissions(token, org_id, bucket_id)
    found = [a for a in authorizations if a.get("description") == token.description]
    if (
        len(found) == 1
        and found[0].get("status", "active") == "active"
        and _permission_set(found[0]["permissions"]) == _permission_set(wanted)
        and files.exists(token.file)
    ):
        return f"token {token.role}: unchanged ({token.file})"
    reasons = []
    if found and not files.exists(token.file):
        reasons.append(f"{token.file} was missing")
    if any(_permission_set(a["permissions"]) != _permission_set(wanted) for a in found):
        reasons.append("permissions differed")
    if len(found) > 1:
        reasons.append(f"{len(found)} authorizations had its description")
    if any(a.get("status", "active") != "active" for a in found):
        reasons.append("it was inactive")
    for authorization in found:
        _request(transport, "DELETE", f"/api/v2/authorizations/{authorization['id']}", None, admin)
    created = _request(
        transport,
        "POST",
        "/api/v2/authorizations",
        {
            "orgID": org_id,
            "description": token.description,
            "status": "active",
            "permissions": wanted,
        },
        admin,
    )
    files.write(token.file, created["token"])
    if found:
        return f"token {token.role}: changed (replaced: {', '.join(reasons)}; {token.file})"
    return f"token {token.role}: created ({token.file})"


def pending(transport: Transport, plan: Plan, files: TokenFiles) -> list[str]:
    """What :func:`converge` would do, judged without the operator token: from the public setup
    status, the token files and what the stored tokens themselves can read. Empty: nothing to do.

    Permissions changed by hand with an operator token are not seen here (no scoped token may
    list authorizations); the next run that has anything else to do corrects them.
    """
    if _request(transport, "GET", "/api/v2/setup", None, None).get("allowed"):
        return ["onboarding: not set up yet"]
    found: list[str] = []
    for token in plan.tokens:
        value = files.read(token.file)
        if value is None:
            found.append(f"token {token.role}: {token.file} is missing")
            continue
        answer = transport(
            "GET", _query("/api/v2/buckets", name=plan.bucket, org=plan.org), None, value
        )
        if answer.status == 404:  # whatever the token: a missing bucket is 404 (see _find)
            found.append(f"bucket {plan.bucket}: missing")
            continue
        buckets = answer.body.get("buckets") if isinstance(answer.body, dict) else None
        if answer.status != 200 or not buckets:
            found.append(
                f"token {token.role}: cannot read bucket {plan.bucket} (HTTP {answer.status})"
            )
            continue
        current = _retention_of(buckets[0])
        if current != plan.retention_seconds:
            found.append(
                f"bucket {plan.bucket} retention: {_retention_text(current)}, "
                f"wanted {_retention_text(plan.retention_seconds)}"
            )
    return sorted(set(found))


# --- On the droplet: HTTP, token files, command line ------------------------------------------


class _NamedServerContext(ssl.SSLContext):
    """A client context that checks the server's certificate against ``server_name`` whatever
    address the connection goes to. http.client hands ``wrap_socket`` the URL's host as
    ``server_hostname`` (CPython 3.11 Lib/http/client.py, HTTPSConnection.connect, lines
    1444-1455), which OpenSSL then matches against the certificate's subjectAltName, an IP
    address included (Lib/ssl.py, SSLContext.wrap_socket, line 511; ``check_hostname``)."""

    server_name: str

    def wrap_socket(self, *args: Any, **kwargs: Any) -> ssl.SSLSocket:
        kwargs["server_hostname"] = self.server_name
        return super().wrap_socket(*args, **kwargs)


def _tls_context(ca_file: str, server_name: str | None) -> ssl.SSLContext:
    """Checks the chain to ``ca_file`` and that the certificate names ``server_name`` (a
    container's API, reached at a published address). Without a name, ``ca_file`` is the
    server's own certificate, the only one accepted (partial chain: the leaf is its own trust
    anchor), and its name is not checked: on a droplet the API is reached on the host itself,
    under an address the certificate may not name."""
    if server_name is None:
        pinned = ssl.create_default_context(cafile=ca_file)
        pinned.check_hostname = False
        pinned.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        return pinned
    # What ssl.create_default_context does for a client (Lib/ssl.py, line 745): TLS_CLIENT
    # turns on CERT_REQUIRED and check_hostname; then the CA file.
    context = _NamedServerContext(ssl.PROTOCOL_TLS_CLIENT)
    context.server_name = server_name
    context.load_verify_locations(cafile=ca_file)
    return context


def http_transport(url: str, ca_file: str | None, server_name: str | None) -> Transport:
    """Requests to ``url`` with urllib; with TLS, the server's certificate is checked as
    :func:`_tls_context` says."""
    context = None if ca_file is None else _tls_context(ca_file, server_name)

    def send(method: str, path: str, body: Any, token: str | None) -> Answer:
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token is not None:
            headers["Authorization"] = f"Token {token}"
        request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30, context=context) as response:
                return Answer(response.status, _decode(response.read()))
        except urllib.error.HTTPError as error:
            return Answer(error.code, _decode(error.read()))

    return send


def _decode(raw: bytes) -> Any:
    return json.loads(raw) if raw.strip() else None


class HostTokenFiles:
    """Token files owned by the influxdb user, mode 0600, in a directory only it may enter."""

    def __init__(self, owner: str = "influxdb") -> None:
        self.owner = owner

    def exists(self, path: str) -> bool:
        return Path(path).is_file()

    def read(self, path: str) -> str | None:
        file = Path(path)
        return file.read_text().strip() if file.is_file() else None

    def write(self, path: str, token: str) -> None:
        account = pwd.getpwnam(self.owner)
        directory = Path(path).parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(directory, account.pw_uid, account.pw_gid)
        # Written whole under a temporary name, then renamed: never a half-written token file.
        handle, partial = tempfile.mkstemp(dir=directory, prefix=".token.")
        with os.fdopen(handle, "w") as file:
            file.write(token + "\n")
        os.chown(partial, account.pw_uid, account.pw_gid)
        os.chmod(partial, 0o600)
        os.replace(partial, path)


def wait_until_ready(transport: Transport, seconds: float = 60.0) -> None:
    """Wait for ``/health`` to pass: right after a restart influxd may still be opening its
    storage."""
    deadline = time.monotonic() + seconds
    problem = "no answer yet"
    while time.monotonic() < deadline:
        try:
            status = transport("GET", "/health", None, None).status
        except OSError as error:  # refused or reset while influxd starts
            reason = getattr(error, "reason", error)
            if isinstance(reason, ssl.SSLCertVerificationError):  # no retry fixes a certificate
                raise SetupError(
                    f"InfluxDB's certificate is refused: {reason.verify_message}"
                ) from None
            problem = str(error)
        else:
            if status == 200:
                return
            problem = f"HTTP {status}"
        time.sleep(1)
    raise SetupError(f"InfluxDB's /health did not pass within {seconds:.0f} s ({problem})")


def main(argv: list[str] | None = None) -> int:
    parser = step.arguments(
        "python3 -m datalayer.onhost.influxdb_setup", "Check or apply InfluxDB's setup."
    )
    arguments = parser.parse_args(argv)
    plan = Plan.from_json(Path(arguments.plan).read_text())
    transport = http_transport(plan.url, plan.ca_file, plan.server_name)
    try:
        wait_until_ready(transport)
        if arguments.mode == step.CHECK:
            lines = pending(transport, plan, HostTokenFiles())
        else:
            given = json.load(sys.stdin)
            credentials = Credentials(given["admin_password"], given["admin_token"])
            lines = converge(transport, plan, credentials, HostTokenFiles())
    except SetupError as error:
        print(f"error: {error}", file=sys.stderr)
        return step.EXIT_FAILED
    for line in lines:
        print(line)
    return step.EXIT_DRIFT if arguments.mode == step.CHECK and lines else step.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
