#!/usr/bin/env python3
"""Writes test/fixtures/fnmatch-vectors.json: (pattern, name, expected) triples
decided by Python's own fnmatch.fnmatchcase, the reference the policy
language follows. Deterministic; rerun with /usr/bin/python3 after changing it.
"""
import fnmatch
import json
import random
import sys

TRICKY_PATTERNS = [
    "", "*", "**", "?", "??", "a*", "*a", "a*b", "*a*", "a?c", "read", "read:*", "*:write",
    "[abc]", "[!abc]", "[^0-9]", "[a-c]", "[!a-c]", "[z-a]", "[!z-a]", "[a-]", "[-a]", "[!-a]",
    "[a-c-e]", "[c-b-a]", "[]]", "[!]]", "[]a]", "[!]", "x[!]", "[", "x[", "[a", "[!", "]",
    "[\\]", "[\\-a]", "[a\\]b", "[&&]", "[~~]", "[||]", "[a&&b]", "[[]", "[[a]", "[^]", "[!^]",
    "\\", "\\*", "a\\?b", "*[!.]*", "log[0-9][0-9]", "[🙂-🙃]", "?🙂", "🙂*", "[!🙂]",
    "a*b*c*d", "*a*a*a*b", "project:*", "project:*:*", "*\n*", "?\n", "[\n]", "a/b*", "*/x",
    "[a-z0-9_]*", "[!a-z]*", "x[a-]y", "[---]", "[--a]", "[a--]", "[!--]", "[b-aa-c]", "[c-ab-a]",
]

TRICKY_NAMES = [
    "", "a", "b", "c", "z", "-", "]", "[", "!", "^", "\\", "&", "~", "|", "ab", "abc", "abd", "aXb",
    "read", "reads", "read:docs", "READ", "x[!]", "x!", "x[", "log7", "log77", "loga", "🙂", "🙃",
    "a🙂", "🙂🙂", "\n", "a\nb", "a/b", "a/bc", "/x", "project:alpha", "project:a:b", "aaaaab",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaac", "xay", "x-y", "xy", "abcd", "a.b", ".", "[]", "[a]", "a]",
]

ALPHABET = list("[]!-*?^\\abz:") + ["🙂"]


def main() -> None:
    rng = random.Random(20261122)
    vectors = []
    seen = set()

    def add(pattern: str, name: str) -> None:
        key = (pattern, name)
        if key in seen:
            return
        seen.add(key)
        try:
            expected = fnmatch.fnmatchcase(name, pattern)
        except Exception:  # Python cannot compile a few degenerate classes
            return
        vectors.append([pattern, name, expected])

    for pattern in TRICKY_PATTERNS:
        for name in TRICKY_NAMES:
            add(pattern, name)
    for _ in range(6000):
        pattern = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 7)))
        name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 6)))
        add(pattern, name)
        # Names built from the pattern's own characters match more often.
        plain = "".join(c for c in pattern if c not in "*?[]!")
        add(pattern, plain)

    out = {
        "generator": "scripts/gen-fnmatch-vectors.py",
        "python": sys.version.split()[0],
        "count": len(vectors),
        "vectors": vectors,
    }
    with open("test/fixtures/fnmatch-vectors.json", "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(vectors)} vectors (Python {out['python']})")


if __name__ == "__main__":
    main()
