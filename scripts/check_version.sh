#!/bin/sh
# One version everywhere. include/kmqtt/version.h is the source (CMake reads
# it); the rest must agree with it:
#   - KMQTT_VERSION_STRING is MAJOR.MINOR.PATCH of the same header;
#   - debian/changelog's newest entry is that version (native package);
#   - CHANGELOG.md has a section for it;
#   - every man page's .TH says "kmqtt VERSION";
#   - debian/control's library package is libkmqtt<abi> for the SONAME
#     number KMQTT_ABI, with its .install and .symbols files.
# Run as: sh check_version.sh <source dir> <project version> <abi>
set -u
root=$1
project=$2
abi=$3
fails=0
ok() { echo "ok - $1"; }
bad() { echo "FAIL - $1"; fails=$((fails + 1)); }
h=$root/include/kmqtt/version.h

num() { sed -n "s/^#define KMQTT_VERSION_$1 \\([0-9]*\\)\$/\\1/p" "$h"; }
v=$(num MAJOR).$(num MINOR).$(num PATCH)
s=$(sed -n 's/^#define KMQTT_VERSION_STRING "\(.*\)"$/\1/p' "$h")
[ "$s" = "$v" ] && ok "KMQTT_VERSION_STRING $s" || bad "KMQTT_VERSION_STRING '$s' but the numbers say $v"
[ "$project" = "$v" ] && ok "CMake project version $project" || bad "CMake says $project, version.h $v"

d=$(sed -n '1s/^kmqtt (\([^)]*\)).*/\1/p' "$root/debian/changelog")
[ "$d" = "$v" ] && ok "debian/changelog $d" ||
    bad "debian/changelog's newest entry is '$d', not $v (a new entry: dch -v $v)"

if grep -q "^## \[$v\]" "$root/CHANGELOG.md"; then
    ok "CHANGELOG.md has a section for $v"
else
    bad "CHANGELOG.md has no '## [$v]' section"
fi

for m in "$root"/docs/man/*.[1-9]; do
    if grep -q "^\.TH .* \"kmqtt $v\"" "$m"; then
        ok "$(basename "$m") says kmqtt $v"
    else
        bad "$(basename "$m"): .TH does not say \"kmqtt $v\": $(grep '^\.TH' "$m")"
    fi
done

pkg=libkmqtt$abi
if grep -q "^Package: $pkg\$" "$root/debian/control" &&
    grep -q "^Depends: $pkg (= \${binary:Version})" "$root/debian/control"; then
    ok "debian/control: $pkg, and libkmqtt-dev depends on it"
else
    bad "debian/control has no package $pkg (KMQTT_ABI $abi) that libkmqtt-dev depends on"
fi
for f in "$pkg.install" "$pkg.symbols"; do
    [ -f "$root/debian/$f" ] && ok "debian/$f" || bad "debian/$f is missing"
done
[ $fails = 0 ] || { echo "$fails version checks failed"; exit 1; }
echo "version $v, SONAME libkmqtt.so.$abi: consistent"
