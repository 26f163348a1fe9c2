"""Which endpoint may receive the user's API key.

The key goes only over HTTPS, to loopback, or to a host in the user's trusted_hosts; an endpoint chosen by the
repository's own config gets it only when the user trusted that host (or it is OpenAI's, over HTTPS). The origin of
`base_url` (loading.py records it) decides which rule applies.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from reviewbot.config.loading import user_config_path
from reviewbot.config.settings import Settings
from reviewbot.core.errors import ConfigError

TRUSTED_DEFAULT_HOSTS = ("api.openai.com",)


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def key_for_endpoint(settings: Settings) -> str | None:
    """The API key to send to the configured endpoint, None to send none, or ConfigError when the repository's
    config names an endpoint the user has not trusted.

    The key travels only over HTTPS, to loopback, or to a host in the user's trusted_hosts: a plain-HTTP endpoint
    anywhere else gets the request without the key. Endpoints named by the user (command line, environment, user
    config) are otherwise trusted. An endpoint from the repository's own config is trusted only if its host is in
    trusted_hosts or is OpenAI's (over HTTPS); a loopback endpoint from the repository still gets a request, but
    never the user's key.
    """
    base_url = settings.values.get("base_url")
    origin = settings.origins.get("base_url", "default")
    if not base_url:
        return settings.api_key
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    hostport = f"{host}:{port}" if port else host
    trusted = {h.lower() for h in settings.values.get("trusted_hosts") or []}
    explicitly_trusted = host in trusted or hostport in trusted
    secure = parts.scheme.lower() == "https"
    if not origin.startswith("repository"):
        if secure or explicitly_trusted or _is_loopback(host):
            return settings.api_key
        return None  # plain HTTP to a host the user did not list in trusted_hosts: no key in clear text
    if explicitly_trusted or (host in TRUSTED_DEFAULT_HOSTS and secure):
        return settings.api_key
    if _is_loopback(host):
        return None
    if host in TRUSTED_DEFAULT_HOSTS:
        raise ConfigError(
            f"the repository's config sends reviews to {hostport} over plain HTTP, which would expose your API key; "
            f"use https:// (or set base_url in your own config)"
        )
    raise ConfigError(
        f"the repository's config sends reviews to {hostport}, which you have not trusted; to allow it, add "
        f'trusted_hosts = ["{hostport}"] to {user_config_path()} or set REVIEWBOT_TRUSTED_HOSTS={hostport}'
    )
