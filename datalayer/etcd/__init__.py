"""etcd, the cluster's DCS: layout, configuration, passwords and authentication plan."""
