"""The offline token estimate: cheap, never far below the real count, fast on huge diffs."""

from __future__ import annotations

import time

import pytest

from reviewbot.pipeline.tokens import estimate_tokens

# Real counts measured with the npm package gpt-tokenizer 4.0.0 (o200k_base, cl100k_base), which bundles the
# OpenAI ranks; see benchmarks/calibrate_tokens.py. The snippets were written for this test.
REAL_COUNTS = [
    (
        "import asyncio\n\nasync def fetch(session, url):\n    async with session.get(url, timeout=10) as resp:\n"
        "        resp.raise_for_status()\n        return await resp.json()\n",
        36,
        36,
    ),
    (
        "func (s *Server) HandleRequest(w http.ResponseWriter, r *http.Request) {\n"
        "\tctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)\n\tdefer cancel()\n"
        "\tif err := s.db.PingContext(ctx); err != nil {\n"
        "\t\thttp.Error(w, err.Error(), http.StatusServiceUnavailable)\n\t\treturn\n\t}\n}\n",
        70,
        69,
    ),
    (
        '{\n  "name": "reviewbot",\n  "version": "1.2.3",\n'
        '  "dependencies": {"left-pad": "^1.3.0", "lodash": "4.17.21"}\n}\n',
        46,
        46,
    ),
    (
        "## File: app/service.py\n@@ -18,3 +18,5 @@ class Service:\n18   def handle(self):\n"
        "19 +     data = requests.get(self.url)\n20 +     time.sleep(1)\n21       return data\n   - old_line()\n",
        54,
        54,
    ),
    ("Les élèves ont étudié la théorie des ensembles; 東京は日本の首都です。 Привет, мир!\n", 23, 33),
    (
        "const handler = async (event) => { const { userId } = JSON.parse(event.body); "
        "return { statusCode: 200, body: JSON.stringify({ ok: true, userId }) }; };\n",
        42,
        39,
    ),
]


@pytest.mark.parametrize(("text", "o200k", "cl100k"), REAL_COUNTS)
def test_estimate_is_high_side_but_close(text: str, o200k: int, cl100k: int) -> None:
    estimate = estimate_tokens(text)
    real = max(o200k, cl100k)
    assert real <= estimate <= real * 1.8


def test_empty_text_costs_nothing_and_any_text_costs_something() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("x") >= 1
    assert estimate_tokens("\n") >= 1


def test_grows_with_the_text() -> None:
    line = "    result = compute_total(items, tax_rate=0.2)  # keep rounding consistent\n"
    one, ten = estimate_tokens(line), estimate_tokens(line * 10)
    assert 9 * one <= ten <= 11 * one


def test_odd_text_does_not_crash() -> None:
    # lone surrogates (from surrogateescape-decoded bytes), control characters, emoji
    for text in ("\udcff\udcfe abc", "\x00\x01\x1b[31mred\x1b[0m", "😀" * 50, "\r\n" * 100):
        assert estimate_tokens(text) > 0


def test_non_ascii_is_not_underestimated() -> None:
    # CJK runs cost about a token per character; the estimate must not treat them as one "word"
    text = "東京は日本の首都です" * 20
    assert estimate_tokens(text) >= 150


def test_hundred_thousand_diff_lines_in_well_under_a_second() -> None:
    lines = [
        f"{n:>6} + {'    ' * (n % 4)}value_{n} = transform(record['field_{n % 17}'], limit={n % 1000})\n"
        for n in range(100_000)
    ]
    text = "".join(lines)
    start = time.perf_counter()
    estimate = estimate_tokens(text)
    elapsed = time.perf_counter() - start
    assert estimate > 100_000 * 10
    assert elapsed < 0.5, f"{elapsed:.3f}s"
