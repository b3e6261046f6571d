#!/usr/bin/env python3
"""bench/vectors.py: probity unpack against the public format test vectors.

Makes: bench/results/vectors.md (and the same table on stdout), a per-family table of how
`probity unpack` does on the public test inputs of other projects in
../shared/vectors/formats (see its README.md and MANIFEST.tsv):

  POS vectors        the regular files probity extracted (manifest.json `files`, every
                     container and depth; a hard link counts as its target) must contain
                     every regular file of a reference extraction, by base name and sha256
                     (sha256 alone when the reference is a single file, a stream's output). The reference is an independent Debian
                     tool where one reads the format (GNU tar, cpio, 7z, unsquashfs,
                     debugfs rdump, gzip/xz/bzip2/zstd/lz4/lzop -d); when the tool is missing
                     or fails, the `expected` column: fact_extractor's reference files
                     (expected/get_files_test), a stated payload size ("... (592418 bytes"),
                     or a stated file count ("3 files"). POS vectors with neither are
                     counted as "no reference".
  other vectors      NEG, CORRUPT, MUSTFAIL, MALFORMED: handled = probity exited (any exit
                     code) without a signal and within the timeout.
  every vector       crash = killed by a signal, hang = over the timeout (--timeout, 60 s).

Usage: bench/vectors.py [--vectors DIR] [--probity BIN] [--timeout S] [--families A,B]
                        [--limit N] [--paths P1,P2] [--out FILE] [--details FILE]
                        [--require-match]
The vectors folder: --vectors, else $PROBITY_SHARED_VECTORS, else shared/vectors/formats
beside the source tree or one of its parents. When it is absent the script says so and
exits 0 (exit 77 with --skip-code 77, for ctest's SKIP_RETURN_CODE). Exit 1 when a vector
crashed or hung (or, with --require-match, when a POS vector with a reference did not
match); 0 otherwise. Stdlib only.
"""
from __future__ import annotations

import argparse
import collections
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OTHER_KINDS = ("NEG", "CORRUPT", "MUSTFAIL", "MALFORMED")


def find_vectors(arg: str | None) -> Path | None:
    if arg:
        return Path(arg) if (Path(arg) / "MANIFEST.tsv").is_file() else None
    env = os.environ.get("PROBITY_SHARED_VECTORS")
    if env:
        return Path(env) if (Path(env) / "MANIFEST.tsv").is_file() else None
    # The source tree's parent (a clone) or grandparent (a worktree under wt/) holds shared/.
    for p in [ROOT, *ROOT.parents]:
        cand = p.parent / "shared" / "vectors" / "formats"
        if (cand / "MANIFEST.tsv").is_file():
            return cand
    return None


def read_manifest(vdir: Path) -> list[dict]:
    rows = []
    with open(vdir / "MANIFEST.tsv", encoding="utf-8", errors="replace") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < len(header):
                continue
            rows.append(dict(zip(header, cols)))
    return rows


def sha256_file(p: Path) -> str:
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_files(d: Path) -> list[tuple[str, int, str]]:
    """(relative path, size, sha256) of every regular file below d (links not followed)."""
    out = []
    for dirpath, _dirs, names in os.walk(d):
        for n in names:
            p = Path(dirpath) / n
            if p.is_symlink() or not p.is_file():
                continue
            out.append((str(p.relative_to(d)), p.stat().st_size, sha256_file(p)))
    return out


def run(cmd, timeout, cwd=None, stdin=None):
    """(returncode or None on timeout, stderr tail)."""
    try:
        r = subprocess.run(cmd, cwd=cwd, stdin=stdin, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, timeout=timeout, start_new_session=True)
        return r.returncode, r.stderr[-300:].decode(errors="replace")
    except subprocess.TimeoutExpired:
        return None, "timeout"
    except OSError as e:
        return 127, str(e)


# --- reference extractions by independent tools --------------------------------------------

