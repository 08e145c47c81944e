"""kubeds: a Kubernetes-compatible control plane for DaemonSets and node operations.

The package is layered (see ``docs/architecture.md`` and the import contracts in
``pyproject.toml``): ``models`` holds pure rules, ``storage`` an etcd-shaped MVCC store,
``apiserver`` the Kubernetes REST semantics over it, ``client`` the only way components reach
the API, and ``controllers``/``scheduler``/``nodes`` the components themselves.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
