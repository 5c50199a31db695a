"""TimescaleDB's component under Pulumi's mocks: image, volume, configuration in force, limits,
health check, and the post-provision hooks' command."""

import shlex

import pytest

from datalayer.hooks.build import build_plan, fingerprint
from datalayer.spec import load_environment
from datalayer.spec.containers import TIMESCALEDB_IMAGE_VERSION
from datalayer.timescaledb.config import render_pg_hba_conf, render_postgresql_conf
from datalayer.timescaledb.container import container_spec
from datalayer.timescaledb.layout import container_layout
from tests.unit.conftest import services_of
from tests.unit.infra.conftest import CONFIGURED_SECRETS, stack_document
from tests.unit.infra.harness import (
    StackRun,
    command,
    container,
    envs,
    is_secret_wrapper,
    run_stack,
    unwrap,
    uploads,
)

TYPE = "docker:index/container:Container"


def test_component_has_its_type_token(dev: StackRun) -> None:
    assert dev.named("timescaledb").type == "trading:db:TimescaleDb"


def test_children_are_named_after_the_component_and_parented_to_it(stack: StackRun) -> None:
    parent = stack.named("timescaledb")
    children = [r for r in stack.resources if r.parent.endswith(f"{parent.type}::timescaledb")]
    assert sorted(child.name for child in children) == [
        "timescaledb-container", "timescaledb-data", "timescaledb-hooks", "timescaledb-image",
        "timescaledb-wal-archive",
    ]  # fmt: skip


def test_image_is_timescales_community_image_for_the_version(dev: StackRun) -> None:
    image = dev.named("timescaledb-image").inputs["name"]
    assert image == f"timescale/timescaledb:{TIMESCALEDB_IMAGE_VERSION}-pg17"
    assert container(dev, "timescaledb")["image"].startswith("sha256:")


def test_image_can_be_overridden_per_stack() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["timescaledb"] = {
        "image": "timescale/timescaledb:2.19.3-pg17"
    }
    run = run_stack("dev", document)
    assert run.named("timescaledb-image").inputs["name"] == "timescale/timescaledb:2.19.3-pg17"


def test_container_has_the_stacks_fixed_name_and_is_deleted_before_its_replacement(
    stack: StackRun,
) -> None:
    resource = stack.named("timescaledb-container")
    assert resource.inputs["name"] == f"datalayer-{stack.stack}-timescaledb"
    assert resource.delete_before_replace


def test_data_volume_is_protected_and_kept_on_delete(stack: StackRun) -> None:
    volume = stack.named("timescaledb-data")
    assert (volume.protect, volume.retain_on_delete) == (True, True)
    assert volume.inputs["name"].endswith("-timescaledb-data")


def test_data_volume_is_mounted_at_the_images_pgdata_for_17(dev: StackRun) -> None:
    mounts = container(dev, "timescaledb")["volumes"]
    assert {
        "volumeName": "datalayer-dev-timescaledb-data",
        "containerPath": "/var/lib/postgresql/data",
    } in mounts
    assert envs(dev, "timescaledb")["PGDATA"] == "/var/lib/postgresql/data"


def test_from_postgresql_18_the_volume_holds_the_versioned_pgdata() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:timescaledb"]["version"] = 18
    run = run_stack("dev", document)
    mounts = container(run, "timescaledb")["volumes"]
    assert {
        "volumeName": "datalayer-dev-timescaledb-data",
        "containerPath": "/var/lib/postgresql",
    } in mounts
    assert envs(run, "timescaledb")["PGDATA"] == "/var/lib/postgresql/18/docker"
    assert run.named("timescaledb-image").inputs["name"].endswith("-pg18")


def test_port_is_published_on_loopback_in_dev(dev: StackRun) -> None:
    assert container(dev, "timescaledb")["ports"] == [
        {"internal": 5432, "external": 5432, "ip": "127.0.0.1", "protocol": "tcp"}
    ]


def test_port_is_published_on_the_private_address_only_in_prod(prod: StackRun) -> None:
    assert container(prod, "timescaledb")["ports"] == [
        {"internal": 5432, "external": 5432, "ip": "10.110.0.40", "protocol": "tcp"}
    ]


def test_published_port_can_differ_from_the_servers_port() -> None:
    document = stack_document("dev")
    document["config"]["datalayer:containers"]["timescaledb"] = {"published_port": 15432}
    run = run_stack("dev", document)
    assert container(run, "timescaledb")["ports"][0]["external"] == 15432
    assert run.outputs["timescaledb_endpoint"] == "127.0.0.1:15432"


