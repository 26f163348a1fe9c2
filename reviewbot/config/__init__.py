"""The settings: one typed field per key, loaded in layers, and the rule for who may receive the API key.

Layers: defaults < user file < repository file < REVIEWBOT_* environment < command line. Three rules keep a
repository from deciding where the user's data and money go: the user's own base_url, model and model_aliases
come first; a repository's cost settings are capped; the API key goes only over HTTPS, to loopback, or to a host in
the user's trusted_hosts.

This package's modules, one job each:
- settings.py: the Settings record and KEYS, the key table derived from its fields;
- converters.py: how a raw value (from a file, the environment or a flag) becomes a typed one;
- loading.py: the layers, the repository's limits (USER_FIRST_KEYS, USER_ONLY_KEYS, REPO_CAPS), load_settings;
- endpoint_trust.py: key_for_endpoint, which endpoint may receive the API key;
- display.py: masking secrets and writing values as TOML.

Other layers import from `reviewbot.config` itself; the names below are its public face.
"""

from reviewbot.config.display import mask, toml_literal
from reviewbot.config.endpoint_trust import TRUSTED_DEFAULT_HOSTS, key_for_endpoint
from reviewbot.config.loading import (
    MAX_REPO_AGENTS,
    REPO_CAPS,
    USER_FIRST_KEYS,
    USER_ONLY_KEYS,
    load_settings,
    read_repo_config,
    user_config_path,
)
from reviewbot.config.settings import KEYS, Key, Settings, choices_of

__all__ = [
    "KEYS",
    "MAX_REPO_AGENTS",
    "REPO_CAPS",
    "TRUSTED_DEFAULT_HOSTS",
    "USER_FIRST_KEYS",
    "USER_ONLY_KEYS",
    "Key",
    "Settings",
    "choices_of",
    "key_for_endpoint",
    "load_settings",
    "mask",
    "read_repo_config",
    "toml_literal",
    "user_config_path",
]
