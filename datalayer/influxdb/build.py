"""The setup step's plan, built from the spec on the control machine.

The step itself runs on the droplet (``datalayer.onhost.influxdb_setup``) and reads this plan
from the file the deploy uploads, as the hooks' runtime reads ``datalayer.hooks.build``'s.
"""

from datalayer.onhost.influxdb_setup import Plan, TokenPlan
from datalayer.spec.influxdb import InfluxDb


def api_url(spec: InfluxDb) -> str:
    """Where the setup step, running on the droplet, reaches the API: the bound address, or the
    loopback address when influxd listens on every address."""
    scheme = "https" if spec.tls.enabled else "http"
    address = "127.0.0.1" if spec.http_bind_address == "*" else spec.http_bind_address
    return f"{scheme}://{address}:{spec.http_port}"


def setup_plan(spec: InfluxDb) -> Plan:
    """What the setup step converges to, from the spec; holds no secret."""
    return Plan(
        url=api_url(spec),
        ca_file=spec.tls.cert_file if spec.tls.enabled else None,
        server_name=None,  # the server's own certificate, pinned: see http_transport
        org=spec.org,
        bucket=spec.bucket,
        retention_seconds=spec.retention_seconds,
        username=spec.admin_username,
        tokens=tuple(
            TokenPlan(token.role, token.description, token.file, token.actions)
            for token in spec.tokens
        ),
    )
