#!/usr/bin/env bash
# fetch-debs.sh OUTDIR PKG...
#
# Makes: OUTDIR/<pkg>_<version>_<arch>.deb for every PKG, as real Debian armhf
# packages (or arch "all" ones when a package has no armhf build).
# Why: the sample firmware images, fixtures and benchmarks are built from genuine
# ARM binaries, so probity is tested on what real firmware contains, not on
# synthetic blobs. Downloads go through `apt-get download` into a shared cache
# (.cache/debs/armhf/ at the repo root); a package whose candidate version is
# already cached is not downloaded again, so repeated runs are fast and work
# offline once the cache is filled. Files are hard-linked (or copied) into OUTDIR.
#
# Prints one summary line; the full path of each .deb is written to
# OUTDIR/.fetched (one per line, in argument order) for callers to consume.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR PKG..." >&2; exit 2; }
[ "$#" -ge 2 ] || usage
outdir=$1; shift

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache="$root/.cache/debs/armhf"
mkdir -p "$cache" "$outdir"

# Serialise concurrent runs sharing the cache.
exec 9>"$cache/.lock"
flock 9

# The file name apt-get download gives a package: name_version_arch.deb with the
# epoch's ':' escaped as %3a.
deb_name() { printf '%s_%s_%s.deb' "$1" "${2//:/%3a}" "$3"; }

# Resolve every PKG to "name version arch" from the local apt lists (no network),
# in two batched apt-cache calls (one call per package is ~1 s each): PKG:armhf
# first, then PKG:all for architecture-independent packages.
declare -A res=()
resolve_all() {
  local a=$1; shift
  local name ver arch
  while read -r name ver arch; do
    [ "$arch" = "$a" ] && [ -z "${res[$name]:-}" ] && res[$name]="$ver $arch"
  done < <(apt-cache show --no-all-versions "${@/%/:$a}" 2>/dev/null |
           awk -F': ' '$1=="Package"{p=$2} $1=="Version"{v=$2} $1=="Architecture"{a=$2}
                       /^$/{if(p!="")print p, v, a; p=""} END{if(p!="")print p, v, a}')
}
resolve_all armhf "$@"
declare -a rest=()
for p in "$@"; do [ -n "${res[$p]:-}" ] || rest+=("$p"); done
[ "${#rest[@]}" -eq 0 ] || resolve_all all "${rest[@]}"

# Newest cached file for PKG, whatever its version (offline fallback when the
# apt lists are missing or have moved on while the network is unavailable).
cached_any() {
  local f
  f=$(ls -1 "$cache/$1"_*_armhf.deb "$cache/$1"_*_all.deb 2>/dev/null | sort -V | tail -n1) || true
  [ -n "$f" ] && printf '%s\n' "$f"
}

declare -a files=() want=() want_idx=()
n_cached=0 n_dl=0
for p in "$@"; do
  if [ -n "${res[$p]:-}" ]; then
    read -r ver arch <<<"${res[$p]}"; name=$p
    f="$cache/$(deb_name "$name" "$ver" "$arch")"
    if [ -s "$f" ]; then
      n_cached=$((n_cached + 1))
    else
      want+=("$name:$arch"); want_idx+=("${#files[@]}")
    fi
    files+=("$f")
  elif f=$(cached_any "$p"); then
    n_cached=$((n_cached + 1)); files+=("$f")
  else
    echo "fetch-debs: no armhf/all package named '$p' (and none cached)" >&2
    exit 1
  fi
done

if [ "${#want[@]}" -gt 0 ]; then
  tmp=$(mktemp -d "$cache/.dl.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  dl() { (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$@" >/dev/null 2>"$tmp/.err"); }
  # One batch; if it fails (one bad name fails all), retry one by one.
  dl "${want[@]}" || for w in "${want[@]}"; do dl "$w" || true; done
  mv -f "$tmp"/*.deb "$cache"/ 2>/dev/null || true
  for i in "${!want[@]}"; do
    k=${want_idx[$i]}
    if [ -s "${files[$k]}" ]; then n_dl=$((n_dl + 1)); continue; fi
    # Offline, or the mirror moved on: an older cached version will do.
    p=${want[$i]%:*}
    if f=$(cached_any "$p"); then
      echo "fetch-debs: could not download ${want[$i]}; using cached $(basename "$f")" >&2
      files[$k]=$f
    else
      echo "fetch-debs: apt-get download ${want[$i]} failed: $(tail -n1 "$tmp/.err" 2>/dev/null)" >&2
      exit 1
    fi
  done
fi

: >"$outdir/.fetched"
for f in "${files[@]}"; do
  dst="$outdir/$(basename "$f")"
  if [ ! "$dst" -ef "$f" ]; then
    ln -f "$f" "$dst" 2>/dev/null || cp -f "$f" "$dst"
  fi
  printf '%s\n' "$dst" >>"$outdir/.fetched"
done
echo "fetch-debs: ${#files[@]} packages in $outdir ($n_cached cached, $n_dl downloaded, $((${#files[@]} - n_cached - n_dl)) older cached)"
