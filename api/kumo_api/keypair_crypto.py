"""Key material for os-keypairs: generating key pairs and fingerprinting public keys,
as Nova's nova/crypto.py does (pyca/cryptography underneath)."""
from __future__ import annotations

import base64
import datetime
import hashlib

from kumo_common import exceptions

# pyca/cryptography is imported by each function that uses it, not here: it costs
# kumo-api some 10 MB, and only key pair creation and import (rare) need it.

# What Nova appends to the public keys it generates (clients and docs show it).
COMMENT = 'Generated-by-Nova'


def _colon_hex(digest: bytes) -> str:
    return ':'.join(f'{b:02x}' for b in digest)


def ssh_fingerprint(public_key: str) -> str:
    """MD5 of the key blob as aa:bb:..., after checking it is a real OpenSSH key."""
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import serialization
    try:
        serialization.load_ssh_public_key(public_key.strip().encode())
        blob = base64.b64decode(public_key.split()[1])
    except (ValueError, IndexError, TypeError, UnsupportedAlgorithm) as exc:
        raise exceptions.InvalidKeypair(reason='failed to generate fingerprint') from exc
    return _colon_hex(hashlib.md5(blob, usedforsecurity=False).digest())


def x509_fingerprint(pem: str) -> str:
    """SHA-1 of the certificate (DER) as aa:bb:..."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    try:
        cert = x509.load_pem_x509_certificate(pem.encode())
    except (ValueError, TypeError) as exc:
        raise exceptions.InvalidKeypair(
            reason=f'failed to generate X509 fingerprint. Error message: {exc}') from exc
    return _colon_hex(cert.fingerprint(hashes.SHA1()))


def fingerprint(public_key: str, key_type: str) -> str:
    return x509_fingerprint(public_key) if key_type == 'x509' else ssh_fingerprint(public_key)


def _rsa_key(bits: int = 2048):
    from cryptography.hazmat.primitives.asymmetric import rsa
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _private_pem(key) -> str:
    from cryptography.hazmat.primitives import serialization
    # "-----BEGIN RSA PRIVATE KEY-----", the traditional format clients expect.
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def generate_ssh(bits: int = 2048) -> tuple[str, str, str]:
    """(private key PEM, "ssh-rsa ... Generated-by-Nova\\n", fingerprint)."""
    from cryptography.hazmat.primitives import serialization
    key = _rsa_key(bits)
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                           serialization.PublicFormat.OpenSSH).decode()
    public = f'{public} {COMMENT}\n'
    return _private_pem(key), public, ssh_fingerprint(public)


def generate_x509(user_id: str, bits: int = 2048) -> tuple[str, str, str]:
    """(private key PEM, self-signed certificate PEM, fingerprint), as Nova's WinRM
    certificates: subject CN=<user_id>, valid ten years."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.x509.oid import NameOID
    key = _rsa_key(bits)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user_id or 'kumo')])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    return _private_pem(key), pem, x509_fingerprint(pem)
