"""The GitHub HTTP client: writes are not retried, and the token goes to no other host."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from reviewbot.adapters.github import GitHubError
from reviewbot.adapters.github.client import GitHubClient
from tests.adapters.github.support import pull


def test_writes_are_never_repeated(server):
    client = GitHubClient(server.url, "ghs_secret_token")
    server.fail_next(502, "Bad Gateway", times=2)
    with pytest.raises(GitHubError, match="502"):
        client.call("POST", "/repos/acme/shop/pulls/7/reviews", {"event": "COMMENT", "body": "x"})
    assert [r.method for r in server.requests] == ["POST"]  # a write that may have landed is not sent twice


def test_client_refuses_other_hosts(server):
    client = GitHubClient(server.url, "ghs_secret_token")
    with pytest.raises(GitHubError, match="refusing"):
        client.call("GET", "http://127.0.0.2:9/repos/acme/shop/pulls/7")
    assert "ghs_secret_token" not in repr(client)
    assert "ghs_secret_token" not in repr(pull(server))


class _Redirect(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self):
        self.send_response(302)
        self.send_header("Location", self.target + self.path)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_redirects_to_another_host_are_not_followed(server):
    _Redirect.target = server.url.replace("127.0.0.1", "localhost")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Redirect)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        client = GitHubClient(f"http://127.0.0.1:{httpd.server_address[1]}", "ghs_secret_token")
        with pytest.raises(GitHubError, match="302"):
            client.call("GET", "/repos/acme/shop/pulls/7")
        assert server.requests == []  # the other host never saw the token
    finally:
        httpd.shutdown()
        httpd.server_close()
