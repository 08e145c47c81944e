"""Writing and reading kubeconfig files: the ones ``kubeds up`` hands to kubectl, and any kubectl uses.

``write_kubeconfig`` produces the standard ``kind: Config`` document kubeadm writes for
``admin.conf`` (``cmd/kubeadm/app/phases/kubeconfig``): one cluster with ``server`` and
``certificate-authority-data``, one user with ``token`` and/or ``client-certificate-data``/
``client-key-data``, one context joining them, and ``current-context``. ``*-data`` fields are base64
of the PEM bytes, as client-go's ``clientcmd/api/v1`` serialises ``[]byte``. The file holds a
credential, so it is created with mode 0600 (through a temporary file and a rename).

``load_kubeconfig`` reads such a file the way ``clientcmd.DirectClientConfig`` does for the fields a
client needs: the chosen (or current) context, its cluster and user; ``certificate-authority``,
``client-certificate``, ``client-key`` and ``tokenFile`` paths are resolved relative to the
kubeconfig's own directory (``clientcmd/loader.go`` ``ResolveLocalPaths``), and inline ``*-data``
wins over a path, as upstream does.

``resolve_kubeconfig_path`` follows the kubeds command-line contract: ``--kubeconfig``, then the first
entry of ``$KUBECONFIG``, then ``./.kubeds/kubeconfig``. (Upstream merges every ``$KUBECONFIG``
entry; kubeds only ever writes one file, so the first entry is the one that matters.)
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEFAULT_KUBECONFIG",
    "KubeConfig",
    "KubeConfigError",
    "load_kubeconfig",
    "resolve_kubeconfig_path",
    "write_kubeconfig",
]

DEFAULT_KUBECONFIG = Path(".kubeds") / "kubeconfig"
KUBECONFIG_ENV = "KUBECONFIG"

# clientcmd's messages (staging/src/k8s.io/client-go/tools/clientcmd/validation.go).
ERR_EMPTY_CONFIG = "invalid configuration: no configuration has been provided"
ERR_NO_CONTEXT = "invalid configuration: no context chosen"
ERR_CONTEXT_NOT_FOUND = "context was not found for specified context: {context}"
ERR_CLUSTER_NOT_FOUND = "cluster {cluster!r} not found in kubeconfig {path}"
ERR_EMPTY_CLUSTER = "invalid configuration: cluster has no server defined"
ERR_UNREADABLE = "unable to read kubeconfig {path}: {error}"
ERR_BAD_DATA = "invalid configuration: {field} in kubeconfig {path} is not valid base64"


class KubeConfigError(Exception):
    """A kubeconfig file is missing, unparsable or does not name a usable cluster."""


@dataclass(frozen=True)
class KubeConfig:
    """What a client needs from a kubeconfig: where the server is and how to log in."""

    path: Path
    context: str
    server: str
    ca_pem: bytes | None = None
    token: str | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    insecure_skip_tls_verify: bool = False
    namespace: str = "default"


def write_kubeconfig(
    path: Path | str,
    *,
    server: str,
    ca_pem: bytes,
    token: str | None,
    client_cert_pem: bytes | None = None,
    client_key_pem: bytes | None = None,
    context: str = "kubeds",
) -> Path:
    """Write a single-context kubeconfig to ``path`` (mode 0600) and return the path."""
    if (client_cert_pem is None) != (client_key_pem is None):
        raise ValueError("client_cert_pem and client_key_pem must be given together")
    user: dict[str, Any] = {}
    if client_cert_pem is not None and client_key_pem is not None:
        user["client-certificate-data"] = _b64(client_cert_pem)
        user["client-key-data"] = _b64(client_key_pem)
    if token:
        user["token"] = token
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": context, "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}
        ],
        "users": [{"name": context, "user": user}],
        "contexts": [{"name": context, "context": {"cluster": context, "user": context}}],
        "current-context": context,
        "preferences": {},
    }
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(document, sort_keys=False, default_flow_style=False)
    tmp = target.with_name(f".{target.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, target)
    return target


def load_kubeconfig(path: Path | str, *, context: str | None = None) -> KubeConfig:
    """Read ``path`` and resolve ``context`` (default: ``current-context``) into a :class:`KubeConfig`."""
    source = Path(path)
    try:
        document = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise KubeConfigError(ERR_UNREADABLE.format(path=source, error=exc)) from exc
    if not isinstance(document, dict) or not document:
        raise KubeConfigError(ERR_EMPTY_CONFIG)
    chosen = context or str(document.get("current-context") or "")
    if not chosen:
        raise KubeConfigError(ERR_NO_CONTEXT)
    ctx = _named(document, "contexts", "context", chosen)
    if ctx is None:
        raise KubeConfigError(ERR_CONTEXT_NOT_FOUND.format(context=chosen))
    cluster_name = str(ctx.get("cluster") or "")
    cluster = _named(document, "clusters", "cluster", cluster_name)
    if cluster is None:
        raise KubeConfigError(ERR_CLUSTER_NOT_FOUND.format(cluster=cluster_name, path=source))
    server = str(cluster.get("server") or "")
    if not server:
        raise KubeConfigError(ERR_EMPTY_CLUSTER)
    user = _named(document, "users", "user", str(ctx.get("user") or "")) or {}
    base = source.parent
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = _read_file(base, str(user["tokenFile"]), source=source).decode("utf-8").strip()
    return KubeConfig(
        path=source,
        context=chosen,
        server=server,
        ca_pem=_data_or_file(cluster, "certificate-authority", base=base, source=source),
        token=str(token) if token else None,
        client_cert_pem=_data_or_file(user, "client-certificate", base=base, source=source),
        client_key_pem=_data_or_file(user, "client-key", base=base, source=source),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        namespace=str(ctx.get("namespace") or "default"),
    )


def resolve_kubeconfig_path(
    explicit: str | None, *, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> Path:
    """``--kubeconfig`` if given, else the first ``$KUBECONFIG`` entry, else ``./.kubeds/kubeconfig``."""
    if explicit:
        return Path(explicit).expanduser()
    environ = os.environ if env is None else env
    for entry in environ.get(KUBECONFIG_ENV, "").split(os.pathsep):
        if entry.strip():
            return Path(entry.strip()).expanduser()
    return (cwd or Path.cwd()) / DEFAULT_KUBECONFIG


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _named(document: Mapping[str, Any], section: str, field: str, name: str) -> dict[str, Any] | None:
    for entry in document.get(section) or []:
        if isinstance(entry, dict) and entry.get("name") == name:
            value = entry.get(field)
            return value if isinstance(value, dict) else {}
    return None


def _data_or_file(section: Mapping[str, Any], key: str, *, base: Path, source: Path) -> bytes | None:
    data = section.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(str(data), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise KubeConfigError(ERR_BAD_DATA.format(field=f"{key}-data", path=source)) from exc
    if section.get(key):
        return _read_file(base, str(section[key]), source=source)
    return None


def _read_file(base: Path, name: str, *, source: Path) -> bytes:
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = base / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise KubeConfigError(ERR_UNREADABLE.format(path=path, error=exc)) from exc
