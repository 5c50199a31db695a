"""TimescaleDB: the file layout, the rendered configuration and the decision to reload or restart."""
