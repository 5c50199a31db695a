"""One ComponentResource per concern: the network, the secrets, and one per service."""
