"""End-to-end tests: the CLI or the installed command against real git repositories, the loopback model server and the
real pre-commit."""