STREAM_TOOLS = [  # (magic at offset 0, tool argv to decompress to stdout)
    (b"\x1f\x8b", ["gzip", "-dc"]),
    (b"\xfd7zXZ\x00", ["xz", "-dc"]),
    (b"BZh", ["bzip2", "-dc"]),
    (b"\x28\xb5\x2f\xfd", ["zstd", "-dcq"]),
    (b"\x04\x22\x4d\x18", ["lz4", "-dc"]),
    (b"\x02\x21\x4c\x18", ["lz4", "-dc"]),
    (b"\x89LZO\x00\r\n\x1a\n", ["lzop", "-dc"]),
    (b"\x5d\x00\x00", ["xz", "--format=lzma", "-dc"]),
]

SEVENZ_FAMILIES = ("zip", "7z", "rar", "cab/lha/arj/xar", "iso9660", "fat/exfat", "cramfs",
                   "ar/deb", "other fs")


def reference_tool(row: dict, path: Path) -> tuple[str, list] | None:
    """(tool, argv with {src} and {dst}) that extracts the vector's family, or None."""
    fam = row["family"]
    if fam.startswith("tar"):
        return "tar", ["tar", "-xf", "{src}", "-C", "{dst}", "--no-same-owner",
                       "--no-same-permissions"]
    if fam == "cpio":  # compressed cpio through the stream's own tool
        unz = " ".join(stream_tool(path) or ["cat"])
        return "cpio", ["sh", "-c", f'{unz} < "$1" | (cd "$2" && cpio -idm --quiet '
                        '--no-absolute-filenames --no-preserve-owner)', "cpio", "{src}", "{dst}"]
    if fam.startswith("squashfs"):
        return "unsquashfs", ["unsquashfs", "-no-xattrs", "-q", "-n", "-f", "-d", "{dst}/r",
                              "{src}"]
    if fam.startswith("ext2"):
        return "debugfs", ["debugfs", "-R", "rdump / {dst}", "{src}"]
    if fam.startswith(SEVENZ_FAMILIES):
        return "7z", ["7z", "x", "-y", "-bd", "-o{dst}", "{src}"]
    if fam == "compressors" and (argv := stream_tool(path)):
        return argv[0], ["sh", "-c", '"$@" < "$0" > "$1/out"', "{src}", "{dst}", *argv]
    return None


def stream_tool(path: Path) -> list | None:
    with path.open("rb") as f:
        head = f.read(16)
    return next((argv for magic, argv in STREAM_TOOLS if head.startswith(magic)), None)


def reference_by_tool(row, path: Path, work: Path, timeout) -> tuple[str, list] | None:
    """(tool, [(name, size, sha256)]) of a clean reference extraction, or None."""
    spec = reference_tool(row, path)
    if not spec or not shutil.which(spec[0]):
        return None
    name, argv = spec
    dst = work / "ref"
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir()
    argv = [a.replace("{src}", str(path)).replace("{dst}", str(dst)) for a in argv]
    rc, _err = run(argv, timeout)
    # Tools that read damaged input partially still exit non-zero; take only clean runs.
    files = tree_files(dst) if rc == 0 else []
    shutil.rmtree(dst, ignore_errors=True)
    return (name, files) if files else None


def reference_by_expected(row, vdir: Path) -> tuple[str, dict] | None:
    """What the `expected` column states, as a check: ('files', [...]) / ('size', n) /
    ('count', n)."""
    exp = row["expected"]
    if "expected/get_files_test" in exp:
        ref = vdir / "fact_extractor" / "expected" / "get_files_test"
        if ref.is_dir():
            return "expected: reference files", {"files": tree_files(ref)}
    m = re.search(r"\((\d+) bytes", exp)
    if m:
        return "expected: payload size", {"size": int(m.group(1))}
    m = re.match(r"(?:>=)?(\d+) files?\b", exp)
    if m:
        return "expected: file count", {"count": int(m.group(1))}
    return None


