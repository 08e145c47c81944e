"""How client commands (``kubeds node``, ``kubeds status``) reach a running plane.

The kubeconfig comes from ``--kubeconfig``, then ``$KUBECONFIG``, then ``./.kubeds/kubeconfig``
(:func:`kubeds.client.kubeconfig.resolve_kubeconfig_path`). Every failure to reach the plane ends
in one line that says what to do next, and exit code 1.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable

from kubeds.client import ApiClient, client_from_kubeconfig, errors, kubeconfig

__all__ = ["MSG_NO_KUBECONFIG", "MSG_NO_PLANE", "UsageError", "run_with_client"]

MSG_NO_PLANE = "no kubeds plane answers at {server}: start one with `kubeds up`"
MSG_NO_KUBECONFIG = "no kubeconfig at {path}: start a plane with `kubeds up`, or pass --kubeconfig"


class UsageError(Exception):
    """Bad command-line input (exit code 2)."""


async def run_with_client(
    command: str, explicit_kubeconfig: str | None, body: Callable[[ApiClient, str], Awaitable[int]]
) -> int:
    """Connect, run ``body(api, server_url)``, and turn failures into messages and exit codes."""
    path = kubeconfig.resolve_kubeconfig_path(explicit_kubeconfig)
    if not path.exists():
        print(f"{command}: {MSG_NO_KUBECONFIG.format(path=path)}", file=sys.stderr)
        return 1
    try:
        config = kubeconfig.load_kubeconfig(path)
    except kubeconfig.KubeConfigError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 1
    api = client_from_kubeconfig(config, user_agent=command.replace(" ", "-"))
    try:
        return await body(api, config.server)
    except UsageError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    except errors.TransportError:
        print(f"{command}: {MSG_NO_PLANE.format(server=config.server)}", file=sys.stderr)
        return 1
    except errors.ApiError as exc:
        print(f"Error from server ({exc.reason or exc.code}): {exc.message}", file=sys.stderr)
        return 1
    finally:
        await api.close()
