"""How long reading a hostile model answer takes (issue 11: a 3 MB nested answer once took 115 s).

    .venv/bin/python benchmarks/answer_parse.py

Prints, for each answer shape, its size, the outcome and the CPU time of `parse_answer` (best of 3). Every answer is
read in linear time and refused when over MAX_ANSWER_CHARS characters or MAX_DEPTH levels.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reviewbot.core.errors import OutputParseError
from reviewbot.pipeline.answer import MAX_ANSWER_CHARS, parse_answer

FINDING = {"path": "app/db.py", "line": 2, "severity": "error", "category": "security", "message": "SQL injection"}
UNDER = MAX_ANSWER_CHARS - 100

SHAPES = {
    "3 MB of '{' (issue 11)": "{" * 3_000_000,
    "~1 MB of '{' (under the size cap)": "{" * UNDER,
    "~1 MB '[[[...]]]' balanced": "[" * (UNDER // 2) + "]" * (UNDER // 2),
    "~1 MB 'x {' prose openers": "x {" * (UNDER // 3),
    "~1 MB unclosed string of escapes": '{"a": "' + "\\x" * (UNDER // 2 - 4),
    "~1 MB of '{}' values": "{}" * (UNDER // 2),
    "~1 MB '{\"findings\": [' repeated": '{"findings": [' * (UNDER // 14),
    "9,000 valid findings (0.96 MB)": json.dumps({"findings": [FINDING] * 9000}),
    "a normal answer in prose and a fence": "Here:\n```json\n" + json.dumps({"findings": [FINDING] * 3}) + "\n```",
}


def main() -> None:
    print(f"{'answer':42} {'chars':>10}  {'outcome':44} {'cpu s':>7}")
    for name, text in SHAPES.items():
        best, outcome = None, ""
        for _ in range(3):
            started = time.process_time()
            try:
                parsed = parse_answer(text)
                outcome = f"{len(parsed.findings)} findings"
            except OutputParseError as exc:
                outcome = str(exc)[:44]
            spent = time.process_time() - started
            best = spent if best is None else min(best, spent)
        print(f"{name:42} {len(text):>10,}  {outcome:44} {best:7.3f}")


if __name__ == "__main__":
    main()