def test_memory_and_cpu_limits_are_the_resources_the_tuning_used(dev: StackRun) -> None:
    """In MiB, and 2 CPUs written as the provider reads them back (test_docker_forms)."""
    inputs = container(dev, "timescaledb")
    assert (inputs["memory"], inputs["memorySwap"], inputs["cpus"]) == (2048, 2048, "2.0")
    assert inputs["shmSize"] == 256


def test_restarts_unless_stopped_and_waits_for_health(stack: StackRun) -> None:
    inputs = container(stack, "timescaledb")
    assert (inputs["restart"], inputs["mustRun"], inputs["wait"]) == ("unless-stopped", True, True)


def test_health_check_asks_pg_isready_over_tcp(dev: StackRun) -> None:
    healthcheck = container(dev, "timescaledb")["healthcheck"]
    assert healthcheck["tests"] == [
        "CMD", "pg_isready", "--host=127.0.0.1", "--port=5432", "--username=postgres",
        "--dbname=postgres",
    ]  # fmt: skip
    assert healthcheck["startPeriod"] == "2m0s"


@pytest.mark.parametrize("name", ["dev", "prod"])
def test_rendered_postgresql_conf_is_placed_and_in_force(
    name: str, request: pytest.FixtureRequest
) -> None:
    run: StackRun = request.getfixturevalue(name)
    spec = container_spec(services_of(name).timescaledb)
    layout = container_layout(spec)
    placed = uploads(run, "timescaledb")
    assert placed["/etc/postgresql/postgresql.conf"]["content"] == render_postgresql_conf(
        spec, layout, name
    )
    assert placed["/etc/postgresql/pg_hba.conf"]["content"] == render_pg_hba_conf(spec, name)
    assert container(run, "timescaledb")["command"][-5:] == [
        "postgres", "-c", "config_file=/etc/postgresql/postgresql.conf",
        "-c", "hba_file=/etc/postgresql/pg_hba.conf",
    ]  # fmt: skip


def test_wal_is_archived_to_a_protected_volume_of_its_own(stack: StackRun) -> None:
    """The container path's WAL archive (the images carry no pgBackRest): a copy per segment
    onto its own volume, which the entrypoint wrapper hands to postgres before starting."""
    archive = "/var/lib/postgresql/wal-archive"
    conf = uploads(stack, "timescaledb")["/etc/postgresql/postgresql.conf"]["content"]
    assert "archive_mode = on" in conf
    assert f"archive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'" in conf
    mounts = container(stack, "timescaledb")["volumes"]
    assert any(
        mount["containerPath"] == archive
        and mount["volumeName"].endswith("-timescaledb-wal-archive")
        for mount in mounts
    )
    volume = stack.named("timescaledb-wal-archive")
    assert volume.protect and volume.retain_on_delete
    wrapper = container(stack, "timescaledb")["command"][:3]
    assert wrapper[:2] == ["sh", "-c"]
    assert f"chown postgres:postgres {archive}" in wrapper[2]
    assert wrapper[2].endswith('exec docker-entrypoint.sh "$@"')


def test_the_images_own_tuning_is_skipped(dev: StackRun) -> None:
    assert envs(dev, "timescaledb")["NO_TS_TUNE"] == "true"


def test_postgresql_conf_listens_inside_the_container_and_keeps_the_tuning(dev: StackRun) -> None:
    conf = uploads(dev, "timescaledb")["/etc/postgresql/postgresql.conf"]["content"]
    assert "listen_addresses = '*'" in conf
    assert "data_directory = '/var/lib/postgresql/data'" in conf
    assert "shared_preload_libraries = 'timescaledb'" in conf
    assert "shared_buffers = 512MB" in conf  # timescaledb-tune's quarter of resources.memory


def test_pg_hba_admits_the_hooks_from_the_docker_network_in_dev(dev: StackRun) -> None:
    hba = uploads(dev, "timescaledb")["/etc/postgresql/pg_hba.conf"]["content"]
    assert (
        "host     all              postgres         172.28.57.0/24           scram-sha-256" in hba
    )


def test_pg_hba_admits_the_hooks_from_the_runners_network_over_tls_in_prod(prod: StackRun) -> None:
    hba = uploads(prod, "timescaledb")["/etc/postgresql/pg_hba.conf"]["content"]
    assert (
        "hostssl  all              postgres         10.110.1.0/24            scram-sha-256" in hba
    )


