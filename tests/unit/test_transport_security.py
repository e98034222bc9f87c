"""Where credentials go: TLS is always verified, nothing follows a redirect, and each secret reaches only its
own host. Real servers on loopback record what they receive."""

from __future__ import annotations

import base64
import http.server
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mypos_provider.client import (
    Credentials,
    MyPOSClient,
    MyPOSError,
    RetryPolicy,
    TransportOptions,
    UnreachableError,
)

FAST = RetryPolicy(max_retries=0, timeout=2, connect_timeout=2, backoff_factor=0.01)


class Recorder(http.server.ThreadingHTTPServer):
    """Answers every request with a fixed status (and Location), recording method, path and headers."""

    def __init__(self, status: int = 200, location: str | None = None) -> None:
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        self.status, self.location = status, location
        super().__init__(("127.0.0.1", 0), _RecordingHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"{'https' if isinstance(self.socket, ssl.SSLSocket) else 'http'}://127.0.0.1:{self.server_port}"


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.seen.append((self.command, self.path, dict(self.headers)))
        self.send_response(self.server.status)
        if self.server.location:
            self.send_header("Location", self.server.location)
        body = b'{"access_token":"T0KEN-from-recorder-000000000000000000000","token_type":"Bearer","expires_in":60}'
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = do_DELETE = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def self_signed(tmp_path: Path) -> Iterator[Recorder]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    server = Recorder()
    server.certificate = cert
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    yield server
    server.shutdown()


def client_for(
    auth_url: str, api_url: str, secret: str = "client-secret-value", transport: TransportOptions | None = None
) -> MyPOSClient:
    return MyPOSClient.connect(
        api_url=api_url,
        auth_url=auth_url,
        credentials=Credentials("client-id", secret),
        retry=FAST,
        transport=transport or TransportOptions(),
    )


@pytest.mark.parametrize(
    "ambient", [{}, {"CURL_CA_BUNDLE": ""}, {"REQUESTS_CA_BUNDLE": ""}, {"PYTHONHTTPSVERIFY": "0"}]
)
def test_an_untrusted_certificate_is_refused_whatever_the_environment(self_signed, monkeypatch, ambient):
    for name, value in ambient.items():
        monkeypatch.setenv(name, value)
    client = client_for(self_signed.url, self_signed.url + "/v1", secret=f"s-{len(ambient)}-{sorted(ambient)}")

    with pytest.raises(UnreachableError, match="certificate verify failed"):
        list(client.iter_webhooks())

    assert self_signed.seen == []  # the handshake failed before any credential was sent


def test_client_credentials_go_only_to_the_auth_host_and_the_token_only_to_the_api_host():
    auth, api = Recorder(), Recorder()
    client = client_for(auth.url, api.url + "/v1", secret="only-for-the-auth-host")

    list(client.iter_webhooks())

    basic = "Basic " + base64.b64encode(b"client-id:only-for-the-auth-host").decode()
    assert [(m, p, h.get("Authorization")) for m, p, h in auth.seen] == [("POST", "/oauth/token", basic)]
    assert all(h.get("Authorization") == "Bearer T0KEN-from-recorder-000000000000000000000" for _, _, h in api.seen)
    assert all("only-for-the-auth-host" not in str(h) for _, _, h in api.seen)


def test_a_redirect_is_never_followed_so_the_token_stays_with_the_api_host():
    elsewhere = Recorder()
    auth, api = Recorder(), Recorder(status=302, location=elsewhere.url + "/v1/webhooks")
    client = client_for(auth.url, api.url + "/v1")

    with pytest.raises(MyPOSError):
        list(client.iter_webhooks())

    assert elsewhere.seen == []


# ---- what the environment cannot change (SECURITY.md, "What the environment can change") -----------------


def test_a_netrc_default_entry_never_replaces_the_bearer_token(monkeypatch, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text("default login intruder password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    auth, api = Recorder(), Recorder()

    list(client_for(auth.url, api.url + "/v1").iter_webhooks())

    assert [h.get("Authorization") for _, _, h in api.seen] == ["Bearer T0KEN-from-recorder-000000000000000000000"]
    assert [h.get("Authorization", "").startswith("Basic ") for _, _, h in auth.seen] == [True]
    assert all("intruder" not in str(h) for _, _, h in auth.seen + api.seen)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "HTTPS_PROXY"])
def test_a_proxy_from_the_environment_never_relays_a_request(monkeypatch, variable):
    proxy = Recorder()
    monkeypatch.setenv(variable, proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    auth, api = Recorder(), Recorder()

    list(client_for(auth.url, api.url + "/v1").iter_webhooks())

    assert proxy.seen == [] and len(auth.seen) == 1 and api.seen


def test_the_proxy_setting_relays_both_endpoints_through_the_proxy():
    proxy = Recorder()  # answers like the APIs do, so it stands in for proxy and endpoints at once

    list(
        client_for(
            "http://auth.invalid", "http://api.invalid/v1", transport=TransportOptions(proxy=proxy.url)
        ).iter_webhooks()
    )

    assert [p for _, p, _ in proxy.seen][:2] == [
        "http://auth.invalid/oauth/token",
        "http://api.invalid/v1/webhooks?page=1&size=100",
    ]


def test_a_ca_bundle_from_the_environment_never_changes_whom_tls_trusts(self_signed, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(self_signed.certificate))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(self_signed.certificate))

    with pytest.raises(UnreachableError, match="certificate verify failed"):
        list(client_for(self_signed.url, self_signed.url + "/v1").iter_webhooks())


def test_the_ca_bundle_setting_makes_tls_trust_exactly_that_bundle(self_signed):
    client = client_for(
        self_signed.url, self_signed.url + "/v1", transport=TransportOptions(ca_bundle=str(self_signed.certificate))
    )

    list(client.iter_webhooks())

    assert [p for _, p, _ in self_signed.seen][:1] == ["/oauth/token"]
