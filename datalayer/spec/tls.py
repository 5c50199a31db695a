"""Server TLS as PostgreSQL and InfluxDB take it: a certificate and key, both needed when on.

Redis has its own model (datalayer/spec/redis.py): it also needs a CA file whenever TLS is on.
"""

from typing import Self

from pydantic import model_validator

from datalayer.spec.base import SpecModel
from datalayer.spec.types import AbsolutePath, StrictBool


class ServerTls(SpecModel):
    """A server certificate and key on the host; each service adds its own settings."""

    enabled: StrictBool = False
    """Serve TLS."""
    cert_file: AbsolutePath | None = None
    """Server certificate (PEM) on the host; required when enabled."""
    key_file: AbsolutePath | None = None
    """Server private key on the host, readable by the service's user only; required when
    enabled."""

    @model_validator(mode="after")
    def _files_when_enabled(self) -> Self:
        if self.enabled and (self.cert_file is None or self.key_file is None):
            raise ValueError("tls.enabled is true but tls.cert_file or tls.key_file is not set")
        return self
