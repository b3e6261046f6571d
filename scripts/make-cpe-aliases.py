#!/usr/bin/env python3
"""make-cpe-aliases.py [CPE_MAP_DIR]

Writes data/signatures/cpe-aliases.tsv: every CPE 2.3 vendor:product NVD files each signature's
product under, with the number of CVEs NVD lists as vulnerable for that pair (2002-2018), so the
vulnerability match asks for all of them (curl is haxx:curl and haxx:libcurl).
Rows are the union of: each signature's own vendor:product, the curated alias map
CPE_MAP_DIR/probity_cpe_aliases.tsv (default ../shared/vulndata/real/cpe-map), and the rows the
file already has (aliases added by hand). Counts come from
CPE_MAP_DIR/nvd_vendor_product_counts_2002_2018.tsv (0: NVD had no vulnerable CVE for the pair
in those years). Only data is copied; the counts file itself stays outside the repository.
"""
import csv, glob, os, sys, tomllib

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
cpe_map = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, '..', 'shared', 'vulndata', 'real', 'cpe-map')
out = os.path.join(root, 'data', 'signatures', 'cpe-aliases.tsv')

counts = {}
with open(os.path.join(cpe_map, 'nvd_vendor_product_counts_2002_2018.tsv')) as f:
    for r in csv.DictReader(f, delimiter='\t'):
        # NVD binds CPE names with backslash-quoted punctuation (tcl:tcl\/tk); signatures hold
        # the plain names (make_cpe quotes them).
        k = (r['vendor'].replace('\\', ''), r['product'].replace('\\', ''))
        counts[k] = counts.get(k, 0) + int(r['cve_count'])

ids = {}
for path in sorted(glob.glob(os.path.join(root, 'data', 'signatures', '*.toml'))):
    with open(path, 'rb') as f:
        for p in tomllib.load(f).get('product', []):
            ids[p['id']] = (p['vendor'], p.get('product', p['id']))

rows = set()
for i, (v, p) in ids.items():
    rows.add((i, v, p))
with open(os.path.join(cpe_map, 'probity_cpe_aliases.tsv')) as f:
    for r in csv.DictReader(f, delimiter='\t'):
        if r['probity_id'] in ids:
            rows.add((r['probity_id'], r['cpe_vendor'], r['cpe_product']))
if os.path.exists(out):
    with open(out) as f:
        for line in f:
            if line.startswith('#') or line.startswith('id\t') or not line.strip():
                continue
            i, v, p = line.rstrip('\n').split('\t')[:3]
            if i in ids:
                rows.add((i, v, p))

with open(out, 'w') as f:
    f.write('# Every CPE vendor:product NVD files a product under (scripts/make-cpe-aliases.py;\n'
            '# docs/signatures.md). nvd_cves: CVEs NVD lists as vulnerable for the pair, 2002-2018.\n')
    f.write('id\tvendor\tproduct\tnvd_cves\n')
    for i, v, p in sorted(rows):
        f.write(f'{i}\t{v}\t{p}\t{counts.get((v, p), 0)}\n')
print(f'make-cpe-aliases: {len(rows)} rows for {len(ids)} products in {out}')
missing = sorted(i for i in ids if not any(counts.get((v, p), 0) for j, v, p in rows if j == i))
print(f'make-cpe-aliases: {len(missing)} products with no vulnerable NVD pair 2002-2018: {" ".join(missing)}')
