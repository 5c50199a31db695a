"""Reload or restart: chosen from what changed and what PostgreSQL says each setting needs."""

from datalayer.timescaledb.changes import Action, RunningServer, decide, parse_settings

CONTEXTS = {
    "shared_buffers": "postmaster",
    "work_mem": "user",
    "log_min_duration_statement": "superuser",
    "max_connections": "postmaster",
}
SERVER = RunningServer(CONTEXTS)
VERSION = 17
CONF = "shared_buffers = 1GB\nwork_mem = 4MB  # tuned\nlog_min_duration_statement = '1s'\n"
HBA = "local all postgres peer\n"


def test_nothing_changed_needs_nothing() -> None:
    assert decide(CONF, CONF, HBA, HBA, SERVER, VERSION).action is Action.NONE


def test_reloadable_setting_change_reloads() -> None:
    decision = decide(CONF, CONF.replace("4MB", "8MB"), HBA, HBA, SERVER, VERSION)
    assert decision.action is Action.RELOAD
    assert decision.changed_settings == ("work_mem",)


def test_pg_hba_change_alone_reloads() -> None:
    decision = decide(CONF, CONF, HBA, HBA + "local all all reject\n", SERVER, VERSION)
    assert decision.action is Action.RELOAD
    assert decision.hba_changed


def test_postmaster_setting_change_restarts() -> None:
    decision = decide(CONF, CONF.replace("1GB", "2GB"), HBA, HBA, SERVER, VERSION)
    assert decision.action is Action.RESTART
    assert decision.restart_settings == ("shared_buffers",)


def test_comment_only_change_needs_nothing() -> None:
    assert (
        decide(CONF, CONF.replace("# tuned", "# other"), HBA, HBA, SERVER, VERSION).action
        is Action.NONE
    )


def test_removed_postmaster_setting_restarts() -> None:
    wanted = "work_mem = 4MB\nlog_min_duration_statement = '1s'\n"
    assert decide(CONF, wanted, HBA, HBA, SERVER, VERSION).action is Action.RESTART


def test_owed_restart_restarts_even_without_change() -> None:
    server = RunningServer(CONTEXTS, frozenset({"max_connections"}))
    decision = decide(CONF, CONF, HBA, HBA, server, VERSION)
    assert decision.action is Action.RESTART
    assert decision.restart_settings == ("max_connections",)


def test_setting_unknown_to_the_server_restarts_when_the_catalogue_says_postmaster() -> None:
    # pg17.json: timescaledb.max_background_workers has context postmaster.
    wanted = CONF + "timescaledb.max_background_workers = 8\n"
    assert decide(CONF, wanted, HBA, HBA, SERVER, VERSION).action is Action.RESTART


def test_setting_unknown_to_the_server_reloads_when_the_catalogue_says_so() -> None:
    # pg17.json: timescaledb.enable_chunk_skipping has context user, so a reload applies it.
    wanted = CONF + "timescaledb.enable_chunk_skipping = on\n"
    assert decide(CONF, wanted, HBA, HBA, SERVER, VERSION).action is Action.RELOAD


def test_setting_unknown_to_server_and_catalogue_restarts() -> None:
    wanted = CONF + "timescaledb.telemetry_level = off\n"
    assert decide(CONF, wanted, HBA, HBA, SERVER, VERSION).action is Action.RESTART


def test_stopped_server_is_started() -> None:
    assert decide(CONF, CONF, HBA, HBA, None, VERSION).action is Action.RESTART


def test_parse_settings_handles_quotes_comments_and_last_wins() -> None:
    text = "a = 1\n#b = 2\nc = 'x # not a comment'  # comment\na = 3\nd 'spaced'\n"
    assert parse_settings(text) == {"a": "3", "c": "x # not a comment", "d": "spaced"}


def test_describe_names_the_reason() -> None:
    decision = decide(CONF, CONF.replace("1GB", "2GB"), HBA, HBA, SERVER, VERSION)
    assert decision.describe() == "restart PostgreSQL (shared_buffers)"


def test_files_newer_than_the_last_load_reload_though_unchanged() -> None:
    server = RunningServer(CONTEXTS, load_owed=True)
    decision = decide(CONF, CONF, HBA, HBA, server, VERSION)
    assert decision.action is Action.RELOAD
    assert decision.describe() == (
        "reload PostgreSQL (the files were written after PostgreSQL last loaded them)"
    )


def test_files_newer_than_the_last_load_with_an_owed_restart_restart() -> None:
    server = RunningServer(CONTEXTS, frozenset({"shared_buffers"}), load_owed=True)
    assert decide(CONF, CONF, HBA, HBA, server, VERSION).action is Action.RESTART
