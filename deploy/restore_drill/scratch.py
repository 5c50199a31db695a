"""Make the restore drill's scratch host ready: the deploy file ``python -m datalayer.restore
drill`` runs, with pyinfra limited to the scratch host (and the SFTP repository host, whose host
keys are read over pyinfra's connection to it, never changed).

    DATALAYER_RESTORE_DRILL_ENV=prod DATALAYER_RESTORE_DRILL_TARGET=drill-1 \\
        pyinfra -y --limit drill-1 --limit backup-1 INVENTORY deploy/restore_drill/scratch.py

The command judged everything this reads (the environment, the target, the repository's keys,
the hooks' plan) before it started pyinfra; pyinfra's own preflight (``group_data/all.py``)
judged the inventory again before connecting.
"""

import os

from pyinfra.context import host

from datalayer.hooks.build import build_plan
from datalayer.spec import load_environment
from datalayer.timescaledb.backup.keys import repository_keys, sftp_key_pair
from datalayer.timescaledb.backup.sftp import SftpAccess
from deploy.backup_repository import members_sftp_server
from deploy.restore_drill import ENVIRONMENT_VARIABLE, TARGET_VARIABLE, scratch_host

if host.name == os.environ[TARGET_VARIABLE]:
    environment = load_environment(os.environ[ENVIRONMENT_VARIABLE])
    backup = environment.timescaledb.backup
    server = members_sftp_server(environment, host)
    key_pair = sftp_key_pair(backup)
    scratch_host(
        environment=environment,
        keys=repository_keys(backup),
        sftp=None if server is None or key_pair is None else SftpAccess(key_pair, server),
        hooks_plan=build_plan(environment),
    )
