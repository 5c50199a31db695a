"""Monitoring: the exporters on the service hosts, what Prometheus scrapes (from the
inventory and the spec), and its alert rules."""
