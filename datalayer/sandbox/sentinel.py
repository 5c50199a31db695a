"""A Redis Sentinel group on sandbox droplets, as its tests and its benchmark drive it.

Both ask the servers the same way (redis-cli as the deploy's admin user over the Unix sockets,
the password on stdin), kill the master the same way and measure a failover the same way: a
writer that counts only the writes ``WAIT 1`` says a replica has, then a client that finds the
master through Sentinel (redis-py's ``Sentinel``), as an application does.
"""

import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

import redis
import redis.sentinel

from datalayer.redis.layout import DEBIAN_LAYOUT, DEBIAN_SENTINEL_LAYOUT
from datalayer.sandbox.droplets import Droplet
from datalayer.spec.redis import Redis

# Sentinel's connections may stay quiet for a while during a failover; a client that waits
# longer than this for one answer would hide the moment writes resume.
CLIENT_TIMEOUT_SECONDS = 0.5

# systemd restarts Debian's redis-server 100 ms after it dies (Restart=always): a kill -9 alone
# is then a restart, never a failover. The test lifts that for the killed server only, in
# /run (gone at the next boot), and takes it away again before the server is started.
NO_RESTART_DROP_IN = "/run/systemd/system/redis-server.service.d/sandbox-no-restart.conf"


@dataclass
class Writes:
    """Numbered writes to the master: every key a replica acknowledged (``WAIT 1``)."""

    acknowledged: list[str] = field(default_factory=list)
    failed: int = 0


@dataclass(frozen=True)
class Failover:
    """One measured failover: who was master, who is now, and what the clients saw."""

    old_master: str
    new_master: str
    seconds: float
    """From the kill to the first write a client acknowledged through Sentinel's master."""
    promoted_seconds: float
    """From the kill to the first answer of a Sentinel that names another master: the rest of
    ``seconds`` is the client reaching it and the other replica following it
    (min-replicas-to-write refuses writes until then)."""
    writes: Writes


