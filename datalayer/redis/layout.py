"""Where Redis keeps its files and how it runs: Debian's package on droplets, the official image
in containers.

The templates and the deploy take every path from here. On droplets they are Debian's own (the
package's redis.conf and redis-server.service), so the packaged unit's sandboxing
(``ReadWritePaths=/var/lib/redis /var/log/redis /run/redis``) and logrotate rule keep working.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RedisLayout:
    """Paths, supervision and unit name of one Redis server."""

    config_file: str
    acl_file: str
    data_directory: str
    log_file: str
    """Empty: standard output, which Docker collects."""
    pid_file: str | None
    socket: str
    service: str | None
    """The systemd unit; None in a container, which Docker supervises."""
    package: str | None
    """The Debian package; None in a container, whose image is the package."""
    supervised: str = "systemd"
    """redis.conf's ``supervised``: 'systemd' under the packaged unit, 'no' in a container."""
    settings_file: str | None = None
    """With Sentinel, the record of the settings the deploy applied: config_file is then
    Redis's own (it rewrites it at every failover), seeded with them once and changed with
    CONFIG SET and CONFIG REWRITE; None where Sentinel never runs."""


DEBIAN_LAYOUT = RedisLayout(
    config_file="/etc/redis/redis.conf",
    acl_file="/etc/redis/users.acl",
    data_directory="/var/lib/redis",
    # Debian's redis.conf logs to this file (rotated by the package's logrotate rule), not syslog.
    log_file="/var/log/redis/redis-server.log",
    # PIDFile= of Debian's redis-server.service: systemd and Redis must agree on it.
    pid_file="/run/redis/redis-server.pid",
    # In the unit's RuntimeDirectory; the deploy's admin user connects here, whatever the spec's
    # bind addresses and TLS are.
    socket="/run/redis/redis-server.sock",
    service="redis-server.service",
    package="redis-server",
    # Beside Debian's redis.conf, which the unit names (sandboxing lets Redis write /etc/redis);
    # Redis does not read it.
    settings_file="/etc/redis/datalayer.conf",
)


CONTAINER_LAYOUT = RedisLayout(
    # The official image's conventional configuration directory; its entrypoint runs
    # redis-server with the file given as the first argument.
    config_file="/usr/local/etc/redis/redis.conf",
    acl_file="/usr/local/etc/redis/users.acl",
    # The image's VOLUME and working directory, where the data volume is mounted.
    data_directory="/data",
    log_file="",
    pid_file=None,
    # Outside the data volume, whose entrypoint permission fix expects only Redis's own files.
    # The health check's admin login connects here, whatever the spec's bind addresses and TLS.
    socket="/tmp/redis-server.sock",
    service=None,
    package=None,
    supervised="no",
)
"""The official redis image (Debian-based): Redis in the foreground as PID 1's child, logging to
standard output."""


@dataclass(frozen=True)
class SentinelLayout:
    """Paths and unit of Debian's redis-sentinel (5:8.0.2-3+deb13u3): its redis-sentinel.service
    runs ``/usr/bin/redis-sentinel /etc/redis/sentinel.conf --supervised systemd --daemonize
    no`` as redis, with ``PIDFile=/run/sentinel/redis-sentinel.pid``, ``RuntimeDirectory=
    sentinel`` and ``ReadWriteDirectories=-/etc/redis`` (Sentinel rewrites its own file)."""

    config_file: str
    """Sentinel's own file: seeded once, then rewritten by Sentinel (the monitored master, the
    known replicas and Sentinels, the epochs)."""
    acl_file: str
    """The deploy's file: Sentinel's ACL users, loaded with ACL LOAD."""
    pid_file: str
    log_file: str
    data_directory: str
    socket: str
    """Where the deploy's admin user reaches Sentinel, whatever the bind addresses."""
    service: str
    package: str


DEBIAN_SENTINEL_LAYOUT = SentinelLayout(
    config_file="/etc/redis/sentinel.conf",
    acl_file="/etc/redis/sentinel-users.acl",
    pid_file="/run/sentinel/redis-sentinel.pid",
    # The package's own sentinel.conf logs here (rotated by its logrotate rule).
    log_file="/var/log/redis/redis-sentinel.log",
    data_directory="/var/lib/redis",
    socket="/run/sentinel/redis-sentinel.sock",
    service="redis-sentinel.service",
    package="redis-sentinel",
)
