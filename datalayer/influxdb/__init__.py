"""InfluxDB 2: rendered configuration, package plan, and the onboarding/bucket/token setup step."""
