"""``pulumi-resource-tls`` stand-in: ``PrivateKey`` and ``SelfSignedCert``, the two types the
program uses, with terraform-provider-tls's inputs, defaults, encodings and certificate
contents (pulumi-tls 5.6.2 bridges it; the names are those of the ``pulumi_tls`` SDK).

Keys and certificates are made with ``cryptography``, following what the real provider asks of
Go's crypto/x509: a 128-bit random serial (also the certificate's ID), critical basic
constraints, a SHA-1 subject key ID on CA certificates, validity from now for
``validityPeriodHours``. A certificate within ``earlyRenewalHours`` of its end is replaced.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import secrets
from typing import Any
from urllib.parse import urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from . import _rpc, provider
from .provider import REQUIRED, Failures, ProviderError, ResourceProvider, ResourceType

VERSION = "5.6.2"
"""pulumi-tls's version, as pinned by the pulumi_tls SDK's pulumi-plugin.json."""

CURVES: dict[str, type[ec.EllipticCurve]] = {
    "P224": ec.SECP224R1,
    "P256": ec.SECP256R1,
    "P384": ec.SECP384R1,
    "P521": ec.SECP521R1,
}
ALGORITHMS = ("RSA", "ECDSA", "ED25519")

KEY_USAGES: dict[str, str] = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
    "encipher_only": "encipher_only",
    "decipher_only": "decipher_only",
}
"""``allowedUses`` values that are key usages, and cryptography's KeyUsage field for each."""

EXTENDED_KEY_USAGES: dict[str, ObjectIdentifier] = {
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "ipsec_end_system": ObjectIdentifier("1.3.6.1.5.5.7.3.5"),
    "ipsec_tunnel": ObjectIdentifier("1.3.6.1.5.5.7.3.6"),
    "ipsec_user": ObjectIdentifier("1.3.6.1.5.5.7.3.7"),
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "microsoft_server_gated_crypto": ObjectIdentifier("1.3.6.1.4.1.311.10.3.3"),
    "netscape_server_gated_crypto": ObjectIdentifier("2.16.840.1.113730.4.1"),
    "microsoft_commercial_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.2.1.22"),
    "microsoft_kernel_code_signing": ObjectIdentifier("1.3.6.1.4.1.311.61.1.1"),
}
"""``allowedUses`` values that are extended key usages, with Go's OIDs for them."""

