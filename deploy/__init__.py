"""pyinfra deploys: one package per service, run by ``deploy/site.py`` on the inventory's groups."""
