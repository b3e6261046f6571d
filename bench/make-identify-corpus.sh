#!/usr/bin/env bash
# make-identify-corpus.sh [OUTDIR] [LIST]
#
# Makes the labelled identification corpus bench/identify-recall.sh measures probity on: real
# Debian binary packages of two releases (bullseye, bookworm) and five architectures (armhf,
# arm64, mipsel, mips64el, i386), one directory per package (OUTDIR/tree/<release>_<arch>_<pkg>),
# every ELF stripped as firmware ships it (llvm-strip --strip-all: no .symtab, .dynsym and the
# GNU version sections stay, as they must for the dynamic loader), documentation removed, and a
# label per package in OUTDIR/labels.tsv: the product it is and the upstream part of its .deb
# Version. LIST (default bench/identify-corpus.list) says which packages and products.
# Each package is taken from both releases (unless its line names one), on an architecture that
# rotates with the line number, so every architecture is covered without downloading everything
# five times. Apt runs with a private configuration and lists under OUTDIR/.apt (the system's
# sources and lists are untouched); .debs are cached in OUTDIR/debs, reruns are offline.
# Nothing here belongs in git: OUTDIR defaults to build/identify-corpus.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../build/identify-corpus}
list=${2:-$here/identify-corpus.list}
mkdir -p "$out" && out=$(cd "$out" && pwd)
arches=(armhf arm64 mipsel i386 mips64el)
releases=(bullseye bookworm)
strip_tool=$(command -v llvm-strip || command -v llvm-strip-16 || command -v llvm-strip-14 || true)
[ -n "$strip_tool" ] || { echo "make-identify-corpus: llvm-strip is needed (apt-get install llvm)" >&2; exit 2; }

apt_opts() {  # private apt configuration of one release
  local rel=$1 apt="$out/.apt/$1" a
  local o=(-o "Dir::Etc::sourcelist=$apt/sources.list" -o "Dir::Etc::sourceparts=-"
           -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
           -o "Dir::State::status=/dev/null" -o "APT::Architecture=${arches[0]}"
           -o "APT::Sandbox::User=root" -qq)
  for a in "${arches[@]}"; do o+=(-o "APT::Architectures::=$a"); done
  printf '%s\n' "${o[@]}"
}

for rel in "${releases[@]}"; do
  apt="$out/.apt/$rel"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$out/debs/$rel"
  echo "deb [arch=$(IFS=,; echo "${arches[*]}")] http://deb.debian.org/debian $rel main" >"$apt/sources.list"
  if [ ! -e "$apt/lists/.done" ]; then
    mapfile -t opts < <(apt_opts "$rel")
    apt-get "${opts[@]}" update && touch "$apt/lists/.done"
  fi
done
# The architectures each release's mirror still has (bullseye's mips ports left deb.debian.org).
declare -A rel_arches
for rel in "${releases[@]}"; do
  have=$(grep -m1 '^Architectures:' "$out/.apt/$rel/lists/"*_dists_"${rel}"_InRelease)
  rel_arches[$rel]=""
  for a in "${arches[@]}"; do
    [[ " $have " == *" $a "* ]] && rel_arches[$rel]+="$a "
  done
done