def reference(row, path: Path, vdir: Path, work: Path, timeout):
    """The tool's extraction, else what the `expected` column states. A file system image
    wrapped in a compressor (fact_extractor's *.img.xz) is 7z'd only down to the image, so
    there the source project's reference files come first."""
    wrapped = row["family"] != "compressors" and reference_tool(row, path) is not None and \
        reference_tool(row, path)[0] == "7z" and stream_tool(path) is not None
    if wrapped and (e := reference_by_expected(row, vdir)) and "files" in e[1]:
        return e
    ref = reference_by_tool(row, path, work, timeout)
    # The manifest names files a tool adds that are not the archive's (7z lists a xar's table of
    # contents as "[TOC].xml"): "(ignore NAME)" in the `expected` column.
    ignored = set(re.findall(r"\(ignore ([^)]+)\)", row["expected"]))
    if ref and ignored:
        ref = (ref[0], [f for f in ref[1] if not set(Path(f[0]).parts) & ignored])
    return ref or reference_by_expected(row, vdir)


# --- probity ----------------------------------------------------------------------------------

def run_probity(probity: Path, path: Path, work: Path, timeout):
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    rc, err = run([str(probity), "unpack", str(path), "--out", str(out), "--quiet"], timeout)
    files = []
    warnings = 0
    mf = out / "manifest.json"
    if rc is not None and mf.is_file():
        try:
            m = json.loads(mf.read_text(encoding="utf-8", errors="replace"))
            entries = m.get("files", [])
            by_path = {(f.get("container"), f.get("path")): f for f in entries}
            for f in entries:  # a hard link has its target's content
                t = f.get("type")
                if t == "hardlink":  # the target as the archive named it ("/foo", "./foo")
                    link = re.sub(r"^(\./|/)+", "", f.get("link") or "")
                    f = by_path.get((f.get("container"), link), {}) | {"path": f["path"]}
                    t = f.get("type")
                if t == "file":
                    files.append((f.get("path", ""), f.get("size", -1), f.get("sha256", "")))
            warnings = len(m.get("warnings", []))
        except (ValueError, OSError):
            pass
    shutil.rmtree(out, ignore_errors=True)
    return rc, err, files, warnings


