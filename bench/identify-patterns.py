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


def to_ere(rx: str) -> str:
    rx = rx.replace("(?:", "(")
    # NULs and line breaks never reach grep: `strings` splits on them.
    rx = rx.replace("\\x00", "").replace("\\r", "").replace("\\n", "")
    rx = rx.replace("\\d", "[0-9]")
    rx = rx.replace("[]", "").replace("[^]", ".")
    return rx


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
