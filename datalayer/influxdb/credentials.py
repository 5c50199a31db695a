"""The InfluxDB operator's secrets, read from the control machine before anything changes."""

import os
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from datalayer.secrets import read_secret
from datalayer.spec.influxdb import InfluxDb


@dataclass(frozen=True)
class InfluxDbSecrets:
    """The operator's password and token; shown as ``**********`` when printed."""

    admin_password: SecretStr
    admin_token: SecretStr


def influxdb_secrets(spec: InfluxDb, environ: Mapping[str, str] = os.environ) -> InfluxDbSecrets:
    """Both secrets the spec names; both are read before either is used."""
    return InfluxDbSecrets(
        admin_password=read_secret(spec.admin_password_secret, environ),
        admin_token=read_secret(spec.admin_token_secret, environ),
    )
