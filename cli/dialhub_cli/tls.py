"""Which certificates to trust: for the API, and for the upload and download links it hands out.

Deployed, both are AWS's, trusted as any public site is. `make serve`'s S3 speaks TLS with a certificate made
at its start (the export bucket refuses plain HTTP, locally too); `make serve` leaves a copy where this module
looks for it (`local_stack_certificate`, by the API's port), so `dialhub --url http://127.0.0.1:3000` downloads
without being told where it is. That certificate is trusted only for links to this machine, and only when the
API itself is on this machine.
"""

from __future__ import annotations

import ipaddress
import os
import ssl
from pathlib import Path

import httpx

from dialhub_cli.client import CliError

# Where `make serve` publishes its certificate (local/tls.py writes the same path; a test holds them equal).
CERTIFICATE_FOLDER = "dialhub"


def local_stack_certificate(api_port: int) -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / CERTIFICATE_FOLDER / f"local-stack-{api_port}-ca.pem"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def chosen_bundle(ca_bundle: Path | None) -> Path | None:
    """--ca-bundle, else AWS_CA_BUNDLE, else SSL_CERT_FILE: replaces the default trust, as boto3 and curl do."""
    if ca_bundle is not None:
        return ca_bundle
    for name in ("AWS_CA_BUNDLE", "SSL_CERT_FILE"):
        if value := os.environ.get(name):
            return Path(value)
    return None


def _context(bundle: Path) -> ssl.SSLContext:
    if not bundle.is_file():
        raise CliError(f"the CA bundle {bundle} is not a file (--ca-bundle, AWS_CA_BUNDLE or SSL_CERT_FILE)")
    return ssl.create_default_context(cafile=str(bundle))


def verify_for(url: str, api_url: str, ca_bundle: Path | None) -> ssl.SSLContext | bool:
    """httpx's `verify` for a request to `url`: --ca-bundle if given; for a link to this machine from an API on
    this machine, the certificate `make serve` published (a machine-wide SSL_CERT_FILE does not name it); else
    AWS_CA_BUNDLE or SSL_CERT_FILE; else the system's."""
    if ca_bundle is not None:
        return _context(ca_bundle)
    target, api = httpx.URL(url), httpx.URL(api_url)
    if target.scheme == "https" and is_loopback(target.host) and is_loopback(api.host):
        published = local_stack_certificate(api.port or 80)
        if published.is_file():
            return ssl.create_default_context(cafile=str(published))
    bundle = chosen_bundle(None)
    return _context(bundle) if bundle is not None else True
