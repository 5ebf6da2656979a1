"""The rig's stand-in plugins (tests/rig/plugins/): the random and tls providers and the Python
language host, each started as the Pulumi CLI starts it (the executable on PATH, the port on
its first stdout line) and driven over gRPC.

The providers are checked against what the real ones guarantee: a password of the asked length
and alphabet that never changes on update and is replaced when an input changes; a key that
parses and matches its public key; a CA certificate with the asked subject and validity that
verifies with its key. The last test runs the real Pulumi CLI (built by ``make rig-build``) on
a small project through all three plugins, and is skipped, with the reason, without it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import json
import os
import shutil
import string
import subprocess
import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import bcrypt
import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import (
    language_pb2,
    language_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
)

from tests.rig.build import PULUMI_VERSION
from tests.rig.plugins import _rpc, language_host, python_env

ROOT = Path(__file__).resolve().parent.parent
PLUGINS = ROOT / "tests" / "rig" / "plugins"
RIG_BIN = ROOT / ".rig" / "bin"
PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"
CERT = "tls:index/selfSignedCert:SelfSignedCert"
DIFF = provider_pb2.DiffResponse


@contextmanager
def plugin(name: str, *args: str, env: dict[str, str] | None = None) -> Iterator[grpc.Channel]:
    """Starts ``tests/rig/plugins/<name>`` as the CLI does and yields a channel to it."""
    process = subprocess.Popen(
        [str(PLUGINS / name), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip().isdigit(), f"{name} wrote {line!r}, not a port"
    channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
    try:
        yield channel
    finally:
        channel.close()
        process.terminate()
        assert process.wait(timeout=15) == 0


@pytest.fixture(scope="module")
def random_stub() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with plugin("pulumi-resource-random") as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


@pytest.fixture(scope="module")
def tls_stub() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    with plugin("pulumi-resource-tls") as channel:
        yield provider_pb2_grpc.ResourceProviderStub(channel)


def urn(token: str, name: str = "r") -> str:
    return f"urn:pulumi:dev::p::{token}::{name}"


def check(
    stub: provider_pb2_grpc.ResourceProviderStub, token: str, news: dict[str, Any]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    response = stub.Check(
        provider_pb2.CheckRequest(urn=urn(token), type=token, news=_rpc.to_struct(news))
    )
    failures = [(f.property, f.reason) for f in response.failures]
    return _rpc.from_struct(response.inputs), failures


def create(
    stub: provider_pb2_grpc.ResourceProviderStub,
    token: str,
    news: dict[str, Any],
    preview: bool = False,
) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Check then Create, as the engine does: (id, raw outputs, outputs without envelopes)."""
    inputs, failures = check(stub, token, news)
    assert failures == []
    response = stub.Create(
        provider_pb2.CreateRequest(
            urn=urn(token), type=token, properties=_rpc.to_struct(inputs), preview=preview
        )
    )
    raw = _rpc.from_struct(response.properties)
    return response.id, raw, _rpc.reveal_all(raw)[0]


def diff(
    stub: provider_pb2_grpc.ResourceProviderStub,
    token: str,
    state: dict[str, Any],
    news: dict[str, Any],
) -> provider_pb2.DiffResponse:
    """Diff of the checked ``news`` against ``state`` (no old inputs: the provider then
    compares with the state, which holds the checked inputs too)."""
    checked, failures = check(stub, token, news)
    assert failures == []
    return stub.Diff(
        provider_pb2.DiffRequest(
            id="x",
            urn=urn(token),
            type=token,
            olds=_rpc.to_struct(state),
            news=_rpc.to_struct(checked),
        )
    )


