#!/usr/bin/env bash
# Benchmarks `probity diff` on two synthetic report.json files of FILES (default 10,000) file
# records each, shaped like real scans (origin chains, sha256, modes, ELF kinds; 5% of files
# changed, 1% renamed, 1% removed and added; 60 components with some upgraded; 800 findings with
# some fixed and new; facts for accounts, services, endpoints, keys and 2,000 binaries). Times the
# median of RUNS runs of `probity diff OLD NEW --out DIR --quiet` and, as a reference in the same
# run, GNU diff on the same two files (a text diff that understands nothing). Peak RSS via
# /usr/bin/time -v. Writes bench/results/diff.md. Floor: at most 100 ms.
#
#   bench/diff.sh [BUILD_DIR]        FILES=10000 RUNS=9 bench/diff.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
FILES=${FILES:-10000}
RUNS=${RUNS:-9}
WORK=bench/work/diff
OUT=bench/results/diff.md
mkdir -p bench/results "$WORK"

python3 - "$FILES" "$WORK" <<'PY'
import hashlib, json, random, sys
n, work = int(sys.argv[1]), sys.argv[2]
rnd = random.Random(5)
h = lambda s: hashlib.sha256(s.encode()).hexdigest()
dirs = ["bin", "sbin", "usr/bin", "usr/sbin", "usr/lib", "lib", "etc", "etc/init.d", "www/cgi-bin",
        "usr/share/lua", "lib/modules/5.10.0", "usr/lib/opkg/info"]
origin = [{"source": "fw.bin", "offset": 1310720, "format": "squashfs"}]
def rec(i, path, content):
    kind = rnd.choice(["elf", "elf", "script", "text", "data"])
    r = {"path": path, "container": 2, "origin": origin, "type": "file", "size": rnd.randint(200, 900000),
         "mode": rnd.choice(["0755", "0644"]), "uid": 0, "gid": 0, "mtime": 1700000000,
         "sha256": h(content), "kind": kind, "extracted": f"extracted/2-squashfs/{path}"}
    if kind == "elf":
        r.update({"arch": "arm", "bits": 32, "endian": "little", "elf_type": "dyn"})
    return r
old_files = [rec(i, f"{dirs[i % len(dirs)]}/file{i:05d}", f"c{i}") for i in range(n)]
new_files = []
for i, f in enumerate(old_files):
    g = dict(f)
    if i % 20 == 0: g["sha256"] = h(f"c{i}-v2")                        # 5% changed content
    if i % 100 == 1: g["path"] = g["path"].replace("file", "renamed")  # 1% renamed
    if i % 100 == 2: continue                                           # 1% removed
    if i % 250 == 3: g["mode"] = "4755"                                 # mode changes
    new_files.append(g)
