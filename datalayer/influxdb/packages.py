"""Which apt repository and packages give a host InfluxDB 2.

Kept apart from the deploy so that the choice, including InfluxData's repository that these
machines cannot reach, is plain data a unit test can check.
"""

from datalayer.apt import AptRepository, PackagePlan
from datalayer.spec.influxdb import InfluxDb

# InfluxData's repository signing key and its fingerprint, as InfluxData's install instructions
# publish them; the key is checked against the fingerprint before apt is told to trust it.
INFLUXDATA_KEY_URL = "https://repos.influxdata.com/influxdata-archive.key"
INFLUXDATA_KEY_FINGERPRINT = "24C975CBA61A024EE1B631787C3D57159FC2F927"


def package_plan(spec: InfluxDb, distribution: str) -> PackagePlan:
    """InfluxData's signed repository and the pinned server with its CLI.

    + distribution: the os-release ID, 'debian' or 'ubuntu'; the repository's suite is 'stable'
      for every release of either, so the codename does not matter
    """
    if distribution not in ("debian", "ubuntu"):
        raise ValueError(
            f"InfluxData's repository has no packages for distribution {distribution!r}"
        )
    repository = AptRepository(
        name="influxdata",
        key_url=INFLUXDATA_KEY_URL,
        key_fingerprint=INFLUXDATA_KEY_FINGERPRINT,
        uri=f"https://repos.influxdata.com/{distribution}",
        suite="stable",
    )
    # The CLI is versioned apart from the server (influx-cli's own releases): current version.
    packages = (f"influxdb2={spec.version}", "influxdb2-cli")
    return PackagePlan((repository,), packages)
