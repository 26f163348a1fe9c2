"""reviewbot: AI code review for git, as a pre-commit hook, a pull-request check and a CLI."""

__version__ = "0.1.0"
