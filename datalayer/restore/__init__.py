"""Restores a user runs: ``python -m datalayer.restore drill`` (``datalayer.restore.drill``)."""
