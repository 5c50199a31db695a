"""TimescaleDB: file layout, rendered configuration, package plan, reload-or-restart decision."""
