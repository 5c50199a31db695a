"""Redis with Sentinel: which host is which, the files seeded once, Sentinel's ACL users.

Redis and Sentinel rewrite their own files: Sentinel runs ``CONFIG REWRITE`` on every server it
reconfigures (Redis 8.0 src/sentinel.c, sentinelSendSlaveOf, 4874-4921), and rewrites
sentinel.conf whenever its view changes (sentinelFlushConfig). So with Sentinel the deploy
*seeds* redis.conf and sentinel.conf once, when they are not seeded yet, and from then on leaves
them to their owners; what stays the deploy's is whole files of its own (both ACL files, and
the record of the settings it applied, ``/etc/redis/datalayer.conf``), Redis's settings changed
at runtime as Redis changes them (``CONFIG SET``, ``CONFIG REWRITE``) and Sentinel's with
``SENTINEL SET``.
A rerun after a failover therefore changes nothing: the seeds say nothing any more about who is
master, and Sentinel's answer is the only one the deploy ever asks for.

Not an ``include`` of the deploy's file in redis.conf: ``CONFIG REWRITE`` copies every setting
into the main file, after the include, where the copy wins; and Redis reads the lines after an
include as if set at runtime (loadServerConfig, src/config.c 613, clears reading_config_file on
its way out of the included file), so each of the ``save`` lines the rewrite writes, one per
rule (rewriteConfigSaveOption, 1395-1399), resets the others (setConfigSaveOption, 2742-2753):
after a restart only the last rule was left, as the sandbox showed.
"""

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.redis.config import (
    SENTINEL_HELLO_CHANNEL,
    AclLine,
    password_hash,
    render_redis_conf,
    render_users_acl,
    settings_path,
)
from datalayer.redis.layout import DEBIAN_LAYOUT, RedisLayout, SentinelLayout
from datalayer.redis.passwords import ADMIN_USER, MONITOR_USER, REPLICATION_USER, SENTINEL_USER
from datalayer.render import render
from datalayer.spec.errors import PROJECT_NAMESPACE, shown
from datalayer.spec.redis import Redis, Sentinel

SEED_MARKER = "# Seeded by datalayer; from here on this file is its server's own."
"""The line that tells a seeded file from the package's: a comment, which ``CONFIG REWRITE``
keeps as it is (src/config.c rewriteConfigReadOldFile, 1141-1146)."""

MINIMUM_HOSTS = 3
"""Sentinels needed for a failover to survive the loss of one host: a majority of them must
authorise it (Redis's Sentinel documentation, "Fundamental things to know")."""

WILDCARD_ADDRESSES = ("0.0.0.0", "::")

# Sentinel's commands (COMMAND LIST of Debian 13's redis-sentinel 8.0.2 in sentinel mode) that
# each of its users needs. The deploy: every SENTINEL subcommand, ACL LOAD and the checks.
# Another Sentinel: AUTH, CLIENT SETNAME, PING, PUBLISH of its hello and the vote
# (src/sentinel.c: sentinelSendAuthIfNeeded 2327-2336, sentinelSetClientName 2349,
# sentinelSendPing 3076, sentinelSendHello 3029, sentinelAskMasterStateToOtherSentinels 4701).
# A client: the discovery commands redis-py's Sentinel sends (SENTINEL MASTERS, SENTINELS,
# SLAVES) and their kin.
SENTINEL_ADMIN_COMMANDS = ("+@connection", "+sentinel", "+acl|load", "+acl|list", "+ping", "+info")
SENTINEL_PEER_COMMANDS = (
    "+@connection", "+ping", "+publish", "+sentinel|is-master-down-by-addr",
)  # fmt: skip
SENTINEL_CLIENT_COMMANDS = (
    "+@connection", "+ping", "+sentinel|get-master-addr-by-name", "+sentinel|masters",
    "+sentinel|master", "+sentinel|sentinels", "+sentinel|slaves", "+sentinel|replicas",
)  # fmt: skip

SENTINEL_MONITOR_COMMANDS = (
    "+ping", "+info", "+client|setname", "+sentinel|masters", "+sentinel|ckquorum",
    "+sentinel|sentinels", "+sentinel|slaves",
)  # fmt: skip
"""What the Prometheus exporter's user may run on Sentinel, scraping it as a target of its own
(``/scrape?target=``, exporter/http.go:41-70 at v1.69.0, same user and password): INFO, and,
when INFO says ``# Sentinel``, SENTINEL MASTERS, CKQUORUM, SENTINELS and SLAVES
(exporter.go:748, sentinels.go:39, 70, 89, 93). What else it sends (SLOWLOG, LATENCY) is no
Sentinel command, refused as unknown before any ACL check."""


