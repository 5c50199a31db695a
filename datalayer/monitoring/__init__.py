"""Monitoring: the exporters on the service hosts, Prometheus, its alert rules."""
