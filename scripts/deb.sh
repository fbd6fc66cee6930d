#!/bin/sh
# make deb: the Debian packages libkmqtt0, libkmqtt-dev and kmqtt-clients.
#  1. dpkg-buildpackage -b on a copy of the tree in <out>/src (debian/ is the
#     packaging; the worktree itself is never written to);
#  2. lintian on the result, failing on any warning or error;
#  3. scripts/deb_root_test.sh: the packages installed into an empty root and
#     run there.
# The .deb files end in <out> (default build/deb). Run as: sh deb.sh [out]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/build/deb}
jobs=${JOBS:-2}
version=$(sed -n 's/^#define KMQTT_VERSION_STRING "\(.*\)"$/\1/p' "$root/include/kmqtt/version.h")
arch=$(dpkg --print-architecture)

rm -rf "$out"
src=$out/src/kmqtt-$version
mkdir -p "$src"
# The tree as git sees it (tracked and new files, not what .gitignore names),
# or all of it but build/ outside a git checkout.
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$root" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$root" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\n" "$f"; done' sh) |
        tar -C "$root" -cf - -T - | tar -C "$src" -xf -
else
    tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$src" -xf -
fi

echo "deb: dpkg-buildpackage in $src"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b -J"$jobs") >"$out/build.log" 2>&1; then
    tail -40 "$out/build.log"
    echo "deb: dpkg-buildpackage failed (log: $out/build.log)" >&2
    exit 1
fi
grep -E "warning:" "$out/build.log" | grep -v "^dpkg-" | sed 's/^/deb: compiler /' || true
cp "$out"/src/*.deb "$out/"
changes=$out/src/kmqtt_${version}_${arch}.changes

echo "deb: lintian (fails on warnings)"
lintian --fail-on error,warning --display-info --tag-display-limit 0 "$changes"
echo "deb: lintian clean at warning level"

sh "$root/scripts/deb_root_test.sh" "$out" "$root"
ls -l "$out"/*.deb