# upstream VERSION: no epoch, no Debian revision, no repack suffix
# ("1:1.2.13.dfsg-1" -> "1.2.13", "4.6.0+p1-0+deb11u2" -> "4.6.0", "3.0.20-1~deb12u2" -> "3.0.20");
# the same rule as tests/integration/scan_test.cpp. A "+really" version is what the package
# really holds ("3.3.4+dfsg+really3.3.3-1" -> "3.3.3": Debian reverted to 3.3.3).
upstream() {
  local v=${1#*:}
  [[ $1 == *:* ]] || v=$1
  [[ $v == *-* ]] && v=${v%-*}
  [[ $v == *+really* ]] && v=${v##*+really}
  v=${v%%+*}; v=${v%%~*}; v=${v%%.dfsg*}
  printf '%s' "$v"
}

# Which (release, architecture, package) triples the list asks for.
plan=()
line=0
while read -r spec product also; do
  [[ -z $spec || $spec == \#* ]] && continue
  line=$((line + 1))
  only=""
  if [[ $spec == *:* ]]; then only=${spec%%:*}; spec=${spec#*:}; fi
  for r in 0 1; do
    rel=${releases[$r]}
    [[ -n $only && $only != "$rel" ]] && continue
    read -r -a avail <<<"${rel_arches[$rel]}"
    arch=${avail[$(((line + 2 * r) % ${#avail[@]}))]}
    plan+=("$rel $arch $spec $product ${also:-}")
  done
done <"$list"

find_deb() {  # find_deb RELEASE ARCH PACKAGE: the cached .deb, or nothing
  ls "$out/debs/$1/$3"_*_"$2".deb "$out/debs/$1/$3"_*_all.deb 2>/dev/null | head -n1 || true
}

# One apt-get download per release (building apt's cache of five architectures takes seconds);
# packages a release does not have are dropped from the batch and reported.
for rel in "${releases[@]}"; do
  want=()
  for p in "${plan[@]}"; do
    read -r r arch spec _ <<<"$p"
    [[ $r == "$rel" && -z $(find_deb "$rel" "$arch" "$spec") ]] && want+=("$spec:$arch")
  done
  mapfile -t opts < <(apt_opts "$rel")
  for _try in 1 2 3 4 5 6 7 8 9 10; do
    [ "${#want[@]}" -gt 0 ] || break
    if msg=$(cd "$out/debs/$rel" && apt-get "${opts[@]}" download "${want[@]}" 2>&1); then break; fi
    # "E: Unable to locate package X:arch", "E: Can't select candidate version from package X:arch"
    # An Architecture: all package is named without one: "pkg:i386" is retried as "pkg".
    mapfile -t bad < <(grep -oE "(locate package|from package) [^ ]+" <<<"$msg" | awk '{print $NF}' | sort -u)
    [ "${#bad[@]}" -gt 0 ] || { echo "$msg" >&2; exit 1; }
    keep=()
    for w in "${want[@]}"; do
      if ! printf '%s\n' "${bad[@]}" | grep -qxF "$w"; then keep+=("$w")
      elif [[ $w == *:* ]]; then keep+=("${w%%:*}")
      else echo "make-identify-corpus: $rel has no $w; skipped" >&2
      fi
    done
    want=("${keep[@]}")
  done
done

tmp_labels="$out/labels.tsv.tmp"
printf 'dir\tpackage\tproduct\tdeb_version\tupstream\trelease\tarch\talso\n' >"$tmp_labels"
n=0 skipped=0
for p in "${plan[@]}"; do
  read -r rel arch spec product also <<<"$p"
  deb=$(find_deb "$rel" "$arch" "$spec")
  if [ -z "$deb" ]; then skipped=$((skipped + 1)); continue; fi
  dir="${rel}_${arch}_${spec}"
  root="$out/tree/$dir"
  if [ ! -e "$root/.done" ]; then
    rm -rf "$root" && mkdir -p "$root"
    dpkg-deb -x "$deb" "$root"
    # Documentation is not firmware content and carries stray version strings (changelogs).
    rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" \
           "$root/usr/share/locale" "$root/usr/share/lintian" "$root/usr/share/bug"
    # Strip as firmware build systems do: executables and libraries --strip-all, kernel
    # modules and objects --strip-debug (a module needs its symbol table).
    while IFS= read -r -d '' f; do
      [ "$(head -c4 "$f" | od -An -tx1 | tr -d ' \n')" = 7f454c46 ] || continue
      case $f in
        *.ko|*.o|*.a) "$strip_tool" --strip-debug "$f" 2>/dev/null || true ;;
        *) "$strip_tool" --strip-all "$f" 2>/dev/null || true ;;
      esac
    done < <(find "$root" -type f -print0)
    touch "$root/.done"
  fi
  version=$(dpkg-deb -f "$deb" Version)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$dir" "$spec" "$product" "$version" \
    "$(upstream "$version")" "$rel" "$arch" "${also:-}" >>"$tmp_labels"
  n=$((n + 1))
done
mv "$tmp_labels" "$out/labels.tsv"
echo "make-identify-corpus: $n packages in $out/tree ($(du -sh "$out/tree" | cut -f1)), $skipped skipped; labels in $out/labels.tsv"
