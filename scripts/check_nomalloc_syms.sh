#!/bin/sh
# Fails if any of the given object files (the kmqtt library built with
# KMQTT_NO_MALLOC) has an undefined reference to a C library allocator.
# Usage: check_nomalloc_syms.sh NM OBJECT...
set -eu
nm_tool=$1
shift
bad=0
n=0
for o in "$@"; do
    n=$((n + 1))
    hits=$("$nm_tool" -u "$o" | awk '{print $NF}' |
        grep -E '^(malloc|calloc|realloc|free|strdup|strndup|aligned_alloc|posix_memalign|memalign|valloc|reallocarray)(@.*)?$' || true)
    if [ -n "$hits" ]; then
        echo "nomalloc: $(basename "$o") refers to: $hits" >&2
        bad=1
    fi
done
[ "$n" -gt 0 ] || { echo "nomalloc: no objects given" >&2; exit 1; }
[ $bad = 0 ] && echo "nomalloc: $n objects, none refers to malloc/calloc/realloc/free/strdup"
exit $bad
