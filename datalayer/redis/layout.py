"""Where Debian's redis-server package keeps its files and runs its service.

The templates and the deploy take every path from here; they are Debian's own (the package's
redis.conf and redis-server.service), so the packaged unit's sandboxing
(``ReadWritePaths=/var/lib/redis /var/log/redis /run/redis``) and logrotate rule keep working.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class RedisLayout:
    """Paths and unit name of one Redis server."""

    config_file: str
    acl_file: str
    data_directory: str
    log_file: str
    pid_file: str
    socket: str
    service: str
    package: str


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
