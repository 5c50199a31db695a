"""influxd's config.toml, InfluxData's signed repository plan, and the operator's secrets."""

import tomllib

import jinja2
import pytest

from datalayer.influxdb.build import setup_plan
from datalayer.influxdb.config import check_influxd_keys, render_influxdb_config
from datalayer.influxdb.container import container_spec
from datalayer.influxdb.credentials import influxdb_secrets
from datalayer.influxdb.layout import CONTAINER_LAYOUT, PACKAGE_LAYOUT
from datalayer.influxdb.options import INFLUXD_OPTIONS
from datalayer.influxdb.packages import package_plan
from datalayer.render import render
from datalayer.secrets import SecretError
from datalayer.spec import load_environment
from datalayer.spec.influxdb import InfluxDb
from datalayer.spec.load import known_environments

STACKS_WITH_INFLUXDB = [
    name for name in known_environments() if load_environment(name).influxdb is not None
]
LAYOUTS = {"package": PACKAGE_LAYOUT, "container": CONTAINER_LAYOUT}


def spec_of(environment_name: str) -> InfluxDb:
    spec = load_environment(environment_name).influxdb
    assert spec is not None
    return spec


def settings(environment_name: str) -> dict[str, object]:
    return tomllib.loads(render_influxdb_config(spec_of(environment_name), environment_name))


def test_config_opens_with_the_managed_header() -> None:
    text = render_influxdb_config(spec_of("dev"), "dev")
    assert "rendered from templates/influxdb/config.toml.j2" in text.splitlines()[0]
    assert "edits here are overwritten" in text


def test_config_uses_the_package_layout() -> None:
    assert settings("dev")["bolt-path"] == "/var/lib/influxdb/influxd.bolt"
    assert settings("dev")["engine-path"] == "/var/lib/influxdb/engine"


def test_every_address_binds_the_port_alone() -> None:
    assert settings("dev")["http-bind-address"] == ":8086"


def test_private_address_is_bound_with_the_port() -> None:
    assert settings("prod")["http-bind-address"] == "10.110.0.30:8086"


def test_tls_settings_are_rendered_when_enabled() -> None:
    prod = settings("prod")
    assert (prod["tls-cert"], prod["tls-key"]) == (
        "/etc/influxdb/tls/server.crt",
        "/etc/influxdb/tls/server.key",
    )
    assert prod["tls-min-version"] == "1.3"


def rendered_in(stack: str, layout: str) -> dict[str, object]:
    spec = spec_of(stack)
    if layout == "container":
        spec = container_spec(spec)
    return tomllib.loads(render_influxdb_config(spec, stack, LAYOUTS[layout]))


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("stack", STACKS_WITH_INFLUXDB)
def test_every_rendered_key_is_an_influxd_option(stack: str, layout: str) -> None:
    assert sorted(set(rendered_in(stack, layout)) - set(INFLUXD_OPTIONS)) == []


def test_unknown_key_is_refused_when_rendering() -> None:
    with pytest.raises(ValueError, match=r"'tls-strict' is not an influxd 2\.7 option"):
        check_influxd_keys("tls-strict = true\n")


def test_value_of_the_wrong_type_is_refused_when_rendering() -> None:
    with pytest.raises(ValueError, match=r"tls-strict-ciphers = 'yes' is not a bool"):
        check_influxd_keys('tls-strict-ciphers = "yes"\n')


def test_strict_ciphers_with_tls_1_2() -> None:
    spec = spec_of("prod")
    spec = spec.model_copy(update={"tls": spec.tls.model_copy(update={"min_version": "1.2"})})
    assert tomllib.loads(render_influxdb_config(spec, "prod"))["tls-strict-ciphers"] is True


def test_no_strict_ciphers_with_tls_1_3() -> None:
    # influxd 2.7.12 turns them off for 1.3 with a warning at every start (launcher.go:1223-1227)
    assert settings("prod")["tls-strict-ciphers"] is False


def test_no_tls_settings_without_tls() -> None:
    assert not [key for key in settings("dev") if key.startswith("tls-")]


def test_reporting_is_disabled() -> None:
    assert settings("dev")["reporting-disabled"] is True


def test_metrics_endpoint_stays_on() -> None:
    # Prometheus scrapes influxd's /metrics; influxd serves it unless metrics-disabled
    # (cmd/influxd/launcher/launcher.go:933 at v2.7.12).
    assert settings("dev")["metrics-disabled"] is False


def test_missing_template_value_is_an_error() -> None:
    with pytest.raises(jinja2.UndefinedError):
        render("influxdb/config.toml.j2", environment_name="test")


def test_setup_reaches_the_api_on_loopback_when_bound_everywhere() -> None:
    assert setup_plan(spec_of("dev")).url == "http://127.0.0.1:8086"


def test_setup_pins_the_servers_certificate_with_tls() -> None:
    plan = setup_plan(spec_of("prod"))
    assert (plan.url, plan.ca_file) == ("https://10.110.0.30:8086", "/etc/influxdb/tls/server.crt")


def test_repository_is_signed_by_its_own_keyring() -> None:
    (repository,) = package_plan(spec_of("prod"), "debian").repositories
    assert repository.source_line == (
        "deb [signed-by=/etc/apt/keyrings/influxdata.asc] "
        "https://repos.influxdata.com/debian stable main"
    )
    assert repository.key_url == "https://repos.influxdata.com/influxdata-archive.key"
    assert repository.key_fingerprint == "24C975CBA61A024EE1B631787C3D57159FC2F927"


def test_server_package_is_pinned_and_the_cli_installed() -> None:
    assert package_plan(spec_of("prod"), "ubuntu").packages == (
        "influxdb2=2.7.12-1",
        "influxdb2-cli",
    )


def test_unknown_distribution_is_refused() -> None:
    with pytest.raises(ValueError, match="no packages for distribution 'fedora'"):
        package_plan(spec_of("prod"), "fedora")


def test_missing_admin_secret_names_the_variable() -> None:
    environ = {"DATALAYER_INFLUXDB_ADMIN_PASSWORD": "s3cure-and-long-enough"}
    with pytest.raises(SecretError, match="secret DATALAYER_INFLUXDB_ADMIN_TOKEN is not set"):
        influxdb_secrets(spec_of("dev"), environ)


def test_admin_secrets_are_masked_when_printed() -> None:
    environ = {
        "DATALAYER_INFLUXDB_ADMIN_PASSWORD": "s3cure-and-long-enough",
        "DATALAYER_INFLUXDB_ADMIN_TOKEN": "t0ken-and-long-enough",
    }
    shown = repr(influxdb_secrets(spec_of("dev"), environ))
    assert "s3cure-and-long-enough" not in shown
    assert "t0ken-and-long-enough" not in shown
