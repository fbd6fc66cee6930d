#!/bin/sh
# The core (codec, session, client, nano, common and the public headers) may include only these C99 headers: no OS, no
# libc I/O, no allocator. Run as a test so a stray #include fails CI.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
allowed='^(string|stdint|stddef|stdbool)\.h$'
bad=0
for f in "$root"/src/codec/*.[ch] "$root"/src/common/*.[ch] "$root"/src/session/*.[ch] \
    "$root"/src/client/*.[ch] "$root"/src/nano/*.[ch] "$root"/include/kmqtt/nano.h \
    "$root"/include/kmqtt/codec.h "$root"/include/kmqtt/error.h \
    "$root"/include/kmqtt/session.h "$root"/include/kmqtt/client.h "$root"/include/kmqtt/port.h \
    "$root"/include/kmqtt/mem.h; do
    [ -f "$f" ] || continue
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*<\([^>]*\)>.*/\1/p' "$f"); do
        if ! echo "$h" | grep -Eq "$allowed"; then
            echo "core header check: $f includes <$h>" >&2
            bad=1
        fi
    done
done
[ $bad = 0 ] && echo "core header check: the core includes only string.h, stdint.h, stddef.h, stdbool.h"
exit $bad