def compare(how: str, ref, got) -> tuple[bool, str]:
    """Does probity's output contain the reference? Trees by (basename, sha256), streams
    (whose names are made up by each tool) by sha256."""
    if isinstance(ref, list) or "files" in ref:
        files = ref if isinstance(ref, list) else ref["files"]
        # A lone file is a stream's output (or a wrapper's), named by each tool its own way.
        named = len(files) > 1

        def key(p, s):
            return (os.path.basename(p), s) if named else s
        have = collections.Counter(key(p, s) for p, _n, s in got)
        need = collections.Counter(key(p, s) for p, _n, s in files)
        missing = sorted({p for p, _n, s in files if have[key(p, s)] < need[key(p, s)]})
        if missing:
            return False, (f"{len(missing)}/{len(files)} reference files missing or different, "
                           "e.g. " + ", ".join(missing[:3]))
        return True, f"{len(files)} reference files found"
    if "size" in ref:
        ok = any(n == ref["size"] for _p, n, _s in got)
        return ok, f"a {ref['size']}-byte file {'found' if ok else 'missing'}"
    ok = len(got) >= ref["count"]
    return ok, f"{len(got)} files extracted, {ref['count']} expected"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors")
    ap.add_argument("--probity", default=os.environ.get("PROBITY", str(ROOT / "build/probity")))
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--families", help="comma-separated family prefixes")
    ap.add_argument("--paths", help="comma-separated local_path values")
    ap.add_argument("--limit", type=int, help="at most N vectors")
    ap.add_argument("--out", default=str(ROOT / "bench/results/vectors.md"),
                    help="markdown output ('' for none)")
    ap.add_argument("--details", help="per-vector TSV output")
    ap.add_argument("--require-match", action="store_true")
    ap.add_argument("--skip-code", type=int, default=0)
    a = ap.parse_args()

    vdir = find_vectors(a.vectors)
    if vdir is None:
        print("vectors: shared/vectors/formats not present, skipping")
        return a.skip_code
    probity = Path(a.probity)
    if not os.access(probity, os.X_OK):
        print(f"vectors: {probity} not built (ninja -C build probity)", file=sys.stderr)
        return 2

    rows = read_manifest(vdir)
    if a.families:
        fams = [f.strip() for f in a.families.split(",") if f.strip()]
        rows = [r for r in rows if any(r["family"].startswith(f) for f in fams)]
    if a.paths:
        want = set(a.paths.split(","))
        rows = [r for r in rows if r["local_path"] in want]
    rows = [r for r in rows if (vdir / r["local_path"]).is_file()]
    if a.limit is not None:
        rows = rows[: a.limit]
    if not rows:
        print("vectors: no vectors selected, skipping")
        return a.skip_code

    stats = collections.OrderedDict()
    details = []
    with tempfile.TemporaryDirectory(prefix="probity-vectors-") as tmp:
        work = Path(tmp)
        for i, r in enumerate(rows, 1):
            path = vdir / r["local_path"]
            fam, kind = r["family"], r["kind"]
            s = stats.setdefault(fam, collections.Counter())
            rc, err, got, nwarn = run_probity(probity, path, work, a.timeout)
            status = "ok"
            if rc is None:
                status, s["hang"] = "hang", s["hang"] + 1
            elif rc < 0:
                status, s["crash"] = f"crash (signal {-rc})", s["crash"] + 1
            how, note = "", ""
            if kind == "POS":
                s["pos"] += 1
                ref = reference(r, path, vdir, work, a.timeout)
                how, refdata = ref if ref else ("", None)
                if refdata is None:
                    s["noref"] += 1
                    result = "no reference"
                else:
                    s["ref"] += 1
                    ok, note = compare(how, refdata, got)
                    ok = ok and status == "ok"
                    s["match"] += ok
                    result = "match" if ok else "MISMATCH"
            else:
                s["other"] += 1
                ok = status == "ok"
                s["handled"] += ok
                result = "handled" if ok else status
            details.append((r["local_path"], fam, kind, status, str(rc), str(len(got)),
                            str(nwarn), how, result, note))
            print(f"[{i}/{len(rows)}] {r['local_path']}: {kind} {result} {status} {note}",
                  file=sys.stderr)

    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    lines = [
        f"# probity unpack on the public format vectors ({date})",
        "",
        f"`python3 bench/vectors.py` on {len(rows)} vectors of `{vdir}` "
        f"(timeout {a.timeout:g} s each). POS match: every regular file of the reference "
        "extraction (an independent tool, else the `expected` column) is among probity's "
        "extracted files, by base name and sha256 (by sha256 alone where the reference is one "
        "file: a stream's output, named by each tool its own way). Handled: exited without a "
        "signal within the timeout.",
        "",
        "| family | POS | POS with reference | POS matching | NEG/CORRUPT/MUSTFAIL/MALFORMED "
        "| handled without crash | crashes | hangs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    tot = collections.Counter()
    for fam, s in stats.items():
        tot.update(s)
        lines.append(f"| {fam} | {s['pos']} | {s['ref']} | {s['match']} | {s['other']} | "
                     f"{s['handled']} | {s['crash']} | {s['hang']} |")
    lines.append(f"| **all** | {tot['pos']} | {tot['ref']} | {tot['match']} | {tot['other']} | "
                 f"{tot['handled']} | {tot['crash']} | {tot['hang']} |")
    bad = [d for d in details if d[8] == "MISMATCH" or d[3] != "ok"]
    if bad:
        lines += ["", "Not matching, crashed or hung:", "",
                  "| vector | kind | status | reference | note |", "|---|---|---|---|---|"]
        for d in bad:
            lines.append(f"| {d[0]} | {d[2]} | {d[3]} | {d[7]} | {d[9]} |")
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text, encoding="utf-8")
    if a.details:
        with open(a.details, "w", encoding="utf-8") as f:
            f.write("local_path\tfamily\tkind\tstatus\texit\tfiles\twarnings\treference\t"
                    "result\tnote\n")
            for d in details:
                f.write("\t".join(x.replace("\t", " ") for x in d) + "\n")
    if tot["crash"] or tot["hang"]:
        return 1
    if a.require_match and tot["match"] < tot["ref"]:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
