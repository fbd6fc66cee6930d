#!/bin/sh
# bench/sizes.sh [BIN_DIR] [RUNS]: messages of 1 MiB, 16 MiB and 100 MiB
# through a local mosquitto (127.0.0.1, a free port, started here), received
# by kmqtt-sub (defaults: no --max-size) and by mosquitto_sub, each with
# -C 1 -N. Per size and subscriber: the best of RUNS (default 3) wall times
# from the start of mosquitto_pub -f to the subscriber's exit, its peak RSS
# (/usr/bin/time %M) and whether the bytes arrived intact (cmp). Timing on a
# shared machine is noisy: compare the columns, not the runs.
set -eu
bin=${1:-build/bin}
runs=${2:-3}
tmp=$(mktemp -d)
trap 'kill "$mpid" 2>/dev/null || true; rm -rf "$tmp"' EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$tmp/m.conf"
mosquitto -c "$tmp/m.conf" >"$tmp/m.log" 2>&1 &
mpid=$!
sleep 0.5
ms() { date +%s%3N; }
printf '%-8s %-14s %10s %12s %8s\n' size subscriber best_ms peak_rss_kb intact
for mib in 1 16 100; do
    head -c $((mib * 1048576)) /dev/urandom >"$tmp/p.bin"
    for sub in kmqtt-sub mosquitto_sub; do
        if [ "$sub" = kmqtt-sub ]; then cmd="$bin/kmqtt-sub"; else cmd=mosquitto_sub; fi
        best= rss= ok=yes
        r=0
        while [ $r -lt "$runs" ]; do
            /usr/bin/time -f %M -o "$tmp/rss" "$cmd" -h 127.0.0.1 -p "$port" -t "b/$mib" -C 1 -N \
                >"$tmp/out" 2>/dev/null &
            spid=$!
            sleep 0.3 # subscribed (the broker log would say; 0.3 s is plenty on loopback)
            t0=$(ms)
            mosquitto_pub -h 127.0.0.1 -p "$port" -t "b/$mib" -f "$tmp/p.bin"
            wait "$spid" || ok=no
            t1=$(ms)
            cmp -s "$tmp/out" "$tmp/p.bin" || ok=no
            el=$((t1 - t0))
            if [ -z "$best" ] || [ "$el" -lt "$best" ]; then best=$el; fi
            m=$(tail -1 "$tmp/rss")
            if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then rss=$m; fi
            r=$((r + 1))
        done
        printf '%-8s %-14s %10s %12s %8s\n' "${mib}MiB" "$sub" "$best" "$rss" "$ok"
    done
done