def test_tls_files_are_mounted_read_only_from_the_droplet_in_prod(prod: StackRun) -> None:
    mounts = container(prod, "timescaledb")["volumes"]
    assert {
        "hostPath": "/etc/postgresql/tls",
        "containerPath": "/etc/postgresql/tls",
        "readOnly": True,
    } in mounts


def test_superuser_password_reaches_the_image_as_a_root_only_file(dev: StackRun) -> None:
    assert envs(dev, "timescaledb")["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres-password"
    placed = uploads(dev, "timescaledb")["/run/secrets/postgres-password"]
    generated = dev.generated["secrets-datalayer-postgres-password"]
    assert (placed["content"], placed["permissions"], placed["owner"]) == (generated, "0400", "0")


def test_application_database_is_created_by_the_image(dev: StackRun) -> None:
    assert envs(dev, "timescaledb")["POSTGRES_DB"] == "trading"


# --- the post-provision hooks ---------------------------------------------------------------


def test_hooks_run_once_the_container_is_up(stack: StackRun) -> None:
    hooks = stack.named("timescaledb-hooks")
    assert hooks.type == "command:local:Command"
    assert any(urn.endswith(f"{TYPE}::timescaledb-container") for urn in hooks.dependencies)


def test_hooks_command_names_the_environment_and_dsn_and_no_secret(dev: StackRun) -> None:
    text = command(dev, "timescaledb-hooks")["create"]
    assert shlex.split(text) == [
        ".venv/bin/python", "-m", "datalayer.hooks", "apply", "--env", "dev",
        "--dsn", "host=127.0.0.1 port=5432 dbname=postgres user=postgres",
    ]  # fmt: skip


def test_hooks_verify_the_servers_certificate_and_its_address_in_prod(prod: StackRun) -> None:
    # libpq's verify-full checks the chain and that the certificate names the host parameter;
    # verify-ca checks the chain only (libpq docs, "SSL Support", table "SSL Mode Descriptions").
    dsn = shlex.split(command(prod, "timescaledb-hooks")["create"])[-1]
    assert dsn == (
        "host=10.110.0.40 port=5432 dbname=postgres user=postgres sslmode=verify-full "
        "sslrootcert=/etc/datalayer/tls/prod-ca.crt"
    )


def test_hooks_verify_the_certificate_names_the_stacks_tls_server_name(
    prod_named: StackRun,
) -> None:
    # hostaddr is where libpq connects; host is the name verify-full checks the certificate
    # against (libpq docs, "Parameter Key Words", hostaddr).
    dsn = shlex.split(command(prod_named, "timescaledb-hooks")["create"])[-1]
    assert dsn == (
        "host=containers.prod.internal hostaddr=10.110.0.40 port=5432 dbname=postgres "
        "user=postgres sslmode=verify-full sslrootcert=/etc/datalayer/tls/prod-ca.crt"
    )


def test_hooks_get_their_passwords_in_a_secret_environment(dev: StackRun) -> None:
    environment = command(dev, "timescaledb-hooks")["environment"]
    assert is_secret_wrapper(environment)
    passwords = {
        variable: value
        for variable, value in unwrap(environment).items()
        if variable != "DATALAYER_HOOKS_FINGERPRINT"
    }
    assert passwords == {
        "PGPASSWORD": dev.generated["secrets-datalayer-postgres-password"],
        "DATALAYER_APP_PASSWORD": CONFIGURED_SECRETS["DATALAYER_APP_PASSWORD"],
        "DATALAYER_READER_PASSWORD": dev.generated["secrets-datalayer-reader-password"],
    }


def test_hooks_fingerprint_is_an_input_of_their_command(dev: StackRun) -> None:
    """A changed fingerprint (SQL, roles, policies) is a changed input, so the hooks re-run."""
    environment = unwrap(command(dev, "timescaledb-hooks")["environment"])
    assert environment["DATALAYER_HOOKS_FINGERPRINT"] == fingerprint(
        build_plan(load_environment("dev"))
    )


def test_connection_strings_are_secret_outputs_per_role(dev: StackRun) -> None:
    assert "timescaledb_urls" in dev.secret_outputs
    assert dev.outputs["timescaledb_urls"]["app"] == (
        f"postgresql://app:{CONFIGURED_SECRETS['DATALAYER_APP_PASSWORD']}"
        "@127.0.0.1:5432/trading?sslmode=disable"
    )
    assert dev.outputs["timescaledb_endpoint"] == "127.0.0.1:5432"
