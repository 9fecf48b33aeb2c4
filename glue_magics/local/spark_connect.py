"""The endpoint's side of its Spark Connect sessions: their TLS certificates, their
configuration, their tokens.

Each SPARK_CONNECT session runs ``python -m glue_magics.local.connect_proxy`` (one worker
process, started like the statement sessions' by :mod:`glue_magics.local.workers`): Spark's
server on 127.0.0.1 behind a TLS gRPC proxy that checks the ``x-aws-proxy-auth`` token.

Why TLS and port 443: AWS's recipe ("interactive-sessions-spark-connect-connecting", step
"Retrieve the Spark Connect endpoint") connects to ``f"{Url}:443/;use_ssl=true;
x-aws-proxy-auth={token}"``, and the Url the service returns names no port
(``sc://s-xxx.sessions.glue.<region>.amazonaws.com``, in sagemaker-studio's
``GlueSparkSessionManager._construct_spark_endpoint_url``).  So where it can, each session's
proxy listens on port 443 of an address of its own in 127.0.0.0/8, and its Url is
``sc://127.a.b.c``: the recipe works unchanged, with TLS verified, once the client trusts
this endpoint's certificate authority (:attr:`Certificates.ca_file`, e.g. through gRPC's
``GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`` or ``grpc.ssl_channel_credentials(root_certificates)``).
Where 443 cannot be bound (a process without the privilege, or ``connect_port=0``), the
proxy takes a free port on 127.0.0.1 and the Url names it, ``sc://127.0.0.1:PORT``: a
client then uses that port instead of 443, still with ``use_ssl=true``.
"""

from __future__ import annotations

import datetime
import ipaddress
import secrets
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from glue_magics.local.connect_proxy import mint_token, private_dir

if TYPE_CHECKING:
    from glue_magics.local.settings import EndpointSettings

__all__ = ["Certificates", "mint_token", "new_key", "session_address", "session_config"]

#: The program each Spark Connect session runs (see :mod:`glue_magics.local.connect_proxy`).
PROGRAM = "glue_magics.local.connect_proxy"
#: Certificates are issued for this long: longer than any session lives (Timeout is at most
#: 7 days for a Spark session, CreateSession's API page).
_VALIDITY = datetime.timedelta(days=30)
#: Every flag of X.509's KeyUsage extension (cryptography's ``x509.KeyUsage`` takes all).
_KEY_USAGES = (
    "digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
    "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only",
)  # fmt: skip
_EXTRA = (
    "Spark Connect sessions need the spark-connect extra: pip install 'glue-magics[spark-connect]'"
)


def new_key() -> bytes:
    """A session's token key (HMAC-SHA256)."""
    return secrets.token_bytes(32)


def session_address() -> str:
    """An address of its own in 127.0.0.0/8 for a session's port 443.  Linux answers the
    whole block on ``lo``; 127.0.x.x is left alone (127.0.0.1, Debian's 127.0.1.1)."""
    second = secrets.randbelow(239) + 16  # 16-254
    third, fourth = (secrets.randbelow(254) + 1 for _ in range(2))
    return f"127.{second}.{third}.{fourth}"


class Certificates:
    """This endpoint's certificate authority, made at first use, and the certificates it
    issues to its sessions' proxies.  Its files live in a private temporary directory
    removed by :meth:`close`; the authority's key never leaves memory."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._dir: Path | None = None
        self._ca: Any = None
        self._ca_key: Any = None

    def _crypto(self) -> Any:
        try:
            import cryptography  # noqa: F401
        except ImportError:
            raise RuntimeError(f"{_EXTRA} (cryptography is missing)") from None

    @property
    def ca_file(self) -> Path:
        """The authority's certificate (PEM), for clients to trust; made if need be."""
        with self._lock:
            if self._dir is None:
                self._make_authority()
            assert self._dir is not None
            return self._dir / "ca.pem"

    def _make_authority(self) -> None:
        self._crypto()
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "glue-magics local endpoint CA")])
        signs = {"digital_signature", "key_cert_sign", "crl_sign"}  # a CA signs, nothing more
        usage = x509.KeyUsage(**{flag: flag in signs for flag in _KEY_USAGES})
        ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .sign(key, hashes.SHA256())
        )
        directory = private_dir("glue-magics-ca-")
        (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
        self._dir, self._ca, self._ca_key = directory, ca, key

    def issue(self, *addresses: str) -> tuple[str, str]:
        """(private key, certificate) in PEM for a server at these IP addresses."""
        self.ca_file  # noqa: B018 - makes the authority if need be
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        now = datetime.datetime.now(datetime.timezone.utc)
        key = ec.generate_private_key(ec.SECP256R1())
        names = [x509.IPAddress(ipaddress.ip_address(a)) for a in dict.fromkeys(addresses)]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, addresses[0])]))
            .issuer_name(self._ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + _VALIDITY)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(self._ca_key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return key_pem.decode(), cert.public_bytes(serialization.Encoding.PEM).decode()

    def close(self) -> None:
        with self._lock:
            directory, self._dir = self._dir, None
        if directory is not None:
            shutil.rmtree(directory, ignore_errors=True)


def session_config(
    session_id: str, key: bytes, certificates: Certificates, settings: EndpointSettings
) -> dict[str, Any]:
    """The first line the session's program reads: its token key, certificate, where to
    listen and how long Spark may take to start.  RuntimeError (one line) when the
    certificates cannot be made."""
    address = session_address() if settings.connect_port else "127.0.0.1"
    cert_key, cert = certificates.issue(address, "127.0.0.1")
    return {
        "session_id": session_id,
        "key": key.hex(),
        "host": address,
        "port": settings.connect_port,
        "cert": cert,
        "cert_key": cert_key,
        "start_seconds": settings.connect_start_seconds,
    }
