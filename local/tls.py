"""A throwaway certificate authority for the local stack's TLS endpoints (S3's bucket policy refuses plain HTTP).

Made at start-up, trusted only by the processes the stack points at it (AWS_CA_BUNDLE, and the `ca_bundle`
path the demo and tests hand to their HTTP client); it is valid for 127.0.0.1 and localhost for a day.
`make serve` also leaves a copy where the `dialhub` command line looks for it (`published_certificate`, by
the API's port), so its downloads from this stack need no --ca-bundle.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass(frozen=True)
class LocalCertificate:
    certificate: Path  # PEM, also the CA bundle a client trusts
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.certificate, self.key)
        return context


def make_certificate(directory: Path | None = None) -> LocalCertificate:
    folder = Path(directory or tempfile.mkdtemp(prefix="dialhub-local-tls-"))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dialhub local stack")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    paths = LocalCertificate(folder / "local-ca.pem", folder / "local-key.pem")
    paths.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths.key.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


def published_certificate(api_port: int) -> Path:
    """Where `make serve` leaves its certificate for the command line (cli/dialhub_cli/tls.py reads the same)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "dialhub" / f"local-stack-{api_port}-ca.pem"


@contextlib.contextmanager
def certificate_published(certificate: Path, api_port: int) -> Iterator[Path]:
    """The certificate copied to `published_certificate` while the stack runs, removed when it stops."""
    target = published_certificate(api_port)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(certificate, target)
    try:
        yield target
    finally:
        with contextlib.suppress(OSError):
            target.unlink()
