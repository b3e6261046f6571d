#!/usr/bin/env python3
"""make-eol-curated.py MIRROR_ROOT

Writes data/eol/<product>.json for firmware products endoflife.date does not cover (issue 13
item 6): busybox, dropbear, openssh, lighttpd, dnsmasq, uclibc-ng, u-boot, hostapd. None of
these projects publishes a support policy; each fixes only its newest release line. So every
line's dates come from the project's own release tags (git tag dates, read from a clone of its
repository under MIRROR_ROOT/<owner>+<name>/repo, as the `fetch` tool of the work library
leaves them) or, where no mirror carries the tags (hostapd), from the dated release lines of
the project's own ChangeLog in such a clone; a line's `eol` is derived, not declared:

    eol(line) = max(date of the line's last release, date of the next line's first release)

i.e. the day after which the project published no further fix for the line and a newer line
existed. The newest line has no `eol` (probity reports no end of life for it rather than
guess). Each cycle names the tag it was read from (`source`); the file records `data_date`,
the newest tag date seen: a release after that date is not in the data.

Only data is written; run it again after fetching newer clones. A product whose clone is not
under MIRROR_ROOT is skipped (its file is left as it is); name products after MIRROR_ROOT to
write only those.
"""
import json
import os
import re
import subprocess
import sys

# product: (repo dir, web base for a tag, tag regex -> version groups, version builder, cycle of a version, names)
PRODUCTS = {
    'busybox': ('mirror+busybox', 'https://github.com/mirror/busybox/releases/tag/',
                r'^(\d+)_(\d+)_(\d+)$', lambda m: '.'.join(m.groups()),
                lambda v: '.'.join(v.split('.')[:2]), ['busybox']),
    'dropbear': ('mkj+dropbear', 'https://github.com/mkj/dropbear/releases/tag/',
                 r'^DROPBEAR_(\d{4}\.\d+|0\.\d+)$', lambda m: m.group(1), lambda v: v,
                 ['dropbear', 'dropbear_ssh']),
    'openssh': ('openssh+openssh-portable', 'https://github.com/openssh/openssh-portable/releases/tag/',
                r'^V_(\d+)_(\d+)_P(\d+)$', lambda m: f'{m.group(1)}.{m.group(2)}p{m.group(3)}',
                lambda v: v.split('p')[0], ['openssh']),
    'lighttpd': ('lighttpd+lighttpd1.4', 'https://github.com/lighttpd/lighttpd1.4/releases/tag/',
                 r'^lighttpd-(1\.4\.\d+)$', lambda m: m.group(1), lambda v: v, ['lighttpd']),
    'dnsmasq': ('imp+dnsmasq', 'https://github.com/imp/dnsmasq/releases/tag/',
                r'^v(2\.\d+)$', lambda m: m.group(1), lambda v: v, ['dnsmasq']),
    'uclibc-ng': ('wbx-github+uclibc-ng', 'https://github.com/wbx-github/uclibc-ng/releases/tag/',
                  r'^v(1\.0\.\d+)$', lambda m: m.group(1), lambda v: v, ['uclibc-ng']),
    'u-boot': ('u-boot+u-boot', 'https://github.com/u-boot/u-boot/releases/tag/',
               r'^v(\d{4}\.\d{2})$', lambda m: m.group(1), lambda v: v, ['u-boot', 'u-boot_project']),
}

# product: (repo dir, file in it, web address of that file, cycle of a version, names). The
# ChangeLog's "YYYY-MM-DD - vX.Y" lines are the project's release dates (hostap's tags stop at
# 2.3 in the only mirror found; its ChangeLog lists every release since 0.2.0).
CHANGELOGS = {
    'hostapd': ('greearb+hostap-ct', 'hostapd/ChangeLog',
                'https://w1.fi/cgit/hostap/plain/hostapd/ChangeLog',
                lambda v: v if not v.startswith('0.') else '.'.join(v.split('.')[:2]),
                ['hostapd', 'wpa_supplicant']),
}


def vkey(v):
    return [int(x) for x in re.findall(r'\d+', v)]


def tags(repo):
    out = subprocess.run(['git', '--git-dir', repo, 'for-each-ref', 'refs/tags',
                          '--format=%(refname:short)\t%(creatordate:short)'],
                         check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        name, date = line.split('\t')
        yield name, date


def changelog_releases(repo, path):
    text = subprocess.run(['git', '--git-dir', repo, 'show', 'HEAD:' + path], check=True,
                          capture_output=True, text=True).stdout
    for m in re.finditer(r'^(\d{4}-\d{2}-\d{2}) - v(\d+(?:\.\d+)+)\b', text, re.M):
        yield m.group(2), m.group(1)


def write(here, product, names, source, newest, lines, link):
    """lines: cycle -> [(version, date, anchor)]; link(anchor) -> the address citing it."""
    order = sorted(lines, key=vkey)
    cycles = []
    for i, c in enumerate(order):
        rel = sorted(lines[c], key=lambda r: vkey(r[0]))
        first, last = rel[0], max(rel, key=lambda r: r[1])
        entry = {'cycle': c, 'release': first[1], 'latest': rel[-1][0],
                 'latest_release': last[1], 'source': link(last[2])}
        if i + 1 < len(order):
            nxt = min(lines[order[i + 1]], key=lambda r: vkey(r[0]))
            entry['eol'] = max(last[1], nxt[1])
            entry['eol_source'] = link(last[2] if last[1] >= nxt[1] else nxt[2])
        cycles.append(entry)
    doc = {
        'product': product,
        'names': names,
        'source': source,
        'policy': 'newest line only: eol = max(last release of the line, first release of the next line)',
        'data_date': newest,
        'cycles': cycles,
    }
    path = os.path.join(here, 'data', 'eol', product + '.json')
    with open(path, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print(f'{product}: {len(cycles)} lines, newest release {newest} -> {path}')


def mirror(root, repo, product, only):
    """The mirrored git directory of `repo`, or None when `product` is skipped."""
    git = os.path.join(root, repo, 'repo')
    if only and product not in only:
        return None
    if not os.path.isdir(git):
        print(f'{product}: skipped (no {git})')
        return None
    return git


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else '/work/.mirror'
    only = set(sys.argv[2:])
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for product, (repo, web, rx, ver, cyc, names) in PRODUCTS.items():
        git = mirror(root, repo, product, only)
        if not git:
            continue
        lines = {}  # cycle -> list of (version, date, tag)
        newest = ''
        for name, date in tags(git):
            m = re.match(rx, name)
            if not m:
                continue
            v = ver(m)
            lines.setdefault(cyc(v), []).append((v, date, name))
            newest = max(newest, date)
        write(here, product, names, web.rsplit('/releases/', 1)[0] + ' (release tags)', newest,
              lines, lambda tag, web=web: web + tag)
    for product, (repo, path, web, cyc, names) in CHANGELOGS.items():
        git = mirror(root, repo, product, only)
        if not git:
            continue
        lines = {}
        newest = ''
        for v, date in changelog_releases(git, path):
            lines.setdefault(cyc(v), []).append((v, date, 'v' + v))
            newest = max(newest, date)
        write(here, product, names, web + ' (dated release lines)', newest, lines,
              lambda anchor, web=web: web + ' (' + anchor + ')')


if __name__ == '__main__':
    main()