new_files += [rec(n + i, f"usr/lib/new{i:04d}", f"n{i}") for i in range(n // 100)]  # 1% added
def comps(upg):
    return [{"name": f"product{i}", "version": f"1.{i}.{2 if upg and i % 5 == 0 else 1}",
             "vendor": f"vendor{i}", "purl": f"pkg:generic/product{i}", "cpe": "", "source": "signature",
             "evidence": [{"path": f"usr/lib/lib{i}.so", "container": 2, "offset": 4096, "excerpt": "x",
                           "method": "signature"}]} for i in range(60)]
def findings(shift):
    return [{"id": h(f"f{i + shift}")[:16], "rule": "hardening-no-canary", "category": "hardening",
             "severity": rnd.choice(["info", "low", "medium", "high"]), "path": f"usr/bin/file{i:05d}",
             "container": 2, "message": "no stack canary", "evidence": {"excerpt": "", "offset": 0, "related": []}}
            for i in range(800)]
def vulns(upg):
    return [{"id": f"CVE-2023-{i:05d}", "component": f"product{i % 60}", "version": "1.0", "severity": "high",
             "cvss": 7.5, "cvss_vector": "", "fixed_in": "", "cwe": [], "description": "d", "published": "2023-01-01"}
            for i in range(100 if not upg else 80)]
def facts(new):
    loc = lambda p: "squashfs:" + p
    return {"accounts": [{"name": f"user{i}", "uid": i, "gid": i, "shell": "/bin/false", "home": "/",
                          "path": "etc/passwd", "location": loc("etc/passwd"), "password": "locked",
                          "password_digest": ""} for i in range(20 if not new else 21)],
            "services": [{"name": f"svc{i}", "command": f"/usr/sbin/svc{i}", "path": f"etc/rc.d/S{i:02d}svc{i}",
                          "location": loc(f"etc/rc.d/S{i:02d}svc{i}"), "how": "rc-link"} for i in range(30 + new)],
            "endpoints": [{"value": f"host{i}.example.com", "kind": "host", "class": "public",
                           "path": "usr/bin/file00001", "location": loc("usr/bin/file00001")} for i in range(300 + 10 * new)],
            "keys": [{"role": "private", "type": "RSA", "bits": 2048, "fingerprint": "sha256:" + h(f"k{i}"),
                      "path": "etc/ssl/key.pem", "location": loc("etc/ssl/key.pem")} for i in range(5)],
            "hardening": [{"path": f"usr/bin/file{i:05d}", "location": loc(f"usr/bin/file{i:05d}"),
                           "executable": True, "nx": True, "pie": not (new and i % 50 == 0), "relro": "full",
                           "canary": True, "fortify": False, "rpath": "", "stripped": True} for i in range(2000)]}
for name, files, new in (("old", old_files, 0), ("new", new_files, 1)):
    doc = {"schema": "probity-report", "schema_version": 1, "tool": {"name": "probity", "version": "0.1.0"},
           "image": {"path": f"{name}.bin", "name": f"{name}.bin", "sha256": h(name), "size": 30000000},
           "coverage": {"bytes": 30000000, "understood": 29000000, "share": 0.9667}, "files": files,
           "components": comps(new), "vulnerabilities": vulns(new), "db_snapshot": None,
           "findings": findings(40 * new), "verdict": None, "policy": None, "warnings": [], "facts": facts(new)}
    json.dump(doc, open(f"{work}/{name}.json", "w"), indent=2, sort_keys=True)
PY

times=()
for i in $(seq "$RUNS"); do
  rm -rf "$WORK/out"
  s=$(date +%s%N)
  "$BUILD/probity" diff "$WORK/old.json" "$WORK/new.json" --out "$WORK/out" --quiet
  e=$(date +%s%N)
  times+=($(( (e - s) / 1000 )))
done
gnu=()
for i in $(seq "$RUNS"); do
  s=$(date +%s%N)
  diff "$WORK/old.json" "$WORK/new.json" >/dev/null || true
  e=$(date +%s%N)
  gnu+=($(( (e - s) / 1000 )))
done
rm -rf "$WORK/out"
/usr/bin/time -v -o "$WORK/time.txt" "$BUILD/probity" diff "$WORK/old.json" "$WORK/new.json" \
  --out "$WORK/out" --quiet
/usr/bin/time -v -o "$WORK/time-gnu.txt" diff "$WORK/old.json" "$WORK/new.json" >/dev/null || true

python3 - "$WORK" "$OUT" "$FILES" "${times[*]}" "${gnu[*]}" <<'PY'
import json, os, platform, re, statistics, subprocess, sys
work, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
t = sorted(int(x) / 1000 for x in sys.argv[4].split())
g = sorted(int(x) / 1000 for x in sys.argv[5].split())
def rss(f):
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f).read())
    return int(m.group(1)) / 1024 if m else float("nan")
d = json.load(open(f"{work}/out/diff.json"))
size = os.path.getsize(f"{work}/old.json") / 1e6
med, gmed = statistics.median(t), statistics.median(g)
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
s = d["summary"]
lines = [
    "# probity diff benchmark", "",
    f"Machine: {cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}.", "",
    f"Input: two synthetic report.json files of {n} file records each ({size:.1f} MB each, pretty-printed "
    "like `probity scan` writes them), made by bench/diff.sh.", "",
    "| tool | median (ms) | min (ms) | max (ms) | peak RSS (MiB) |", "|---|---|---|---|---|",
    f"| probity diff (parse both, diff, write diff.json + diff.html) | {med:.1f} | {t[0]:.1f} | {t[-1]:.1f} | {rss(f'{work}/time.txt'):.1f} |",
    f"| GNU diff (text lines only, reference) | {gmed:.1f} | {g[0]:.1f} | {g[-1]:.1f} | {rss(f'{work}/time-gnu.txt'):.1f} |", "",
    f"Ratio probity / GNU diff: {med / gmed:.2f}. Floor (issue 5): at most 100 ms — "
    f"{'met' if med <= 100 else 'NOT met'}.", "",
    "What probity found (the generator's planted changes): " + ", ".join(
        f"{sec} {k} {v}" for sec, c in s.items() for k, v in c.items() if v), "",
]
open(out, "w").write("\n".join(lines))
print("\n".join(lines))
PY