class TopologyError(ValueError):
    """An inventory whose redis group cannot run Sentinel; one line, before any host."""


@dataclass(frozen=True)
class Topology:
    """The redis group of one environment, in inventory order, as one host sees it.

    + addresses: each host's ``private_address``, in the group's order
    + own_address: this host's
    """

    addresses: tuple[str, ...]
    own_address: str

    @property
    def bootstrap_master(self) -> str:
        """The master at the first deploy, before any Sentinel knows one: the first host."""
        return self.addresses[0]

    @property
    def peers(self) -> tuple[str, ...]:
        """The other hosts, whose Sentinels may already know the master."""
        return tuple(address for address in self.addresses if address != self.own_address)


def topology(
    environment_name: str,
    spec: Sentinel,
    bind: Sequence[str],
    group: Sequence[tuple[str, object]],
    host_name: str,
) -> Topology:
    """The redis group's topology for ``host_name``, or a :class:`TopologyError` naming the
    first problem: fewer than three hosts, a host without a usable ``private_address``, a
    quorum above the Sentinels or a min_replicas_to_write above the replicas, bind addresses
    the other hosts cannot reach.

    + group: the hosts of the redis group that name this environment, as (name, private
      address data) in inventory order
    """
    source = f"Pulumi.{environment_name}.yaml: {PROJECT_NAMESPACE}:redis"
    names = [name for name, _ in group]
    if len(group) < MINIMUM_HOSTS:
        raise TopologyError(
            f"inventory: the redis group has {len(group)} host(s) of env {environment_name} "
            f"({', '.join(names)}), but {PROJECT_NAMESPACE}:redis.sentinel needs "
            f"{MINIMUM_HOSTS} or more, each running Redis and a Sentinel"
        )
    addresses = tuple(_private_address(name, address) for name, address in group)
    for index, address in enumerate(addresses):
        if address in addresses[:index]:
            raise TopologyError(
                f"inventory: hosts {names[addresses.index(address)]} and {names[index]} of the "
                f"redis group have the same private_address {address}"
            )
    if spec.quorum > len(group):
        raise TopologyError(
            f"{source}.sentinel.quorum: {spec.quorum} is more than the {len(group)} Sentinels "
            "of the redis group, so no failover could ever start"
        )
    if spec.min_replicas_to_write > len(group) - 1:
        raise TopologyError(
            f"{source}.sentinel.min_replicas_to_write: {spec.min_replicas_to_write} is more "
            f"than the {len(group) - 1} replicas of the redis group, so the master would "
            "refuse every write"
        )
    if not set(bind) & set(WILDCARD_ADDRESSES):
        raise TopologyError(
            f"{source}.bind: {shown(list(bind))} must include 0.0.0.0 or :: with sentinel "
            "declared: every host's Redis and Sentinel are reached at its private_address, "
            "which one list of addresses cannot name for every host"
        )
    return Topology(addresses, addresses[names.index(host_name)])


def _private_address(name: str, value: object) -> str:
    if value is None or value == "":
        raise TopologyError(
            f"inventory: host {name} of the redis group has no 'private_address' data (the "
            f"address the other hosts reach it at), which {PROJECT_NAMESPACE}:redis.sentinel "
            "needs"
        )
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        raise TopologyError(
            f"inventory: host {name}: private_address {shown(value)} is not an IP address"
        ) from None


def render_redis_seed(
    spec: Redis,
    environment_name: str,
    settings: str,
    replica_of: str | None,
    layout: RedisLayout = DEBIAN_LAYOUT,
) -> str:
    """redis.conf as the deploy seeds it: ``settings`` (rendered for redis.conf) and, on a
    replica, the master it starts replicating (``replica_of``; None on the master)."""
    return render(
        "redis/redis-seed.conf.j2",
        environment_name=environment_name,
        spec=spec,
        layout=layout,
        marker=SEED_MARKER,
        settings=settings,
        replica_of=replica_of,
    )


def render_sentinel_seed(
    spec: Redis,
    environment_name: str,
    master: str,
    sentinel_password: SecretStr,
    layout: SentinelLayout,
) -> str:
    """sentinel.conf as the deploy seeds it: where Sentinel listens and logs, its ACL file, and
    the master it starts monitoring, with the user it logs in to Redis and to its peers as."""
    assert spec.sentinel is not None
    return render(
        "redis/sentinel.conf.j2",
        environment_name=environment_name,
        spec=spec,
        sentinel=spec.sentinel,
        layout=layout,
        marker=SEED_MARKER,
        master=master,
        sentinel_user=SENTINEL_USER,
        sentinel_password=sentinel_password.get_secret_value(),
    )


