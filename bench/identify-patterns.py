#!/usr/bin/env python3
"""identify-patterns.py SIGDIR OUTDIR

Makes: OUTDIR/patterns.ere (one POSIX ERE per line for `grep -E -f`) and OUTDIR/rules.yar (one
YARA rule per product), both from the same version regexes and context literals that
`probity identify` compiles from data/signatures/*.toml, for bench/identify.sh.
Why: the benchmark compares one vectorscan pass against the usual alternatives with the same
patterns; the translations below are the only differences (ERE has no \\d, no (?:...) and, after
`strings`, no NUL bytes).
"""
import pathlib
import re
import sys
import tomllib


def ere_bracket(body: str) -> str:
    """A PCRE class body as a POSIX bracket body: there a backslash is an ordinary character, so
    escapes are dropped, `\\d` becomes 0-9, a `]` goes first and a `-` last; `\\xHH` (NUL,
    high bytes: not in `strings` output) is left out."""
    chars, dash, close, i = [], False, False, 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            n = body[i + 1]
            if n == "x" and i + 3 < len(body):
                i += 4
                if i < len(body) and body[i] == "-":  # a range of bytes: drop it whole
                    i += 5 if i + 1 < len(body) and body[i + 1] == "\\" else 2
                continue
            i += 2
            if n == "d":
                chars.append("0-9")
            elif n == "-":
                dash = True
            elif n == "]":
                close = True
            elif n in "nrt":
                continue
            else:
                chars.append(n)
            continue
        chars.append(c)
        i += 1
    return ("]" if close else "") + "".join(chars) + ("-" if dash else "")


def to_ere(rx: str) -> str:
    rx = rx.replace("(?:", "(")
    # NULs and line breaks never reach grep: `strings` splits on them.
    rx = re.sub(r"\\(?:x00|r|n)(?:\{\d*,?\d*\}|[+*?])?", "", rx)
    out, i = [], 0
    while i < len(rx):
        c = rx[i]
        if c == "\\" and i + 1 < len(rx):
            n = rx[i + 1]
            if n == "d":
                out.append("[0-9]")
            elif n == "x" and i + 3 < len(rx):
                out.append(".")
                i += 4
                continue
            else:
                out.append(rx[i:i + 2])
            i += 2
            continue
        if c == "[":
            j = i + 1
            neg = j < len(rx) and rx[j] == "^"
            if neg:
                j += 1
            k = j
            while k < len(rx) and rx[k] != "]":
                k += 2 if rx[k] == "\\" else 1
            body = ere_bracket(rx[j:k])
            out.append(("[^" + body + "]" if body else ".") if neg else ("[" + body + "]" if body else ""))
            i = k + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)


def to_yara(rx: str) -> str:
    return rx.replace("(?:", "(").replace("/", "\\/")


def main() -> None:
    sigdir, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    ere, rules = [], []
    for f in sorted(sigdir.glob("*.toml")):
        for p in tomllib.loads(f.read_text())["product"]:
            regexes = p.get("versions", []) + p.get("hinted_versions", [])
            context = p.get("context", [])
            if not regexes:
                continue
            ere += [to_ere(r) for r in regexes]
            ere += [re.escape(c).replace("\\ ", " ").replace('\\"', '"') for c in context]
            strings = [f"    $v{i} = /{to_yara(r)}/" for i, r in enumerate(regexes)]
            strings += [f'    $c{i} = "{c}"' for i, c in enumerate(context)]
            name = re.sub(r"[^A-Za-z0-9_]", "_", p["id"])
            rules.append(f"rule v_{name} {{\n  strings:\n" + "\n".join(strings) +
                         "\n  condition:\n    any of them\n}\n")
    (out / "patterns.ere").write_text("\n".join(ere) + "\n")
    (out / "rules.yar").write_text("\n".join(rules))
    print(f"identify-patterns: {len(ere)} ERE lines, {len(rules)} YARA rules")


main()
