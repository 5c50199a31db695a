"""pgBackRest for a TimescaleDB cluster, one job per module.

``layout``: where pgBackRest's files go, and what systemd and PostgreSQL run (the backup units,
archive_command). ``keys``: an S3 repository's keys, read from the control machine's environment.
``render``: what the files say. ``archiving``: what the server and the repository report, and the
decision whether ``pgbackrest check`` must run. Pure functions of the spec, so that the droplet
deploy and the container path write the same bytes.
"""
