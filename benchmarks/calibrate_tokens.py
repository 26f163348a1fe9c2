"""Compare reviewbot.pipeline.tokens.estimate_tokens with real OpenAI BPE counts on a corpus of code.

Not part of the test run and not a dependency of reviewbot. The real counts come from the npm package
`gpt-tokenizer`, which ships the o200k_base and cl100k_base ranks inside the package (tiktoken itself downloads
its encoding files at run time, which an offline machine cannot do). Set it up once, outside the repository:

    npm install --prefix /tmp/tokcal gpt-tokenizer@4.0.0
    .venv/bin/python benchmarks/calibrate_tokens.py --tokenizer-dir /tmp/tokcal

The corpus is read from files already on the machine: the venv's site-packages and the Python standard library
(python, json, markdown, toml), /usr/lib (npm's own javascript, typescript and markdown, YAML schemas), /usr/share
(shell, and Go from Debian's golang-1.19-src package, installed for the calibration) and /usr/include (C). Files are
picked deterministically (sorted, then every k-th), so two runs on the same machine measure the same text. Each snippet
is measured twice: as raw source and rendered like a diff with a new-file line number and a +/space marker in front of
every line, which is closer to what reviewbot sends.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reviewbot.pipeline.tokens import estimate_tokens

EXTENSIONS = {
    "python": (".py",),
    "javascript": (".js", ".mjs", ".cjs"),
    "typescript": (".ts",),
    "go": (".go",),
    "c": (".c", ".h"),
    "shell": (".sh",),
    "yaml": (".yaml", ".yml"),
    "json": (".json",),
    "markdown": (".md",),
    "toml": (".toml",),
}

NODE_COUNTER = r"""
const o200k = require("gpt-tokenizer/cjs/encoding/o200k_base");
const cl100k = require("gpt-tokenizer/cjs/encoding/cl100k_base");
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => (input += d));
process.stdin.on("end", () => {
  const texts = JSON.parse(input);
  const out = texts.map((t) => [o200k.encode(t, { disallowedSpecial: new Set() }).length,
                                cl100k.encode(t, { disallowedSpecial: new Set() }).length]);
  process.stdout.write(JSON.stringify(out));
});
"""


def default_roots() -> list[Path]:
    roots = [Path(sysconfig.get_paths()["purelib"]), Path(sysconfig.get_paths()["stdlib"])]
    roots += [Path("/usr/lib"), Path("/usr/share"), Path("/usr/include")]
    return [r for r in roots if r.is_dir()]


def collect(roots: list[Path], per_language: int, max_lines: int) -> list[tuple[str, str]]:
    """(language, snippet) pairs: the first max_lines lines of evenly spaced files of each language."""
    by_lang: dict[str, list[Path]] = {lang: [] for lang in EXTENSIONS}
    suffix_lang = {suf: lang for lang, sufs in EXTENSIONS.items() for suf in sufs}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                lang = suffix_lang.get(os.path.splitext(name)[1])
                if lang:
                    by_lang[lang].append(Path(dirpath, name))
    samples: list[tuple[str, str]] = []
    for lang, paths in by_lang.items():
        usable = [p for p in dict.fromkeys(paths) if _size(p) in range(400, 2_000_000)]
        picked = 0
        step = max(1, len(usable) // per_language)
        for path in usable[::step] + usable:  # evenly spaced first, the rest only to make up numbers
            if picked >= per_language:
                break
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            lines = text.splitlines()[:max_lines]
            if not lines or max(len(x) for x in lines) > 1000:
                continue  # minified or data blobs: reviewbot skips those before estimating
            samples.append((lang, "\n".join(lines) + "\n"))
            picked += 1
    return samples


def _size(path: Path) -> int:
    try:
        return path.stat().st_size if path.is_file() else -1
    except OSError:
        return -1


def render_like_diff(snippet: str) -> str:
    """Number every line the way reviewbot's prompt does: right-aligned new-file number, marker, text."""
    lines = snippet.splitlines()
    width = len(str(len(lines)))
    out = [f"## File: src/example\n@@ -1,{len(lines)} +1,{len(lines)} @@\n"]
    for number, line in enumerate(lines, start=1):
        out.append(f"{number:>{width}} {'+' if number % 3 else ' '} {line}\n")
    return "".join(out)


