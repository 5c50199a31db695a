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
