"""influxd 2.7's configuration options: every key its config file may set, with the option's type.

Data, not code: the names and Go types of ``InfluxdOpts.BindCliOpts`` in
cmd/influxd/launcher/cmd.go of influxdb v2.7.12 (lines 263-704), one entry per option, the line
of its ``Flag`` beside it. An option's ``Flag`` is its config-file key: kit/cli/viper.go:102-122
binds each flag to viper under that name, and viper reads flags, ``INFLUXD_*`` variables and the
config file under that name (kit/cli/viper.go:369-376). influxd refuses only InfluxDB 1.x keys
(cmd.go:50-53, 76-85 and 708-750) and ignores any other key it does not know, silently; so
:func:`datalayer.influxdb.config.render_influxdb_config` checks every key it renders against
this list. Update it with the pinned version (``influxdb.version``).
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

INFLUXD_OPTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "log-level": "zapcore.Level",  # cmd.go:267
        "flux-log-enabled": "bool",  # cmd.go:273
        "tracing-type": "string",  # cmd.go:279
        "bolt-path": "string",  # cmd.go:284
        "sqlite-path": "string",  # cmd.go:290
        "assets-path": "string",  # cmd.go:295
        "store": "string",  # cmd.go:300
        "e2e-testing": "bool",  # cmd.go:306
        "testing-always-allow-setup": "bool",  # cmd.go:312
        "engine-path": "string",  # cmd.go:318
        "secret-store": "string",  # cmd.go:324
        "reporting-disabled": "bool",  # cmd.go:330
        "pid-file": "string",  # cmd.go:336
        "overwrite-pid-file": "bool",  # cmd.go:342
        "session-length": "int",  # cmd.go:348
        "session-renew-disabled": "bool",  # cmd.go:354
        "vault-addr": "string",  # cmd.go:360
        "vault-client-timeout": "time.Duration",  # cmd.go:365
        "vault-max-retries": "int",  # cmd.go:370
        "vault-cacert": "string",  # cmd.go:375
        "vault-capath": "string",  # cmd.go:380
        "vault-client-cert": "string",  # cmd.go:385
        "vault-client-key": "string",  # cmd.go:390
        "vault-skip-verify": "bool",  # cmd.go:395
        "vault-tls-server-name": "string",  # cmd.go:400
        "vault-token": "string",  # cmd.go:405
        "http-bind-address": "string",  # cmd.go:412
        "http-read-header-timeout": "time.Duration",  # cmd.go:418
        "http-read-timeout": "time.Duration",  # cmd.go:424
        "http-write-timeout": "time.Duration",  # cmd.go:430
        "http-idle-timeout": "time.Duration",  # cmd.go:436
        "tls-cert": "string",  # cmd.go:442
        "tls-key": "string",  # cmd.go:447
        "tls-min-version": "string",  # cmd.go:452
        "tls-strict-ciphers": "bool",  # cmd.go:458
        "no-tasks": "bool",  # cmd.go:465
        "query-concurrency": "int32",  # cmd.go:471
        "query-initial-memory-bytes": "int64",  # cmd.go:477
        "query-memory-bytes": "int64",  # cmd.go:483
        "query-max-memory-bytes": "int64",  # cmd.go:489
        "query-queue-size": "int32",  # cmd.go:495
        "feature-flags": "map[string]string",  # cmd.go:501
        "instance-id": "string",  # cmd.go:506
        "storage-write-timeout": "time.Duration",  # cmd.go:514
        "storage-wal-fsync-delay": "toml.Duration",  # cmd.go:520
        "storage-wal-max-concurrent-writes": "int",  # cmd.go:525
        "storage-wal-max-write-delay": "time.Duration",  # cmd.go:530
        "storage-wal-flush-on-shutdown": "bool",  # cmd.go:536
        "storage-validate-keys": "bool",  # cmd.go:541
        "storage-no-validate-field-size": "bool",  # cmd.go:546
        "storage-cache-max-memory-size": "toml.Size",  # cmd.go:551
        "storage-cache-snapshot-memory-size": "toml.Size",  # cmd.go:556
        "storage-cache-snapshot-write-cold-duration": "toml.Duration",  # cmd.go:561
        "storage-compact-full-write-cold-duration": "toml.Duration",  # cmd.go:566
        "storage-compact-throughput-burst": "toml.Size",  # cmd.go:571
        "storage-max-concurrent-compactions": "int",  # cmd.go:577
        "storage-max-index-log-file-size": "toml.Size",  # cmd.go:582
        "storage-series-id-set-cache-size": "int",  # cmd.go:587
        "storage-series-file-max-concurrent-snapshot-compactions": "int",  # cmd.go:592
        "storage-tsm-use-madv-willneed": "bool",  # cmd.go:597
        "storage-retention-check-interval": "toml.Duration",  # cmd.go:602
        "storage-shard-precreator-check-interval": "toml.Duration",  # cmd.go:607
        "storage-shard-precreator-advance-period": "toml.Duration",  # cmd.go:612
        "influxql-max-select-point": "int",  # cmd.go:619
        "influxql-max-select-series": "int",  # cmd.go:624
        "influxql-max-select-buckets": "int",  # cmd.go:629
        "nats-port": "int",  # cmd.go:636
        "nats-max-payload-bytes": "int",  # cmd.go:643
        "pprof-disabled": "bool",  # cmd.go:652
        "metrics-disabled": "bool",  # cmd.go:660
        "ui-disabled": "bool",  # cmd.go:667
        "hardening-enabled": "bool",  # cmd.go:686
        "template-file-urls-disabled": "bool",  # cmd.go:695
        "strong-passwords": "bool",  # cmd.go:701
    }
)
"""Config-file key -> Go type of the option (its ``DestP``), influxd v2.7.12."""
