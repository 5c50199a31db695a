"""The sandbox as the command line, the tests and the README's main command use it."""

from collections.abc import Sequence
from pathlib import Path

from datalayer.sandbox import droplets as containers
from datalayer.sandbox import image as droplet_image
from datalayer.sandbox.commands import SandboxError, Stopwatch, progress
from datalayer.sandbox.droplets import Droplet, DropletSpec
from datalayer.sandbox.engine import ensure_commands, ensure_engine
from datalayer.sandbox.inventory import StatePaths, ensure_key, state_paths, write_files


class Sandbox:
    """Local droplets for one state directory (key, ssh_config, inventory.py).

    Several sandboxes share this machine's Docker engine and network; each sees and removes only
    the droplets made for its own state directory, so the tests' sandbox leaves a user's alone.

    + state_directory: default ``$DATALAYER_SANDBOX_DIR``, else ``<repository>/.sandbox``

    Example::

        sandbox = Sandbox()
        (db,) = sandbox.up([DropletSpec("db-1", ("timescaledb",))])
        print(db.published_ports[5432], sandbox.paths.inventory)
    """

    def __init__(self, state_directory: Path | None = None) -> None:
        self.paths: StatePaths = state_paths(state_directory)

    def ensure_image(self, *, rebuild: bool = False) -> str:
        """Make Docker answer and the droplet image exist; return the image's tag."""
        ensure_engine(self.paths.dockerd_log)
        return droplet_image.ensure_image(rebuild=rebuild)

    def up(
        self,
        specs: Sequence[DropletSpec],
        env: str = "sandbox",
        memory: str | None = None,
        cpus: float | None = None,
    ) -> list[Droplet]:
        """Create, start or reuse the droplets in ``specs``; return them once SSH logs in.

        + env: the environment every droplet's inventory data names (``Pulumi.<env>.yaml``)
        + memory: Docker's memory limit, e.g. ``"1g"``; None for no limit
        + cpus: Docker's CPU limit, e.g. ``1.5``; None for no limit

        A running droplet of the same name is reused as it is, a stopped one started; one asked
        for with other groups, env or limits is refused (``down`` it first).
        """
        names = [spec.name for spec in specs]
        if len(set(names)) != len(names):
            raise SandboxError(f"droplet names repeat: {' '.join(names)}")
        containers.validate_env(env)
        image = self.ensure_image()
        ensure_commands(("ssh", "ssh-keygen"))
        ensure_key(self.paths)
        containers.ensure_network()
        stopwatch = Stopwatch()
        for spec in specs:
            self._prepare(spec, env=env, image=image, memory=memory, cpus=cpus)
        for spec in specs:
            containers.wait_until_booted(spec.container)
        running = {droplet.name: droplet for droplet in self.refresh()}
        for spec in specs:
            containers.wait_for_ssh(self.paths.ssh_config, spec.name)
        progress(f"{', '.join(names)} answering over SSH {stopwatch.seconds():.1f} s after start")
        return [running[name] for name in names]

    def down(self, names: Sequence[str]) -> None:
        """Remove the named droplets of this sandbox; names with no droplet are reported."""
        for name in names:
            container = containers.container_name(name)
            found = containers.inspect(container)
            if found is None:
                progress(f"no droplet {name}")
                continue
            owner = (found["Config"]["Labels"] or {}).get(containers.LABEL_STATE_DIRECTORY)
            if owner != str(self.paths.directory):
                raise SandboxError(
                    f"{container} is not a droplet of the sandbox in {self.paths.directory}"
                )
            containers.remove(container)
            progress(f"removed droplet {name}")
        self.refresh()

    def down_all(self) -> None:
        """Remove every droplet of this sandbox, then the network if no other sandbox uses it."""
        for found in containers.containers_of(self.paths.directory):
            containers.remove(found["Id"])
            progress(f"removed droplet {found['Config']['Labels'][containers.LABEL_NAME]}")
        self.refresh()
        containers.remove_network()

    def droplets(self) -> list[Droplet]:
        """The running droplets of this sandbox, by name."""
        return [
            Droplet.from_inspect(found)
            for found in containers.containers_of(self.paths.directory)
            if found["State"]["Running"]
        ]

    def stopped(self) -> list[str]:
        """Names of this sandbox's droplets that are not running (``up`` starts them)."""
        return [
            found["Config"]["Labels"][containers.LABEL_NAME]
            for found in containers.containers_of(self.paths.directory)
            if not found["State"]["Running"]
        ]

    def _prepare(
        self, spec: DropletSpec, *, env: str, image: str, memory: str | None, cpus: float | None
    ) -> None:
        """Create the droplet if missing, give it the current key, and start it if stopped."""
        found = containers.inspect(spec.container)
        if found is None:
            progress(f"creating droplet {spec.name} ({', '.join(spec.groups)}; env {env})")
            containers.create(
                spec,
                env=env,
                image=image,
                state_directory=self.paths.directory,
                memory=memory,
                cpus=cpus,
            )
        else:
            containers.check_reusable(
                found,
                spec,
                env=env,
                state_directory=self.paths.directory,
                memory=memory,
                cpus=cpus,
            )
            progress(f"reusing droplet {spec.name} ({found['State']['Status']})")
            if found["Config"]["Image"] != image:
                progress(
                    f"droplet {spec.name} runs image {found['Config']['Image']}, not the current "
                    f"{image}: `down {spec.name}` and `up` again to use it"
                )
        # Every time, not only at creation: the key may have been generated again since.
        containers.install_key(spec.container, self.paths.public_key)
        if found is None or not found["State"]["Running"]:
            containers.start(spec.container)

    def refresh(self) -> list[Droplet]:
        """Write ssh_config and inventory.py again from the running droplets; return those."""
        running = self.droplets()
        write_files(self.paths, running)
        return running