def real_counts(texts: list[str], tokenizer_dir: Path) -> list[tuple[int, int]]:
    env = dict(os.environ, NODE_PATH=str(tokenizer_dir / "node_modules"))
    proc = subprocess.run(
        ["node", "-e", NODE_COUNTER], input=json.dumps(texts), capture_output=True, text=True, env=env, check=True
    )
    return [tuple(pair) for pair in json.loads(proc.stdout)]


def report(rows: list[tuple[str, str, int, int, int]]) -> None:
    """rows: (language, form, estimate, o200k, cl100k)."""
    print(f"{'group':<24} {'n':>4} {'o200k mean':>10} {'o200k min':>9} {'o200k max':>9} "
          f"{'cl100k mean':>11} {'cl100k min':>10}")
    groups: dict[str, list[tuple[int, int, int]]] = {}
    for lang, form, est, o, c in rows:
        for key in (f"{lang}/{form}", f"ALL/{form}", "ALL"):
            groups.setdefault(key, []).append((est, o, c))
    for key in sorted(groups, key=lambda k: (k.startswith("ALL"), k)):
        vals = groups[key]
        ro = [(e - o) / o for e, o, _ in vals]
        rc = [(e - c) / c for e, _, c in vals]
        print(
            f"{key:<24} {len(vals):>4} {statistics.mean(ro):>+10.1%} {min(ro):>+9.1%} {max(ro):>+9.1%}"
            f" {statistics.mean(rc):>+11.1%} {min(rc):>+10.1%}"
        )
    print("relative error = (estimate - real) / real; negative = underestimate")
    for name, col in (("o200k_base", 3), ("cl100k_base", 4)):
        rel = sorted((r[2] - r[col]) / r[col] for r in rows)
        under = sum(1 for x in rel if x < 0)
        p5 = rel[len(rel) // 20]
        print(f"{name}: mean {statistics.mean(rel):+.1%}, 5th percentile {p5:+.1%}, min {rel[0]:+.1%}, "
              f"max {rel[-1]:+.1%}, underestimated {under} of {len(rel)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer-dir", type=Path, default=Path("/tmp/tokcal"),
                        help="npm prefix holding node_modules/gpt-tokenizer")
    parser.add_argument("--per-language", type=int, default=60)
    parser.add_argument("--max-lines", type=int, default=200)
    parser.add_argument("--dump", type=Path, help="write (language, form, text, o200k, cl100k) as JSON lines")
    args = parser.parse_args()
    if not (args.tokenizer_dir / "node_modules" / "gpt-tokenizer").is_dir():
        print(f"gpt-tokenizer not found under {args.tokenizer_dir}; run: "
              f"npm install --prefix {args.tokenizer_dir} gpt-tokenizer@4.0.0", file=sys.stderr)
        return 2
    samples = collect(default_roots(), args.per_language, args.max_lines)
    texts = [s for _, s in samples] + [render_like_diff(s) for _, s in samples]
    forms = ["raw"] * len(samples) + ["numbered"] * len(samples)
    langs = [lang for lang, _ in samples] * 2
    counts = real_counts(texts, args.tokenizer_dir)
    rows = [(lang, form, estimate_tokens(t), o, c) for lang, form, t, (o, c) in zip(langs, forms, texts, counts)]
    if args.dump:
        with args.dump.open("w", encoding="utf-8") as fh:
            for lang, form, t, (o, c) in zip(langs, forms, texts, counts):
                fh.write(json.dumps({"lang": lang, "form": form, "text": t, "o200k": o, "cl100k": c}) + "\n")
    report(rows)

    # speed: a 100,000-line numbered diff made of the corpus
    big_lines: list[str] = []
    while len(big_lines) < 100_000:
        for t in texts[len(samples):]:
            big_lines.extend(t.splitlines(keepends=True))
    big = "".join(big_lines[:100_000])
    start = time.perf_counter()
    estimate_tokens(big)
    elapsed = time.perf_counter() - start
    print(f"speed: 100,000 lines ({len(big) / 1e6:.1f} MB) estimated in {elapsed * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
