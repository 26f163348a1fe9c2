"""`reviewbot agents`: bundled, user and repository agents listed with their origins."""

from __future__ import annotations

import re


def test_agents_lists_bundled_user_and_repository_agents_with_origins(repo, run_cli, isolated_env):
    repo.write(".claude/agents/db-reviewer.md",
               "---\nname: db-reviewer\ndescription: Reviews SQL and migrations.\n---\nYou review databases.\n")
    user_dir = isolated_env.home / ".claude" / "agents"
    user_dir.mkdir(parents=True)
    (user_dir / "my-style.md").write_text("---\nname: my-style\ndescription: My own taste.\n---\nBe picky.\n")
    result = run_cli("agents")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert re.search(r"^\* senior-backend-engineer  \[bundled: ", out, re.M)  # the default is marked
    assert re.search(r"^  security-reviewer  \[bundled: ", out, re.M)
    assert re.search(r"^  db-reviewer  \[repository: \.claude/agents/db-reviewer\.md\]", out, re.M)
    assert re.search(r"^  my-style  \[user: .*my-style\.md\]", out, re.M)
    assert "Reviews SQL and migrations." in out
