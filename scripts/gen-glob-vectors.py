#!/usr/bin/env python3
"""Writes test/fixtures/glob-vectors.json: (pattern, name, expected) triples for
the linear glob matcher (src/policy/fnmatch.ts and its Lua twin in
src/state/redis/scripts.ts), decided by Python's fnmatch.fnmatchcase. They
stress what the segment matcher does: several stars, segments anchored at
either end, segments without a literal, candidates found and rejected, code
points of every UTF-8 length, and long names. Deterministic; rerun with
/usr/bin/python3 after changing it.
"""
import fnmatch
import json
import random
import sys

random.seed(20261202)

# Pattern pieces: literals of 1-4 UTF-8 bytes, wildcards and classes.
PIECES = ["a", "b", "ab", "ba", "é", "€", "🙂", "?", "*", "[ab]", "[!a]", "[é-🙂]", "[!🙂]", ":"]
CHARS = ["a", "b", "é", "€", "🙂", ":"]

vectors = []
seen = set()


def add(pattern, name):
    key = (pattern, name)
    if key in seen:
        return
    seen.add(key)
    vectors.append([pattern, name, fnmatch.fnmatchcase(name, pattern)])


# Hand-picked shapes.
SHAPES = [
    "*a*b*", "*ab*ba*", "a*b*a", "*?", "?*", "*??*", "*?a?*", "*[ab]?*b", "*a?b*", "a*?*b",
    "*é*", "*€?🙂*", "🙂*🙂", "*🙂?", "?🙂*", "*[!a]*[!a]*", "*[ab][ab][ab]*", "*a*a*a*a*",
    "**a**", "*:*:*", "?:*", "*:?", "a?*?b", "*b", "a*", "*", "", "?", "[!a]*[!b]",
]
NAMES = ["", "a", "b", "ab", "ba", "aab", "abab", "babab", "a:b", "a:b:c", "é", "€", "🙂",
         "a🙂", "🙂a", "🙂🙂", "aé€🙂b", "é:€:🙂", "aaaaaaaaab", "bbbbbbbbba", "a🙂b🙂a"]
for p in SHAPES:
    for n in NAMES:
        add(p, n)

# Random patterns against random names.
def instance(pieces):
    """A name built from the pattern's pieces (classes filled at random, so it may not match)."""
    out = []
    for piece in pieces:
        if piece == "*":
            out.append("".join(random.choice(CHARS) for _ in range(random.randint(0, 3))))
        elif piece == "?" or piece.startswith("["):
            out.append(random.choice(CHARS))
        else:
            out.append(piece)
    return "".join(out)


for _ in range(3000):
    pieces = [random.choice(PIECES) for _ in range(random.randint(0, 8))]
    p = "".join(pieces)
    add(p, "".join(random.choice(CHARS) for _ in range(random.randint(0, 12))))
    add(p, instance(pieces))

# Long names and the shapes of the review's attack, sized within the default limits.
for fill in ["a", "é", "🙂"]:
    for n in [fill * 300 + "b", fill * 300, "b" + fill * 300, fill * 150 + "b" + fill * 150]:
        for p in ["*" + "?" * 14 + "b", "*" + "?" * 14 + "c", "*b*", "*b", "b*", "*" + "a?" * 7 + "b*",
                  "*?b?*", "*" + fill * 8 + "b*", "*[!a]" + "?" * 10 + "*", "*" + "[ab]" * 14 + "*",
                  # middle segments longer than 31 code points (the Lua matcher's other paths)
                  "*" + fill * 20 + "?" + fill * 20 + "b*", "*" + fill * 40 + "*", "*" + "[ab]" * 20 + "?" * 5 + "*",
                  "*" + fill * 30 + "[é-🙂]" + fill * 3 + "*", "*" + fill * 30 + "[!é]" + "?" + "b*",
                  "*" + "[a-é]" * 33 + "*b", "a*" + fill * 35 + "?*" + fill + "b"]:
            add(p, n)

json.dump({"generator": "scripts/gen-glob-vectors.py", "python": sys.version.split()[0], "count": len(vectors), "vectors": vectors},
          open("test/fixtures/glob-vectors.json", "w", encoding="utf-8"), ensure_ascii=False, separators=(",", ":"))
print(len(vectors), "vectors")