def test_versions_are_the_sdks_pins(
    random_stub: provider_pb2_grpc.ResourceProviderStub,
    tls_stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    """Each provider reports the version its SDK's pulumi-plugin.json asks for (the engine
    warns when a plugin's version differs from the program's)."""
    import pulumi_random
    import pulumi_tls

    for stub, sdk in ((random_stub, pulumi_random), (tls_stub, pulumi_tls)):
        pinned = json.loads((Path(sdk.__file__).parent / "pulumi-plugin.json").read_text())
        assert stub.GetPluginInfo(empty_pb2.Empty()).version == pinned["version"]
    assert language_host.VERSION == PULUMI_VERSION


def test_password_defaults_and_failures(
    random_stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    inputs, failures = check(random_stub, PASSWORD, {"length": 16})
    assert failures == []
    assert inputs == {
        "length": 16,
        "lower": True,
        "upper": True,
        "special": True,
        "number": True,
        "numeric": True,
        "minLower": 0,
        "minUpper": 0,
        "minNumeric": 0,
        "minSpecial": 0,
    }
    assert check(random_stub, PASSWORD, {"length": 8, "number": False})[0]["numeric"] is False
    for news, key in (
        ({}, "length"),
        ({"length": 0}, "length"),
        ({"length": 4, "minUpper": 3, "minLower": 3}, "length"),
        ({"length": 8, "lower": False, "upper": False, "numeric": False, "special": False}, None),
    ):
        failures = check(random_stub, PASSWORD, news)[1]
        assert failures, news
        assert key is None or failures[0][0] == key


def test_password_length_alphabet_and_secrets(
    random_stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    """The MLDE admin password's inputs (infra/platform/mldm.py)."""
    news = {"length": 24, "special": False, "minUpper": 2, "minLower": 2, "minNumeric": 2}
    for _ in range(20):
        resource_id, raw, out = create(random_stub, PASSWORD, news)
        password = out["result"]
        assert resource_id == "none"
        assert len(password) == 24
        assert set(password) <= set(string.ascii_letters + string.digits)
        assert sum(c.isupper() for c in password) >= 2
        assert sum(c.islower() for c in password) >= 2
        assert sum(c.isdigit() for c in password) >= 2
    assert _rpc.is_secret(raw["result"]) and _rpc.is_secret(raw["bcryptHash"])
    assert bcrypt.checkpw(password.encode(), out["bcryptHash"].encode())
    assert out["bcryptHash"].startswith("$2a$10$")


def test_password_classes(random_stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    """No lowercase for MinIO access keys (``lower=False``); override_special's characters."""
    out = create(random_stub, PASSWORD, {"length": 40, "special": False, "lower": False})[2]
    assert set(out["result"]) <= set(string.ascii_uppercase + string.digits)
    out = create(
        random_stub,
        PASSWORD,
        {"length": 60, "overrideSpecial": "_%", "minSpecial": 10, "upper": False, "lower": False},
    )[2]
    assert set(out["result"]) <= set(string.digits + "_%")
    assert sum(c in "_%" for c in out["result"]) >= 10


def test_password_is_stable_and_replaced_on_change(
    random_stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    news = {"length": 32, "special": False}
    _id, raw, state = create(random_stub, PASSWORD, news)
    assert diff(random_stub, PASSWORD, state, news).changes == DIFF.DIFF_NONE
    updated = random_stub.Update(
        provider_pb2.UpdateRequest(
            id="none",
            urn=urn(PASSWORD),
            type=PASSWORD,
            olds=_rpc.to_struct(raw),
            news=_rpc.to_struct(check(random_stub, PASSWORD, news)[0]),
        )
    )
    after = _rpc.from_struct(updated.properties)
    assert _rpc.reveal(after["result"])[0] == state["result"]
    assert _rpc.is_secret(after["result"])
    changed = diff(random_stub, PASSWORD, state, {**news, "length": 33})
    assert changed.changes == DIFF.DIFF_SOME
    assert list(changed.replaces) == ["length"]
    assert changed.detailedDiff["length"].kind == provider_pb2.PropertyDiff.UPDATE_REPLACE
    unknown = diff(random_stub, PASSWORD, state, {**news, "keepers": {"k": _rpc.UNKNOWN}})
    assert list(unknown.replaces) == ["keepers"]


def test_password_preview_is_unknown(random_stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    resource_id, _raw, out = create(random_stub, PASSWORD, {"length": 12}, preview=True)
    assert resource_id == ""
    assert out["result"] == _rpc.UNKNOWN and out["length"] == 12


def test_random_id_encodings(random_stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    """The Cloud SQL name suffix's inputs (infra/targets/gcp/database.py), and a prefix."""
    resource_id, _raw, out = create(random_stub, RANDOM_ID, {"byteLength": 3})
    data = bytes.fromhex(out["hex"])
    assert len(data) == 3 and len(out["hex"]) == 6
    assert out["b64Url"] == resource_id == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert out["b64Std"] == base64.b64encode(data).decode()
    assert out["dec"] == str(int.from_bytes(data, "big"))
    prefixed = create(random_stub, RANDOM_ID, {"byteLength": 8, "prefix": "pdk-"})
    assert prefixed[2]["hex"].startswith("pdk-") and not prefixed[0].startswith("pdk-")
    assert check(random_stub, RANDOM_ID, {"byteLength": 0})[1][0][0] == "byteLength"


@pytest.mark.parametrize(
    ("news", "kind", "header"),
    [
        ({"algorithm": "ECDSA", "ecdsaCurve": "P256"}, ec.EllipticCurvePrivateKey, "EC PRIVATE"),
        ({"algorithm": "RSA"}, rsa.RSAPrivateKey, "RSA PRIVATE"),
        ({"algorithm": "ED25519"}, ed25519.Ed25519PrivateKey, "PRIVATE"),
    ],
)
def test_private_key(
    tls_stub: provider_pb2_grpc.ResourceProviderStub,
    news: dict[str, Any],
    kind: type,
    header: str,
) -> None:
    resource_id, raw, out = create(tls_stub, PRIVATE_KEY, news)
    assert out["privateKeyPem"].startswith(f"-----BEGIN {header} KEY-----")
    key = serialization.load_pem_private_key(out["privateKeyPem"].encode(), password=None)
    assert isinstance(key, kind)
    if isinstance(key, rsa.RSAPrivateKey):
        assert key.key_size == 2048
    pkcs8 = serialization.load_pem_private_key(out["privateKeyPemPkcs8"].encode(), password=None)
    openssh = serialization.load_ssh_private_key(out["privateKeyOpenssh"].encode(), password=None)
    public = serialization.load_pem_public_key(out["publicKeyPem"].encode())
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for other in (key, pkcs8, openssh):
        assert (
            other.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            == der
        )
    # Upstream's id is hashForState(string(der)): SHA-1 of the DER after strings.TrimSpace,
    # so a key whose DER happens to end in a whitespace byte loses it (this test was flaky).
    assert resource_id == hashlib.sha1(der.strip(b" \t\n\r\v\f")).hexdigest()
    assert out["publicKeyOpenssh"].endswith("\n")
    blob = base64.b64decode(out["publicKeyOpenssh"].split()[1])
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")
    assert out["publicKeyFingerprintSha256"] == f"SHA256:{digest}"
    assert out["publicKeyFingerprintMd5"].replace(":", "") == hashlib.md5(blob).hexdigest()
    for secret in ("privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"):
        assert _rpc.is_secret(raw[secret])
    assert not _rpc.is_secret(raw["publicKeyPem"])


def test_private_key_p224_has_no_ssh_forms(
    tls_stub: provider_pb2_grpc.ResourceProviderStub,
) -> None:
    """The real provider's default curve, which SSH cannot encode: the SSH fields are empty."""
    out = create(tls_stub, PRIVATE_KEY, {"algorithm": "ECDSA"})[2]
    assert out["ecdsaCurve"] == "P224"
    assert out["privateKeyOpenssh"] == out["publicKeyOpenssh"] == ""
    assert check(tls_stub, PRIVATE_KEY, {"algorithm": "DSA"})[1][0][0] == "algorithm"


def _ca(tls_stub: provider_pb2_grpc.ResourceProviderStub) -> tuple[dict[str, Any], Any]:
    """The edge CA of infra/platform/tls.py: its key's raw outputs and the certificate's news."""
    _id, key_raw, _key = create(tls_stub, PRIVATE_KEY, {"algorithm": "ECDSA", "ecdsaCurve": "P256"})
    news = {
        "privateKeyPem": key_raw["privateKeyPem"],
        "isCaCertificate": True,
        "subject": {"commonName": "PDK dev CA", "organization": "PDK Deployer"},
        "validityPeriodHours": 87600,
        "allowedUses": ["cert_signing", "crl_signing", "digital_signature"],
    }
    return news, key_raw


def test_self_signed_ca(tls_stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    news, key_raw = _ca(tls_stub)
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    resource_id, raw, out = create(tls_stub, CERT, news)
    cert = x509.load_pem_x509_certificate(out["certPem"].encode())
    key = serialization.load_pem_private_key(
        _rpc.reveal(key_raw["privateKeyPem"])[0].encode(), password=None
    )
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    public = key.public_key()
    public.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    assert cert.public_key() == public
    assert cert.subject == cert.issuer
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "PDK dev CA"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "PDK Deployer"
    constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length is None
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_cert_sign and usage.crl_sign and usage.digital_signature
    assert not usage.key_encipherment
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    assert before <= start <= datetime.datetime.now(datetime.UTC)
    assert end - start == datetime.timedelta(hours=87600)
    assert resource_id == str(cert.serial_number)
    assert datetime.datetime.fromisoformat(out["validityEndTime"]).replace(microsecond=0) == end
    assert out["keyAlgorithm"] == "ECDSA" and out["readyForRenewal"] is False
    assert _rpc.is_secret(raw["privateKeyPem"]) and not _rpc.is_secret(raw["certPem"])


def test_self_signed_server_cert(tls_stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    """A leaf with alternative names and extended usages, signed by an RSA key."""
    key_raw = create(tls_stub, PRIVATE_KEY, {"algorithm": "RSA"})[1]
    out = create(
        tls_stub,
        CERT,
        {
            "privateKeyPem": key_raw["privateKeyPem"],
            "subject": {"commonName": "gw.example.com"},
            "validityPeriodHours": 24,
            "allowedUses": ["key_encipherment", "server_auth"],
            "dnsNames": ["gw.example.com"],
            "ipAddresses": ["10.0.0.1"],
            "setSubjectKeyId": True,
        },
    )[2]
    cert = x509.load_pem_x509_certificate(out["certPem"].encode())
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["gw.example.com"]
    assert str(names.get_values_for_type(x509.IPAddress)[0]) == "10.0.0.1"
    extended = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in extended
    cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert out["keyAlgorithm"] == "RSA"


def test_cert_diff_and_failures(tls_stub: provider_pb2_grpc.ResourceProviderStub) -> None:
    news, _key = _ca(tls_stub)
    state = create(tls_stub, CERT, news)[2]
    plain_news = _rpc.reveal_all(news)[0]
    assert diff(tls_stub, CERT, state, plain_news).changes == DIFF.DIFF_NONE
    longer = diff(tls_stub, CERT, state, {**plain_news, "validityPeriodHours": 10})
    assert list(longer.replaces) == ["validityPeriodHours"]
    early = diff(tls_stub, CERT, state, {**plain_news, "earlyRenewalHours": 24})
    assert early.changes == DIFF.DIFF_SOME and list(early.replaces) == []
    expired = {**state, "validityEndTime": "2020-01-01T00:00:00Z"}
    assert list(diff(tls_stub, CERT, expired, plain_news).replaces) == ["readyForRenewal"]
    failures = check(tls_stub, CERT, {**news, "allowedUses": ["cert_signing", "flying"]})[1]
    assert failures[0][0] == "allowedUses"
    assert check(tls_stub, CERT, {"validityPeriodHours": 1, "allowedUses": []})[1]


def test_plugin_versions_from_pep440() -> None:
    cases = {
        "4.21.4": "4.21.4",
        "1.0": "1.0.0",
        "3.31.0a1605189729": "3.31.0-alpha.1605189729",
        "2.0rc3": "2.0.0-rc.3",
        "1.2.3.post4": "1.2.3+post4",
        "1.2.3.post4.dev5": "1.2.3+post4dev5",
        "1.2.3.dev5": "1.2.3+dev5",
    }
    for version, plugin in cases.items():
        assert python_env.plugin_version(version) == plugin
    with pytest.raises(ValueError):
        python_env.plugin_version("1!2.0")


def test_runtime_options() -> None:
    options = python_env.parse_options(
        "/p", "/p", {"toolchain": "pip", "virtualenv": ".venv"}, False
    )
    assert python_env.Toolchain.resolve(options).venv == Path("/p/.venv")
    assert python_env.parse_options("/p", "/p", {}, True).virtualenv == "venv"
    assert python_env.parse_options("/p", "/p", {}, False).virtualenv == ""
    with pytest.raises(ValueError, match="unsupported toolchain"):
        python_env.parse_options("/p", "/p", {"toolchain": "conda"}, False)
    with pytest.raises(python_env.PythonEnvError, match="pip toolchain only"):
        python_env.Toolchain.resolve(
            python_env.parse_options("/p", "/p", {"toolchain": "uv"}, False)
        )
    missing = python_env.Toolchain.resolve(
        python_env.parse_options("/nowhere", "/nowhere", {"virtualenv": "venv"}, False)
    )
    with pytest.raises(python_env.PythonEnvError, match="python3 -m venv /nowhere/venv"):
        missing.validate()


def _program_info() -> language_pb2.ProgramInfo:
    options = struct_pb2.Struct()
    options.update({"toolchain": "pip", "virtualenv": ".venv"})
    return language_pb2.ProgramInfo(
        root_directory=str(ROOT), program_directory=str(ROOT), entry_point=".", options=options
    )


def test_language_host_reports_the_projects_packages() -> None:
    """GetRequiredPackages on this repository's .venv: each pulumi_* SDK's plugin, at the
    version its pulumi-plugin.json pins; nothing for pulumi-policy (no plugin)."""
    if not (ROOT / ".venv" / "bin" / "python").exists():
        pytest.skip("no .venv: run `make`")
    with plugin("pulumi-language-python", "--use-executor", "/dev/null") as channel:
        stub = language_pb2_grpc.LanguageRuntimeStub(channel)
        assert stub.GetPluginInfo(empty_pb2.Empty()).version == PULUMI_VERSION
        response = stub.GetRequiredPackages(
            language_pb2.GetRequiredPackagesRequest(info=_program_info())
        )
        packages = {p.name: p.version for p in response.packages}
        assert {"random": "v4.21.4", "tls": "v5.6.2"}.items() <= packages.items()
        assert "kubernetes" in packages and "policy" not in packages
        assert all(p.kind == "resource" for p in response.packages)
        installs = list(
            stub.InstallDependencies(language_pb2.InstallDependenciesRequest(info=_program_info()))
        )
        assert b"Nothing to do" in b"".join(i.stdout for i in installs)


class _Engine:
    """Just enough of an engine for a plugin's health check: a gRPC server that is up."""

    def __init__(self) -> None:
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()


def test_plugins_exit_when_the_engine_goes_away() -> None:
    """Upstream plugins stop once the engine stops answering; a stand-in left behind would
    hold the rig's processes."""
    engine = _Engine()
    env = {**os.environ, "PDK_RIG_PLUGIN_HEALTH_INTERVAL_S": "0.3"}
    processes = [
        subprocess.Popen(
            [str(PLUGINS / name), f"127.0.0.1:{engine.port}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        for name in ("pulumi-resource-random", "pulumi-language-python")
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline().strip().isdigit()
    time.sleep(1.0)
    assert all(p.poll() is None for p in processes)
    engine.server.stop(grace=0).wait()
    for process in processes:
        assert process.wait(timeout=20) == 0


def _cli_env(tmp: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")},
        "PATH": f"{PLUGINS}:{RIG_BIN}:{os.environ.get('PATH', '')}",
        "PULUMI_HOME": str(tmp / "home"),
        "PULUMI_BACKEND_URL": f"file://{tmp / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": "test",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
        "KUBECONFIG": str(tmp / "no-kubeconfig"),
    }


PROGRAM = """\
import os

import pulumi
import pulumi_random as random
import pulumi_tls as tls

password = random.RandomPassword(
    "pw", length=24, special=False, min_upper=2, min_lower=2, min_numeric=2
)
suffix = random.RandomId("suffix", byte_length=3)
key = tls.PrivateKey("key", algorithm="ECDSA", ecdsa_curve="P256")
cert = tls.SelfSignedCert(
    "cert",
    private_key_pem=key.private_key_pem,
    is_ca_certificate=True,
    subject=tls.SelfSignedCertSubjectArgs(common_name="PDK rig CA", organization="PDK Deployer"),
    validity_period_hours=87600,
    allowed_uses=["cert_signing", "crl_signing", "digital_signature"],
)
pulumi.export("password", password.result)
pulumi.export("suffix", suffix.hex)
pulumi.export("publicKey", key.public_key_pem)
pulumi.export("certPem", cert.cert_pem)
pulumi.export("greeting", pulumi.Config().get("greeting"))

if os.environ.get("RIG_UNLABELLED"):
    import pulumi_kubernetes as k8s

    k8s.core.v1.ConfigMap("unlabelled", metadata={"name": "unlabelled"}, data={"a": "b"})
"""


@pytest.mark.slow
def test_real_cli_through_the_stand_ins(tmp_path: Path) -> None:
    """stack init, up, a preview with no changes, refresh, stack output, preview with the
    policy pack (passing, then a mandatory violation), destroy: the real CLI, our three plugins.
    (tests/test_rig_lifecycle.py drives the same plugins through the whole platform.)"""
    pulumi = RIG_BIN / "pulumi"
    if not pulumi.exists():
        pytest.skip("the Pulumi CLI is not built: run `make rig-build`")
    try:
        language_host.find_executor()
    except FileNotFoundError as error:
        pytest.skip(str(error))
    project = tmp_path / "project"
    project.mkdir()
    (project / "Pulumi.yaml").write_text(
        "name: rigplugins\nruntime:\n  name: python\n  options:\n    toolchain: pip\n"
        f"    virtualenv: {ROOT / '.venv'}\n"
    )
    (project / "__main__.py").write_text(PROGRAM)
    # The pack's own virtualenv (PulumiPolicy.yaml: virtualenv venv); the repository's .venv
    # holds the same pins as policy/requirements.txt.
    pack = tmp_path / "policy"
    shutil.copytree(ROOT / "policy", pack, ignore=shutil.ignore_patterns("venv", "__pycache__"))
    (pack / "venv").symlink_to(ROOT / ".venv")
    (tmp_path / "state").mkdir()
    env = _cli_env(tmp_path)

    def cli(*args: str, ok: bool = True, extra: dict[str, str] | None = None) -> str:
        """The command's stdout and stderr; fails the test unless it succeeds (or, with
        ``ok=False``, unless it fails)."""
        done = subprocess.run(
            [str(pulumi), *args, "--non-interactive"],
            cwd=project,
            env={**env, **(extra or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        output = done.stdout + done.stderr
        assert (done.returncode == 0) == ok, output
        return done.stdout if "--json" in args else output

    cli("stack", "init", "dev")
    cli("config", "set", "greeting", "hello")
    assert "+ 5 created" in cli("up", "--yes")
    cli("preview", "--expect-no-changes")
    cli("refresh", "--yes", "--expect-no-changes")
    outputs = json.loads(cli("stack", "output", "--json", "--show-secrets"))
    assert len(outputs["password"]) == 24 and outputs["password"].isalnum()
    assert len(outputs["suffix"]) == 6 and outputs["greeting"] == "hello"
    cert = x509.load_pem_x509_certificate(outputs["certPem"].encode())
    assert cert.public_key() == serialization.load_pem_public_key(outputs["publicKey"].encode())
    assert "[secret]" in cli("stack", "output", "password")

    passing = cli("preview", "--policy-pack", str(pack))
    assert "✅ pdk-deployer" in passing, passing
    if (RIG_BIN / "pulumi-resource-kubernetes").exists():
        failing = cli(
            "preview", "--policy-pack", str(pack), ok=False, extra={"RIG_UNLABELLED": "1"}
        )
        assert "[mandatory]  labels-and-tags" in failing and "unlabelled" in failing, failing
    assert "5 deleted" in cli("destroy", "--yes")
