#!/usr/bin/env bash
# identify-recall.sh [CORPUS] [-- extra probity identify options]
#
# Measures identification on the labelled corpus made by bench/make-identify-corpus.sh
# (default build/identify-corpus): runs `probity identify CORPUS/tree/DIR --json` for every
# package directory (each package is its own image; ONE_TREE=1 runs once over the whole tree)
# and compares what was reported there with the package's label. Prints per
# product and overall:
#   recall     packages whose product was reported (any version) / packages
#   exact      packages whose product was reported with exactly the upstream version / packages
#   precision  reported versions of the labelled product that equal the label / all reported
#              versions of it (distinct per package): how often a version named is the right one
#              (a component without a version, named by ELF facts alone, counts for recall only)
#   false      products reported in a package that it does not contain (neither its product nor
#              one of its ALSO products) / all products reported (distinct per package); a name
#              only the package's own manifests give (npm package.json, Python metadata: the
#              modules a Debian node-* package bundles) is counted apart, as "declared"
# CEILING=1 also prints how many packages hold their label's version text in any file at all
# (grep -F over the package: an upper bound of what any signature could read) and the exact rate
# among them.
# PROBITY (default build/probity) and SIGNATURES (default data/signatures) select the binary and
# signature data, so a before/after comparison can run an older build; JSON=FILE reads the
# components `probity identify CORPUS/tree --json` printed earlier instead of running it.
# Versions are compared as Debian labels them and as upstream prints them: "2.9" equals "2.9.0"
# (trailing ".0" components dropped on both sides; hostapd 2.9 is packaged as 2.9.0), and a
# version found that extends the label by a component counts as the label ("5.1.4" for bash
# 5.1, whose upstream patch levels Debian applies in its revision; "2.1.0-beta3" for LuaJIT
# "2.1.0~beta3", whose tilde part the label drops); "-stable" is dropped from labels (libevent).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=${1:-$here/../build/identify-corpus}
[ "$#" -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
probity=${PROBITY:-$here/../build/probity}
sigs=${SIGNATURES:-$here/../data/signatures}
[ -f "$corpus/labels.tsv" ] || { echo "identify-recall: no $corpus/labels.tsv; run bench/make-identify-corpus.sh" >&2; exit 2; }
if [ -n "${JSON:-}" ]; then
  json=$JSON
else
  json=$(mktemp)
  trap 'rm -f "$json"' EXIT
  if [ "${ONE_TREE:-0}" = 1 ]; then
    "$probity" identify "$corpus/tree" --json --signatures "$sigs" "$@" >"$json"
  else
    # Each package is its own image: one run per package directory (NPROC in parallel), the
    # evidence paths prefixed with the directory. (ONE_TREE=1 runs once over the whole tree, as
    # before session 15: a library known only by its SONAME then joins a versioned copy of the
    # product in ANOTHER package, which no real image would show.)
    python3 - "$probity" "$sigs" "$corpus/tree" "$json" "${NPROC:-$(nproc)}" "$@" <<'PY'
import concurrent.futures, json, os, subprocess, sys
probity, sigs, tree, out, nproc, extra = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:]
def one(d):
    r = subprocess.run([probity, "identify", os.path.join(tree, d), "--json", "--threads", "1",
                        "--signatures", sigs, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"identify-recall: probity identify {d} failed: {r.stderr.strip()[-300:]}")
    cs = json.loads(r.stdout)
    for c in cs:
        for ev in c.get("evidence", []):
            ev["path"] = f"{d}/{ev['path']}"
    return cs
dirs = sorted(os.listdir(tree))
with concurrent.futures.ThreadPoolExecutor(nproc) as ex:
    components = [c for cs in ex.map(one, dirs) for c in cs]
json.dump(components, open(out, "w"))
PY
  fi
fi
python3 - "$corpus/labels.tsv" "$json" "${CEILING:-0}" "$corpus/tree" <<'PY'
import csv, json, os, subprocess, sys
from collections import defaultdict
labels = list(csv.DictReader(open(sys.argv[1]), delimiter='\t'))
components = json.load(open(sys.argv[2]))
def norm(v):
    v = v.removesuffix('-stable')
    while v.endswith('.0') and v.count('.') > 1:
        v = v[:-2]
    return v
reported = defaultdict(lambda: defaultdict(set))  # dir -> product -> versions
declared = defaultdict(set)  # dir -> products only a package manifest in that dir names
kinds = defaultdict(set)     # (dir, product) -> evidence kinds
for c in components:
    for ev in c.get('evidence', []):
        d = ev['path'].split('/', 1)[0]
        versions = reported[d][c['name']]  # found, even without a version
        kinds[(d, c['name'])].add(ev.get('kind', ''))
        if c['version']:  # a version-less component (ELF facts alone) claims no version
            versions.add(norm(c['version']))
for (d, q), k in kinds.items():
    if k == {'package-metadata'}:
        declared[d].add(q)
per = defaultdict(lambda: dict(n=0, found=0, exact=0, vers=0, right=0, named=0, false=0, declared=0, falses=set()))
total = dict(n=0, found=0, exact=0, vers=0, right=0, named=0, false=0, declared=0)
exact_dirs = {}
for l in labels:
    d, p, v = l['dir'], l['product'], norm(l['upstream'])
    raw = l['upstream'].removesuffix('-stable')
    also = set(filter(None, l['also'].split(',')))
    got = reported.get(d, {})
    s = per[p]
    s['n'] += 1
    s['found'] += p in got
    right = {x for x in got.get(p, set()) if x == v or x.startswith(raw + '.') or x.startswith(raw + '-')}
    s['exact'] += bool(right)
    exact_dirs[d] = bool(right)
    s['vers'] += len(got.get(p, set()))
    s['right'] += len(right)
    # A name only a package manifest of the package declares (the npm modules Debian's node-react
    # bundles) is the package's own statement, not an identification: counted apart.
    wrong = [q for q in got if q != p and q not in also and q not in declared[d]]
    n_declared = len([q for q in got if q != p and q not in also and q in declared[d]])
    s['declared'] += n_declared
    s['named'] += len(got) - n_declared
    s['false'] += len(wrong)
    s['falses'].update(f"{q}@{','.join(sorted(got[q]))} in {d}" for q in wrong)
for s in per.values():
    for k in total: total[k] += s[k]
pct = lambda a, b: f"{100.0 * a / b:5.1f}%" if b else "    -"
print(f"{'product':<24} {'pkgs':>4} {'recall':>7} {'exact':>7} {'precision':>9} {'false':>6}")
for p in sorted(per):
    s = per[p]
    print(f"{p:<24} {s['n']:>4} {pct(s['found'], s['n']):>7} {pct(s['exact'], s['n']):>7} "
          f"{pct(s['right'], s['vers']):>9} {s['false']:>6}")
products = len(per)
found_products = sum(1 for s in per.values() if s['found'])
exact_products = sum(1 for s in per.values() if s['exact'] == s['n'])
print()
print(f"overall: {total['n']} packages of {products} products; "
      f"recall {pct(total['found'], total['n']).strip()}, "
      f"exact version {pct(total['exact'], total['n']).strip()}, "
      f"version precision {pct(total['right'], total['vers']).strip()}, "
      f"false products {total['false']} of {total['named']} named ({pct(total['false'], total['named']).strip()})")
print(f"products: {found_products} of {products} found, {exact_products} exact in every package")
if total['declared']:
    print(f"named by the packages' own manifests (npm package.json, Python metadata...), not counted "
          f"as false: {total['declared']}")
if sys.argv[3] == '1':
    # CEILING=1: which packages hold their label's version text at all (any file, any bytes, as
    # grep -F finds it: an upper bound, since a short version also matches unrelated bytes).
    # What no byte of a package says, no signature can read.
    have = [l for l in labels
            if subprocess.run(['grep', '-r', '-a', '-F', '-q', '--', l['upstream'].removesuffix('-stable'),
                               os.path.join(sys.argv[4], l['dir'])]).returncode == 0]
    ex = sum(1 for l in have if exact_dirs.get(l['dir']))
    print(f"ceiling: {len(have)} of {len(labels)} packages ({pct(len(have), len(labels)).strip()}) hold "
          f"their version's text in any file; exact in {ex} of those ({pct(ex, len(have)).strip()}), "
          f"and in {total['exact'] - ex} packages without it (file names, symbol versions, date maps)")
falses = sorted(f for s in per.values() for f in s['falses'])
if falses:
    print("\nfalse products:")
    for f in falses: print("  " + f)
PY
