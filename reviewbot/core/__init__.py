"""Plain types every layer shares: the records (models), the errors, the blocking rule.
Imports nothing else of reviewbot's."""