class SentinelGroup:
    """The droplets of the redis group, in inventory order, and their ACL users' passwords."""

    def __init__(self, droplets: list[Droplet], spec: Redis, passwords: Mapping[str, str]) -> None:
        assert spec.sentinel is not None, "a Sentinel group needs redis.sentinel"
        self.droplets = droplets
        self.spec = spec
        self.sentinel = spec.sentinel
        self.passwords = dict(passwords)

    def by_address(self, address: str) -> Droplet:
        (droplet,) = [found for found in self.droplets if found.private_address == address]
        return droplet

    def by_name(self, name: str) -> Droplet:
        (droplet,) = [found for found in self.droplets if found.name == name]
        return droplet

    def sh(self, droplet: Droplet, command: str, stdin: str | None = None) -> str:
        completed = subprocess.run(
            ["docker", "exec", "-i", droplet.container, "sh", "-c", command],
            input=stdin, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return completed.stdout.strip()

    def admin(self, droplet: Droplet, *command: str) -> str:
        """redis-cli as admin over Redis's socket, the password on stdin."""
        return self.sh(
            droplet,
            f"redis-cli -s {DEBIAN_LAYOUT.socket} --user admin --askpass {' '.join(command)}",
            stdin=self.passwords["admin"] + "\n",
        )

    def sentinel_admin(self, droplet: Droplet, *command: str) -> str:
        """redis-cli as admin over Sentinel's socket, the password on stdin."""
        return self.sh(
            droplet,
            f"redis-cli -s {DEBIAN_SENTINEL_LAYOUT.socket} --user admin --askpass "
            + " ".join(command),
            stdin=self.passwords["admin"] + "\n",
        )

    def replication(self, droplet: Droplet) -> dict[str, str]:
        """``INFO replication`` of the droplet's Redis, by field."""
        lines = self.admin(droplet, "INFO", "replication").splitlines()
        return dict(line.split(":", 1) for line in lines if ":" in line)

    def sentinel_view(self, droplet: Droplet) -> dict[str, str]:
        """``SENTINEL MASTER`` of the droplet's Sentinel, by field."""
        lines = self.sentinel_admin(droplet, "SENTINEL", "MASTER", self.sentinel.master_name)
        words = lines.splitlines()
        return dict(zip(words[::2], words[1::2], strict=True))

    def main_pids(self) -> dict[str, str]:
        """Each droplet's redis-server and redis-sentinel main PIDs."""
        units = (DEBIAN_LAYOUT.service, DEBIAN_SENTINEL_LAYOUT.service)
        return {
            f"{droplet.name} {unit}": self.sh(
                droplet, f"systemctl show --property MainPID --value {unit}"
            )
            for droplet in self.droplets
            for unit in units
        }

    def client(self, user: str) -> redis.sentinel.Sentinel:
        """redis-py's Sentinel over every droplet's Sentinel, logged in as ``user``: the
        droplets' private addresses, where an application on their network reaches them."""
        return redis.sentinel.Sentinel(  # type: ignore[no-untyped-call]
            [(droplet.private_address, self.sentinel.port) for droplet in self.droplets],
            sentinel_kwargs={
                "username": user,
                "password": self.passwords[user],
                "socket_timeout": CLIENT_TIMEOUT_SECONDS,
            },
            socket_timeout=CLIENT_TIMEOUT_SECONDS,
        )

    def master_client(self, user: str) -> redis.Redis:
        """A connection to whichever server Sentinel says is master, as ``user``."""
        master: redis.Redis = self.client(user).master_for(  # type: ignore[no-untyped-call]
            self.sentinel.master_name,
            username=user,
            password=self.passwords[user],
            socket_timeout=CLIENT_TIMEOUT_SECONDS,
            decode_responses=True,
        )
        return master

    def master(self) -> Droplet:
        """The droplet every Sentinel names as master (they must agree)."""
        answers = {
            self.sentinel_admin(
                droplet, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.sentinel.master_name
            ).splitlines()[0]
            for droplet in self.droplets
        }
        (address,) = answers
        return self.by_address(address)

    def wait_until_replicating(self, droplet: Droplet, timeout: float = 60.0) -> None:
        """Wait until ``droplet`` is a replica whose link to its master is up."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.replication(droplet)
            if state.get("role") == "slave" and state.get("master_link_status") == "up":
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{droplet.name} is not replicating: {state}")
            time.sleep(0.5)

    def wait_until_sentinels_see_the_whole_group(self, timeout: float = 60.0) -> None:
        """Wait until every Sentinel sees the master up and every other server as a healthy
        replica (flags exactly ``slave``): a failover started before would find fewer."""
        replicas = len(self.droplets) - 1
        deadline = time.monotonic() + timeout
        while True:
            views = [
                self.sentinel_admin(
                    droplet, "SENTINEL", "REPLICAS", self.sentinel.master_name
                ).splitlines()
                for droplet in self.droplets
            ]
            healthy = [
                sum(
                    1
                    for index, word in enumerate(view[:-1])
                    if word == "flags" and view[index + 1] == "slave"
                )
                for view in views
            ]
            if healthy == [replicas] * len(self.droplets):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"Sentinels see {healthy} healthy replicas, not {replicas}")
            time.sleep(0.5)

    def kill_master_server(self, master: Droplet) -> None:
        """``kill -9`` the master's redis-server, with systemd's restart of it lifted."""
        self.sh(
            master,
            f"mkdir -p {NO_RESTART_DROP_IN.rsplit('/', 1)[0]} && "
            f"printf '[Service]\\nRestart=no\\n' > {NO_RESTART_DROP_IN} && systemctl daemon-reload",
        )
        pid = self.sh(master, f"systemctl show --property MainPID --value {DEBIAN_LAYOUT.service}")
        self.sh(master, f"kill -9 {int(pid)}")

    def start_killed_server(self, droplet: Droplet) -> None:
        """Give systemd its restart back and start the killed server, as an operator would."""
        self.sh(
            droplet,
            f"rm -f {NO_RESTART_DROP_IN} && systemctl daemon-reload && "
            f"systemctl reset-failed {DEBIAN_LAYOUT.service} && "
            f"systemctl start {DEBIAN_LAYOUT.service}",
        )

    def fail_over(self, key_prefix: str, writes_before: float = 1.0) -> Failover:
        """Kill the master's redis-server while a writer writes numbered keys through it, then
        write through Sentinel until a write is acknowledged again.

        + key_prefix: the writes' keys, ``PREFIX:N`` (one of the app user's key patterns)
        + writes_before: seconds of writing before the kill

        Starts once every Sentinel sees the whole group, so that each failover is measured from
        the same state.
        """
        # A Sentinel that has not yet seen a replica in the master's INFO (it asks every 10 s)
        # aborts the failover: -failover-abort-no-good-slave, then waits 2 x failover-timeout.
        self.wait_until_sentinels_see_the_whole_group()
        old_master = self.master()
        writes = Writes()
        stop = threading.Event()
        writer = threading.Thread(target=self._write, args=(key_prefix, writes, stop))
        writer.start()
        time.sleep(writes_before)
        self.kill_master_server(old_master)
        killed = time.monotonic()
        stop.set()
        writer.join()
        sentinel = self.client("app")
        client = self.master_client("app")
        promoted: float | None = None
        while True:
            if promoted is None and self._names_another_master(sentinel, old_master):
                promoted = time.monotonic() - killed
            try:
                client.set(f"{key_prefix}:after", "written through Sentinel")
                break
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
                    redis.exceptions.ReadOnlyError, redis.exceptions.ResponseError):  # fmt: skip
                # Connection refused or reset, a replica not yet promoted, or NOREPLICAS
                # (min-replicas-to-write) until the remaining replica follows the new master.
                if time.monotonic() - killed > self._give_up_seconds:
                    raise
                time.sleep(0.05)
        seconds = time.monotonic() - killed
        return Failover(old_master.name, self.master().name, seconds, promoted or seconds, writes)

    def _names_another_master(self, sentinel: redis.sentinel.Sentinel, old: Droplet) -> bool:
        try:
            address = sentinel.discover_master(self.sentinel.master_name)  # type: ignore[no-untyped-call]
        except redis.exceptions.RedisError:
            return False
        return bool(address[0] != old.private_address)

    @property
    def _give_up_seconds(self) -> float:
        """Long enough for Sentinel to try a failover twice (failover-timeout each)."""
        return 2 * self.sentinel.failover_timeout_milliseconds / 1000

    def _write(self, key_prefix: str, writes: Writes, stop: threading.Event) -> None:
        """Write ``PREFIX:N`` until stopped, keeping each key ``WAIT 1`` says a replica has."""
        master = self.master()
        client = redis.Redis(
            host=master.private_address,
            port=self.spec.port,
            username="app",
            password=self.passwords["app"],
            socket_timeout=CLIENT_TIMEOUT_SECONDS,
            decode_responses=True,
        )
        number = 0
        while not stop.is_set():
            key = f"{key_prefix}:{number}"
            number += 1
            try:
                client.set(key, str(number))
                if int(client.execute_command("WAIT", 1, 500)) >= 1:  # type: ignore[no-untyped-call]
                    writes.acknowledged.append(key)
            except redis.exceptions.RedisError:
                writes.failed += 1
        client.close()
