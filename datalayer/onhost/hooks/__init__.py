"""The post-provision hooks' runtime: a plan, a connection and the passwords' SCRAM verifiers
become changes (``runner`` and its steps). Built on the control machine by
``datalayer.hooks.build``."""
