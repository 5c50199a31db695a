"""The InfluxDB operator's secrets, read from the control machine before anything changes."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.secrets import read_secrets
from datalayer.spec.influxdb import InfluxDb


@dataclass(frozen=True)
class InfluxDbSecrets:
    """The operator's password and token; shown as ``**********`` when printed."""

    admin_password: SecretStr
    admin_token: SecretStr


def influxdb_secrets(spec: InfluxDb, environ: Mapping[str, str] = os.environ) -> InfluxDbSecrets:
    """Both secrets the spec names; both are read before either is used."""
    secrets = read_secrets(spec, environ)
    return InfluxDbSecrets(
        admin_password=secrets[spec.admin_password_secret],
        admin_token=secrets[spec.admin_token_secret],
    )
