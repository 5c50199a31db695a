"""Redis: its commands as data, file layout, rendered configuration, runtime-change decision."""
