#!/bin/sh
# Links objects with the allocator wrapped (the __wrap_ symbols are defined
# nowhere, so a reference fails the link) and runs the result.
# Usage: nomalloc_link.sh CC OUTPUT "LINKFLAGS" SHARED_LIB_OR_EMPTY OBJECT...
set -eu
cc=$1
out=$2
flags=$3
lib=$4
shift 4
# shellcheck disable=SC2086
if [ -n "$lib" ]; then
    # The harness library's own malloc references are its business: under a
    # sanitizer they are unversioned, and ld would check them against the
    # wrap too. --allow-shlib-undefined skips only shared libraries' symbols;
    # references from the objects on the command line are still checked.
    "$cc" $flags -o "$out" "$@" "$lib" -Wl,--allow-shlib-undefined \
        -Wl,-rpath,"$(dirname "$lib")" -lpthread
else
    "$cc" $flags -o "$out" "$@" -lpthread
fi
echo "nomalloc: linked $(basename "$out") with $flags"
exec "$out"
