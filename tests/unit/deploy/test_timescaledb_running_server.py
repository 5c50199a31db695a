"""What the PostgresqlRunningServer fact makes of the running server's answers: recorded on a
deployed sandbox droplet (PostgreSQL 17.12 from Debian 13), with shared_buffers changed to 300MB
and 'log_statement = every' appended to postgresql.conf, neither reloaded, by running the fact's
command. Of the 386 pg_settings lines, three are kept.
"""

from datalayer.timescaledb.changes import RunningServer
from deploy.timescaledb.facts import PostgresqlRunningServer

CONF = "/etc/postgresql/17/main/postgresql.conf"
RECORDED = [
    "setting|log_statement|superuser|false",
    "setting|shared_buffers|postmaster|false",
    "setting|work_mem|user|false",
    "loaded|1796120317.373184||",
    f"file|{CONF}|84|log_statement|superuser|setting could not be applied",
    f"file|{CONF}|40|shared_buffers|postmaster|setting could not be applied",
    f"written|{CONF}|1796120333.725035849",
    "written|/etc/postgresql/17/main/pg_hba.conf|1796120190.853595571",
]
CONTEXTS = {"log_statement": "superuser", "shared_buffers": "postmaster", "work_mem": "user"}


def test_unloaded_edits_are_a_load_owed_a_restart_owed_and_a_refused_value() -> None:
    assert PostgresqlRunningServer().process(RECORDED) == RunningServer(
        CONTEXTS,
        pending_restart=frozenset({"shared_buffers"}),
        load_owed=True,
        file_errors=(f"{CONF}:84: log_statement: setting could not be applied",),
    )


def test_files_loaded_after_they_were_written_owe_nothing() -> None:
    loaded_later = [
        line.replace("1796120317.373184", "1796120400.0")
        for line in RECORDED
        if not line.startswith("file|")
    ]
    assert PostgresqlRunningServer().process(loaded_later) == RunningServer(CONTEXTS)
