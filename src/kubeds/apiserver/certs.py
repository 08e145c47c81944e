"""The cluster's PKI: its own CA, the serving certificate, the admin credentials, and authentication.

kubeds serves HTTPS only, like kwokctl and kubeadm clusters: ``ensure_pki`` creates, under
``<data-dir>/pki/``, what ``kubeadm init phase certs`` and ``kubeadm init phase kubeconfig admin``
create for a real cluster, reduced to what one API server needs:

* ``ca.crt``/``ca.key``: a self-signed CA, EC P-256, valid 10 years (kubeadm's CA lifetime,
  ``cmd/kubeadm/app/constants`` ``CACertificateValidityPeriod``);
* ``server.crt``/``server.key``: the serving certificate, signed by the CA, with a SAN for every host
  or IP the server is reached by plus ``localhost``/``127.0.0.1`` (kubeadm's ``apiserver`` cert,
  ``cmd/kubeadm/app/phases/certs/certlist.go``), valid 1 year;
* ``admin.crt``/``admin.key``: a client certificate with ``CN=kubeds-admin, O=system:masters``: the
  x509 authenticator turns CN into the user name and O into groups
  (``staging/src/k8s.io/apiserver/pkg/authentication/request/x509/x509.go`` ``CommonNameUserConversion``);
* ``admin.token``: a random bearer token for the static-token authenticator
  (``.../authentication/token/tokenfile``), so clients without a client certificate still log in.

The call is idempotent: everything that exists and is still valid is reused, so ``kubeds up`` on the
same data dir keeps its kubeconfig working. The server certificate is reissued when the host list
changes, when it no longer chains to the CA, or when it expires within :data:`RENEW_BEFORE`.
Private keys and the token are written with mode 0600, through a temporary file and a rename, so a
crash never leaves a half-written key behind.

``server_ssl_context`` builds the TLS server context: the client certificate is optional
(``CERT_OPTIONAL``, kube-apiserver's ``tls.VerifyClientCertIfGiven``) so bearer tokens keep working,
and a certificate that is presented must chain to the CA or the handshake fails.
``authenticate`` is the union authenticator (``.../authentication/request/union``): a verified
client certificate first, then the bearer token.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import os
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubeds import clock as clock_mod

__all__ = [
    "ADMIN_GROUP",
    "ADMIN_USER",
    "Pki",
    "authenticate",
    "ensure_pki",
    "server_ssl_context",
]

ADMIN_USER = "kubeds-admin"
ADMIN_GROUP = "system:masters"
CA_COMMON_NAME = "kubeds-ca"
SERVER_COMMON_NAME = "kubeds-apiserver"
DEFAULT_HOSTS = ("localhost", "127.0.0.1")

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
RENEW_BEFORE = dt.timedelta(days=30)
# Certificates start slightly in the past so a peer with a lagging clock accepts them
# (client-go's cert.GenerateSelfSignedCertKey backdates by an hour as well).
BACKDATE = dt.timedelta(hours=1)

PKI_DIR = "pki"
CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"
ADMIN_CERT = "admin.crt"
ADMIN_KEY = "admin.key"
TOKEN_FILE = "admin.token"

TOKEN_BYTES = 32
BEARER_PREFIX = "bearer "


@dataclass(frozen=True)
class Pki:
    """Paths and PEM contents of the cluster's CA, serving and admin credentials."""

    directory: Path
    ca_cert_path: Path
    ca_key_path: Path
    server_cert_path: Path
    server_key_path: Path
    admin_cert_path: Path
    admin_key_path: Path
    token_path: Path
    ca_pem: bytes
    ca_key_pem: bytes
    server_cert_pem: bytes
    server_key_pem: bytes
    admin_cert_pem: bytes
    admin_key_pem: bytes
    token: str
    hosts: tuple[str, ...]


def ensure_pki(data_dir: Path, *, hosts: list[str], clock: clock_mod.Clock = clock_mod.REAL) -> Pki:
    """Create or reuse the PKI under ``data_dir/pki`` and return it.

    ``hosts`` are the names and IPs clients use to reach the server; ``localhost`` and
    ``127.0.0.1`` are always added. Existing material is kept unless it is missing, does not
    parse, does not chain to the CA or is about to expire; a changed host set reissues only the
    serving certificate.
    """
    directory = Path(data_dir) / PKI_DIR
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = clock.now()
    wanted_hosts = _normalise_hosts(hosts)

    ca_key, ca_cert, ca_fresh = _ensure_ca(directory, now=now)
    server_key_pem, server_cert_pem = _ensure_leaf(
        directory / SERVER_CERT,
        directory / SERVER_KEY,
        ca_key=ca_key,
        ca_cert=ca_cert,
        force=ca_fresh,
        now=now,
        subject=_name(SERVER_COMMON_NAME),
        usage=ExtendedKeyUsageOID.SERVER_AUTH,
        hosts=wanted_hosts,
    )
    admin_key_pem, admin_cert_pem = _ensure_leaf(
        directory / ADMIN_CERT,
        directory / ADMIN_KEY,
        ca_key=ca_key,
        ca_cert=ca_cert,
        force=ca_fresh,
        now=now,
        subject=_name(ADMIN_USER, organization=ADMIN_GROUP),
        usage=ExtendedKeyUsageOID.CLIENT_AUTH,
        hosts=None,
    )
    token = _ensure_token(directory / TOKEN_FILE)
    return Pki(
        directory=directory,
        ca_cert_path=directory / CA_CERT,
        ca_key_path=directory / CA_KEY,
        server_cert_path=directory / SERVER_CERT,
        server_key_path=directory / SERVER_KEY,
        admin_cert_path=directory / ADMIN_CERT,
        admin_key_path=directory / ADMIN_KEY,
        token_path=directory / TOKEN_FILE,
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM),
        ca_key_pem=_key_pem(ca_key),
        server_cert_pem=server_cert_pem,
        server_key_pem=server_key_pem,
        admin_cert_pem=admin_cert_pem,
        admin_key_pem=admin_key_pem,
        token=token,
        hosts=wanted_hosts,
    )