def sentinel_acl_lines(spec: Redis, passwords: dict[str, SecretStr]) -> list[AclLine]:
    """Sentinel's users: the default user off, the deploy's admin, the other Sentinels, and
    the application's users, who may only ask where the master is; and the exporter's user
    when ``passwords`` holds its password (``monitoring`` declared)."""
    default = AclLine(
        "default", "off", None, (), (),
        "Disabled: every client logs in as a named user with a password.",
    )  # fmt: skip
    admin = AclLine(
        ADMIN_USER, "on", password_hash(passwords[ADMIN_USER]), (), SENTINEL_ADMIN_COMMANDS,
        "The deploy's own user (SENTINEL SET, ACL LOAD, checks).",
    )  # fmt: skip
    peer = AclLine(
        SENTINEL_USER, "on", password_hash(passwords[SENTINEL_USER]), (), SENTINEL_PEER_COMMANDS,
        "The other Sentinels: pings, hellos and votes.", channels=(SENTINEL_HELLO_CHANNEL,),
    )  # fmt: skip
    clients = [
        AclLine(
            name,
            "on",
            password_hash(passwords[name]),
            (),
            SENTINEL_CLIENT_COMMANDS,
            f"The {name} user finds the master here.",
        )
        for name, _ in spec.users
    ]
    if MONITOR_USER in passwords:
        monitor = AclLine(
            MONITOR_USER, "on", password_hash(passwords[MONITOR_USER]), (),
            SENTINEL_MONITOR_COMMANDS, "The Prometheus exporter reads INFO and SENTINEL MASTERS.",
        )  # fmt: skip
        clients.append(monitor)
    return [default, admin, peer, *clients]


def render_sentinel_users_acl(spec: Redis, passwords: dict[str, SecretStr]) -> str:
    """Sentinel's users.acl: password hashes only, never a password."""
    return render("redis/users.acl.j2", lines=sentinel_acl_lines(spec, passwords))


@dataclass(frozen=True)
class SentinelFiles:
    """Everything one host of a Sentinel group is given, rendered from the spec: the deploy's
    own files whole, and the seeds, which need the master only the host's run can know."""

    spec: Redis
    environment_name: str
    passwords: dict[str, SecretStr]
    layout: RedisLayout
    sentinel_layout: SentinelLayout

    @property
    def sentinel(self) -> Sentinel:
        assert self.spec.sentinel is not None, "SentinelFiles of a spec without sentinel"
        return self.spec.sentinel

    @property
    def master_name(self) -> str:
        return self.sentinel.master_name

    @property
    def sentinel_port(self) -> int:
        return self.sentinel.port

    @property
    def settings_path(self) -> str:
        return settings_path(self.spec, self.layout)

    @property
    def settings(self) -> str:
        """The record of the settings the deploy applied; it holds masterauth, a password."""
        return render_redis_conf(
            self.spec, self.environment_name, self.layout, self.passwords[REPLICATION_USER]
        )

    @property
    def users_acl(self) -> str:
        return render_users_acl(self.spec, self.passwords)

    @property
    def sentinel_users_acl(self) -> str:
        return render_sentinel_users_acl(self.spec, self.passwords)

    @property
    def sentinel_settings(self) -> tuple[tuple[str, str], ...]:
        """Sentinel's settings of the master, as ``SENTINEL MASTER`` names them and ``SENTINEL
        SET`` takes them: changed at runtime when the spec changes."""
        return (
            ("quorum", str(self.sentinel.quorum)),
            ("down-after-milliseconds", str(self.sentinel.down_after_milliseconds)),
            ("failover-timeout", str(self.sentinel.failover_timeout_milliseconds)),
        )

    def redis_seed(self, replica_of: str | None) -> str:
        settings = render_redis_conf(
            self.spec,
            self.environment_name,
            self.layout,
            self.passwords[REPLICATION_USER],
            path=self.layout.config_file,
        )
        return render_redis_seed(
            self.spec, self.environment_name, settings, replica_of, self.layout
        )

    def sentinel_seed(self, master: str) -> str:
        return render_sentinel_seed(
            self.spec,
            self.environment_name,
            master,
            self.passwords[SENTINEL_USER],
            self.sentinel_layout,
        )
