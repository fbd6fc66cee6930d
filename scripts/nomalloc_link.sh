#!/bin/sh
# Links objects with the allocator wrapped (the __wrap_ symbols are defined
# nowhere, so a reference fails the link) and runs the result.
# Usage: nomalloc_link.sh CC OUTPUT "BUILDFLAGS" "WRAPFLAGS" SHARED_LIB_OR_EMPTY OBJECT...
#   BUILDFLAGS  the build's own C flags, link options and linker flags, as
#               CMake links a program of this build (--coverage brings in
#               gcov's runtime, -fsanitize=... a sanitizer's)
#   WRAPFLAGS   -Wl,--wrap=malloc ... for the allocator functions
# The wrap is applied in a relocatable link (-r) of OBJECT... alone, so it
# renames the references of our objects only; the final link with
# BUILDFLAGS adds runtimes (libgcov, a sanitizer's) whose own use of malloc
# is not ours to forbid.
set -eu
cc=$1
out=$2
flags=$3
wrap=$4
lib=$5
shift 5
# shellcheck disable=SC2086
"$cc" -r -nostdlib $wrap -o "$out.wrapped.o" "$@"
# shellcheck disable=SC2086
if [ -n "$lib" ]; then
    "$cc" $flags -o "$out" "$out.wrapped.o" "$lib" -Wl,-rpath,"$(dirname "$lib")" -lpthread
else
    "$cc" $flags -o "$out" "$out.wrapped.o" -lpthread
fi
echo "nomalloc: linked $(basename "$out") with $flags, our objects with $wrap"
exec "$out"
