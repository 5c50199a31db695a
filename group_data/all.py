"""Judge the environment of every host before pyinfra connects to any (``deploy/preflight.py``).

pyinfra executes every file of ``group_data/`` in the directory it runs in while it loads any
inventory, before it connects; this one adds no data (``__all__`` is empty).
"""

from deploy.preflight import check_before_connecting

check_before_connecting()

__all__: list[str] = []
