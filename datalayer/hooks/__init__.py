"""Post-provision hooks: bring a running TimescaleDB to the declared state.

Database, roles, privileges, schema migrations and TimescaleDB policies, in that order, each
reported as created, changed, unchanged or skipped. The pyinfra deploy, the Pulumi program and
``python -m datalayer.hooks`` run the same steps.

Two halves, so that the steps can run on a droplet with nothing but python3 and psycopg:

- ``build`` (control machine): the environment spec and ``sql/`` become a :class:`HookPlan`,
  every bad value rejected before anything is changed.
- ``datalayer.onhost.hooks`` (anywhere, a droplet included): a plan, a connection and the
  passwords' SCRAM verifiers become changes, with the standard library and psycopg only.
"""