def server_ssl_context(pki: Pki) -> ssl.SSLContext:
    """A TLS server context presenting the serving certificate; client certificates are optional."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile=pki.server_cert_path, keyfile=pki.server_key_path)
    context.load_verify_locations(cadata=pki.ca_pem.decode("ascii"))
    context.verify_mode = ssl.CERT_OPTIONAL
    return context


def authenticate(headers: Mapping[str, str], peer_cert: dict[str, Any] | None, pki: Pki) -> str | None:
    """The user a request authenticates as, or ``None`` (anonymous; the server answers 401).

    ``peer_cert`` is ``ssl.SSLObject.getpeercert()`` (aiohttp: ``transport.get_extra_info("peercert")``):
    with :func:`server_ssl_context` it is only non-empty for a certificate the handshake verified
    against the CA, so its CN is the user, as upstream's x509 authenticator does. A client
    certificate must also carry client-auth usage, which OpenSSL checks during the handshake.
    Otherwise ``Authorization: Bearer <token>`` must match the admin token (constant-time compare).
    """
    if peer_cert:
        user = _common_name(peer_cert)
        if user:
            return user
    authorization = _header(headers, "authorization")
    if authorization and authorization[: len(BEARER_PREFIX)].lower() == BEARER_PREFIX:
        presented = authorization[len(BEARER_PREFIX) :].strip()
        if presented and hmac.compare_digest(presented.encode(), pki.token.encode()):
            return ADMIN_USER
    return None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if k.lower() == name), "")
    return value


def _common_name(peer_cert: Mapping[str, Any]) -> str:
    for rdn in peer_cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return ""


def _normalise_hosts(hosts: list[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for host in [*DEFAULT_HOSTS, *hosts]:
        host = host.strip().strip("[]")
        if host:
            seen.setdefault(host, None)
    return tuple(sorted(seen))


def _name(common_name: str, *, organization: str = "") -> x509.Name:
    attributes = []
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _ensure_ca(
    directory: Path, *, now: dt.datetime
) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate, bool]:
    """The CA key and certificate, and whether they were just created (then every leaf is reissued)."""
    cert_path, key_path = directory / CA_CERT, directory / CA_KEY
    existing = _load_pair(cert_path, key_path)
    if existing is not None:
        key, cert = existing
        if cert.not_valid_after_utc - RENEW_BEFORE > now:
            return key, cert, False
    key = ec.generate_private_key(ec.SECP256R1())
    subject = _name(CA_COMMON_NAME)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    _write_secret(key_path, _key_pem(key))
    _write_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, True


def _ensure_leaf(
    cert_path: Path,
    key_path: Path,
    *,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    force: bool,
    now: dt.datetime,
    subject: x509.Name,
    usage: x509.ObjectIdentifier,
    hosts: tuple[str, ...] | None,
) -> tuple[bytes, bytes]:
    """Reuse the leaf at ``cert_path`` if still right, else sign a new one; returns (key PEM, cert PEM)."""
    existing = None if force else _load_pair(cert_path, key_path)
    if existing is not None:
        key, cert = existing
        if _leaf_is_current(cert, ca_cert=ca_cert, now=now, subject=subject, hosts=hosts):
            return _key_pem(key), cert.public_bytes(serialization.Encoding.PEM)
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(min(now + LEAF_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if hosts is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(_sans(hosts)), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())
    key_pem, cert_pem = _key_pem(key), cert.public_bytes(serialization.Encoding.PEM)
    _write_secret(key_path, key_pem)
    _write_public(cert_path, cert_pem)
    return key_pem, cert_pem


def _leaf_is_current(
    cert: x509.Certificate,
    *,
    ca_cert: x509.Certificate,
    now: dt.datetime,
    subject: x509.Name,
    hosts: tuple[str, ...] | None,
) -> bool:
    if cert.subject != subject or cert.not_valid_after_utc - RENEW_BEFORE <= now:
        return False
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (InvalidSignature, ValueError, TypeError):
        return False
    if hosts is None:
        return True
    return _cert_hosts(cert) == set(hosts)


def _sans(hosts: tuple[str, ...]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _cert_hosts(cert: x509.Certificate) -> set[str]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    hosts = set(san.get_values_for_type(x509.DNSName))
    hosts.update(str(ip) for ip in san.get_values_for_type(x509.IPAddress))
    return hosts


def _load_pair(cert_path: Path, key_path: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
    """The key and certificate at these paths, or ``None`` if either is missing, unreadable or mismatched."""
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        return None
    if _public_der(cert.public_key()) != _public_der(key.public_key()):
        return None
    return key, cert


def _public_der(key: CertificatePublicKeyTypes) -> bytes:
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def _ensure_token(path: Path) -> str:
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        token = ""
    if not token:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        _write_secret(path, (token + "\n").encode("ascii"))
    return token


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _write_secret(path: Path, data: bytes) -> None:
    _write_atomic(path, data, mode=0o600)


def _write_public(path: Path, data: bytes) -> None:
    _write_atomic(path, data, mode=0o644)


def _write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), mode)
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