SUBJECT_FIELDS: tuple[tuple[str, ObjectIdentifier], ...] = (
    ("country", NameOID.COUNTRY_NAME),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("organizationalUnit", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("province", NameOID.STATE_OR_PROVINCE_NAME),
    ("streetAddresses", NameOID.STREET_ADDRESS),
    ("postalCode", NameOID.POSTAL_CODE),
    ("serialNumber", NameOID.SERIAL_NUMBER),
    ("commonName", NameOID.COMMON_NAME),
    ("emailAddress", NameOID.EMAIL_ADDRESS),
)
"""Subject fields in the order Go's pkix.Name writes them (the e-mail, an extra name, last)."""

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def _pem(data: bytes) -> str:
    return data.decode()


def check_private_key(inputs: dict[str, Any]) -> Failures:
    """The algorithm, curve and RSA size the real provider accepts."""
    failures: Failures = []
    algorithm = inputs.get("algorithm")
    if isinstance(algorithm, str) and algorithm != _rpc.UNKNOWN and algorithm not in ALGORITHMS:
        failures.append(
            (
                "algorithm",
                f"Attribute algorithm value must be one of: {list(ALGORITHMS)}, got: {algorithm!r}",
            )
        )
    curve = inputs.get("ecdsaCurve")
    if isinstance(curve, str) and curve != _rpc.UNKNOWN and curve not in CURVES:
        failures.append(
            (
                "ecdsaCurve",
                f"Attribute ecdsa_curve value must be one of: {list(CURVES)}, got: {curve!r}",
            )
        )
    bits = inputs.get("rsaBits")
    if isinstance(bits, int) and bits < 1024:
        failures.append(("rsaBits", f"RSA keys of {bits} bits are too small (at least 1024)"))
    return failures


def _ssh_public(public: Any) -> tuple[str, str, str]:
    """Authorized-keys line (Go's MarshalAuthorizedKey: no comment, newline) and its MD5 and
    SHA256 fingerprints as ssh-keygen prints them."""
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    md5 = hashlib.md5(blob).hexdigest()  # the legacy fingerprint format is MD5
    sha256 = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    return (
        line.decode() + "\n",
        ":".join(md5[i : i + 2] for i in range(0, len(md5), 2)),
        f"SHA256:{sha256}",
    )


def key_outputs(key: PrivateKey) -> tuple[str, dict[str, Any]]:
    """A key's ID and encodings: PKCS#1, SEC 1 or PKCS#8 PEM by algorithm (as the real provider
    writes them), PKCS#8, OpenSSH and the public forms; no OpenSSH forms for P-224, which SSH
    does not support (the real provider leaves them empty)."""
    traditional = (
        serialization.PrivateFormat.PKCS8
        if isinstance(key, ed25519.Ed25519PrivateKey)
        else serialization.PrivateFormat.TraditionalOpenSSL
    )
    none = serialization.NoEncryption()
    public = key.public_key()
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    ssh_ok = not (isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp224r1")
    pem, formats = serialization.Encoding.PEM, serialization.PrivateFormat
    openssh = _pem(key.private_bytes(pem, formats.OpenSSH, none)) if ssh_ok else ""
    public_ssh, md5, sha256 = _ssh_public(public) if ssh_ok else ("", "", "")
    # The real provider's ID: the hex SHA-1 of the public key's DER, trimmed like a string.
    key_id = hashlib.sha1(der.strip(b" \t\n\r\v\f")).hexdigest()
    return key_id, {
        "privateKeyPem": _pem(key.private_bytes(serialization.Encoding.PEM, traditional, none)),
        "privateKeyPemPkcs8": _pem(
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, none)
        ),
        "privateKeyOpenssh": openssh,
        "publicKeyPem": _pem(
            public.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        ),
        "publicKeyOpenssh": public_ssh,
        "publicKeyFingerprintMd5": md5,
        "publicKeyFingerprintSha256": sha256,
    }


def create_private_key(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A new key of the asked algorithm."""
    algorithm = inputs["algorithm"]
    key: PrivateKey
    if algorithm == "RSA":
        key = rsa.generate_private_key(public_exponent=65537, key_size=int(inputs["rsaBits"]))
    elif algorithm == "ECDSA":
        key = ec.generate_private_key(CURVES[inputs["ecdsaCurve"]]())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    return key_outputs(key)


def _key_algorithm(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return "ECDSA"
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ED25519"
    raise ProviderError(f"unsupported private key type {type(key).__name__}")


def subject_key_id(public: Any) -> bytes:
    """The real provider's subject key ID: SHA-1 of the PKCS#1 RSA key, of the uncompressed EC
    point, or of the Ed25519 key as a DER OCTET STRING (not RFC 5280's method 1)."""
    if isinstance(public, rsa.RSAPublicKey):
        data = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        data = public.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    else:
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        data = bytes([0x04, len(raw)]) + raw
    return hashlib.sha1(data).digest()  # the identifier is defined as SHA-1


def _subject(subject: dict[str, Any] | None) -> x509.Name:
    attributes: list[x509.NameAttribute[str]] = []
    for key, oid in SUBJECT_FIELDS:
        value = (subject or {}).get(key)
        if value in (None, "", []):
            continue
        for item in value if isinstance(value, list) else [value]:
            attributes.append(x509.NameAttribute(oid, str(item)))
    return x509.Name(attributes)


def rfc3339(moment: datetime.datetime) -> str:
    """Go's time.MarshalText (RFC 3339, fraction without trailing zeros), in UTC."""
    text = moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f").rstrip("0").rstrip(".")
    return text + "Z"


def check_cert(inputs: dict[str, Any]) -> Failures:
    """The real provider's validators for what a certificate is made of."""
    failures: Failures = []
    if inputs.get("privateKeyPem") is None and inputs.get("privateKeyPemWo") is None:
        failures.append(("privateKeyPem", "Missing required property 'privateKeyPem'"))
    for key in ("validityPeriodHours", "earlyRenewalHours"):
        value = inputs.get(key)
        if isinstance(value, int) and value < 0:
            failures.append((key, f"Attribute {key} value must be at least 0, got: {value}"))
    supported = sorted((*KEY_USAGES, *EXTENDED_KEY_USAGES))
    for use in inputs.get("allowedUses") or []:
        if use != _rpc.UNKNOWN and use not in supported:
            failures.append(
                ("allowedUses", f"{use!r} is not one of the accepted values: {supported}")
            )
    for address in inputs.get("ipAddresses") or []:
        if address == _rpc.UNKNOWN:
            continue
        try:
            ipaddress.ip_address(address)
        except ValueError:
            failures.append(("ipAddresses", f"Invalid IP address: failed to parse {address!r}"))
    return failures


def create_cert(inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """A certificate signed by its own key, made as the real provider has Go make it."""
    pem = inputs.get("privateKeyPemWo") or inputs.get("privateKeyPem") or ""
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ProviderError(f"Failed to parse private key PEM: {error}") from error
    algorithm = _key_algorithm(key)
    public = key.public_key()
    subject = _subject(inputs.get("subject"))
    is_ca = bool(inputs.get("isCaCertificate"))
    if is_ca and not list(subject):
        raise ProviderError(
            "Invalid Certificate Subject: Must contain at least one Distinguished Name when "
            "creating Certificate Authority (CA)"
        )
    not_before = datetime.datetime.now(datetime.UTC)
    not_after = not_before + datetime.timedelta(hours=int(inputs["validityPeriodHours"]))
    serial = 0
    while serial == 0:
        serial = secrets.randbits(128)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)  # type: ignore[arg-type]
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    uses = set(inputs.get("allowedUses") or [])
    if uses & set(KEY_USAGES):
        try:
            usage = x509.KeyUsage(**{field: name in uses for name, field in KEY_USAGES.items()})
        except ValueError as error:
            raise ProviderError(f"Invalid allowedUses: {error}") from error
        builder = builder.add_extension(usage, critical=True)
    extended = [oid for name, oid in EXTENDED_KEY_USAGES.items() if name in uses]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    max_path = inputs.get("maxPathLength")
    path_length = int(max_path) if is_ca and isinstance(max_path, int) and max_path > 0 else None
    builder = builder.add_extension(
        x509.BasicConstraints(ca=is_ca, path_length=path_length), critical=True
    )
    ski = subject_key_id(public) if is_ca or inputs.get("setSubjectKeyId") else None
    if ski is not None:
        builder = builder.add_extension(x509.SubjectKeyIdentifier(ski), critical=False)
    if inputs.get("setAuthorityKeyId"):
        if ski is None:
            raise ProviderError(
                "Invalid Certificate Authority: Could not determine Authority Key Identifier"
            )
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier(ski, None, None), critical=False
        )
    names: list[x509.GeneralName] = [x509.DNSName(n) for n in inputs.get("dnsNames") or []]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in inputs.get("ipAddresses") or []]
    for uri in inputs.get("uris") or []:
        if not urlparse(uri).scheme:
            raise ProviderError(f"Invalid URI: failed to parse {uri!r}")
        names.append(x509.UniformResourceIdentifier(uri))
    if names:
        # Go marks the alternative names critical when the subject is empty (RFC 5280 4.2.1.6).
        builder = builder.add_extension(
            x509.SubjectAlternativeName(names), critical=not list(subject)
        )
    digest: hashes.HashAlgorithm | None = hashes.SHA256()
    if isinstance(key, ed25519.Ed25519PrivateKey):
        digest = None
    elif isinstance(key, ec.EllipticCurvePrivateKey):
        digest = {"secp384r1": hashes.SHA384(), "secp521r1": hashes.SHA512()}.get(
            key.curve.name, hashes.SHA256()
        )
    cert = builder.sign(key, digest)  # type: ignore[arg-type]
    return str(serial), {
        "certPem": _pem(cert.public_bytes(serialization.Encoding.PEM)),
        "keyAlgorithm": algorithm,
        "validityStartTime": rfc3339(not_before),
        "validityEndTime": rfc3339(not_after),
        "readyForRenewal": False,
    }


def due_for_renewal(state: dict[str, Any]) -> str | None:
    """``readyForRenewal`` once now is within ``earlyRenewalHours`` of the certificate's end,
    which the real provider turns into a replacement at the next plan."""
    end = state.get("validityEndTime")
    if not isinstance(end, str) or end == _rpc.UNKNOWN:
        return None
    early = datetime.timedelta(hours=int(state.get("earlyRenewalHours") or 0))
    renewal = datetime.datetime.fromisoformat(end) - early
    return "readyForRenewal" if renewal <= datetime.datetime.now(datetime.UTC) else None


PRIVATE_KEY = ResourceType(
    token="tls:index/privateKey:PrivateKey",
    inputs={"algorithm": REQUIRED, "rsaBits": 2048, "ecdsaCurve": "P224"},
    outputs=(
        "privateKeyPem",
        "privateKeyPemPkcs8",
        "privateKeyOpenssh",
        "publicKeyPem",
        "publicKeyOpenssh",
        "publicKeyFingerprintMd5",
        "publicKeyFingerprintSha256",
    ),
    create=create_private_key,
    check=check_private_key,
    secret_outputs=frozenset({"privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"}),
)

SELF_SIGNED_CERT = ResourceType(
    token="tls:index/selfSignedCert:SelfSignedCert",
    inputs={
        "privateKeyPem": None,
        "privateKeyPemWo": None,
        "privateKeyPemWoVersion": None,
        "subject": None,
        "validityPeriodHours": REQUIRED,
        "earlyRenewalHours": 0,
        "allowedUses": REQUIRED,
        "dnsNames": None,
        "ipAddresses": None,
        "uris": None,
        "isCaCertificate": False,
        "maxPathLength": None,
        "setSubjectKeyId": False,
        "setAuthorityKeyId": False,
    },
    outputs=("certPem", "keyAlgorithm", "validityStartTime", "validityEndTime", "readyForRenewal"),
    create=create_cert,
    check=check_cert,
    secret_outputs=frozenset({"privateKeyPem", "privateKeyPemWo"}),
    # The only input the real provider does not mark RequiresReplace.
    update_in_place=frozenset({"earlyRenewalHours"}),
    must_replace=due_for_renewal,
)


def make_provider() -> ResourceProvider:
    """The provider with both types."""
    return ResourceProvider(
        package="tls",
        version=VERSION,
        types={t.token: t for t in (PRIVATE_KEY, SELF_SIGNED_CERT)},
    )


def main(argv: list[str]) -> None:
    """Plugin entry point (``pulumi-resource-tls``)."""
    provider.main(argv, make_provider())
