"""The API client: the only way controllers, the scheduler, simulated nodes and the CLI reach state.

``ApiClient`` (:mod:`.api`) over a ``Transport`` (:mod:`.transport`: HTTPS or in-process), errors in
:mod:`.errors`, kubeconfig files in :mod:`.kubeconfig`. It never imports ``kubeds.apiserver`` or
``kubeds.storage`` (import-linter contract), so a component works the same against a remote server.
"""

from __future__ import annotations

from kubeds.client.api import ApiClient, ResourceClient
from kubeds.client.errors import ApiError
from kubeds.client.kubeconfig import KubeConfig, load_kubeconfig, resolve_kubeconfig_path, write_kubeconfig
from kubeds.client.transport import HttpTransport, InProcessTransport, Transport

__all__ = [
    "ApiClient",
    "ApiError",
    "HttpTransport",
    "InProcessTransport",
    "KubeConfig",
    "ResourceClient",
    "Transport",
    "client_from_kubeconfig",
    "load_kubeconfig",
    "resolve_kubeconfig_path",
    "write_kubeconfig",
]


def client_from_kubeconfig(config: KubeConfig, *, user_agent: str = "kubeds") -> ApiClient:
    """An :class:`ApiClient` over HTTPS to the cluster ``config`` names, with its credentials."""
    transport = HttpTransport(
        config.server,
        ca_pem=config.ca_pem,
        token=config.token,
        client_cert_pem=config.client_cert_pem,
        client_key_pem=config.client_key_pem,
        insecure_skip_tls_verify=config.insecure_skip_tls_verify,
    )
    return ApiClient(transport, user_agent=user_agent)
