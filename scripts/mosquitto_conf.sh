#!/bin/sh
# Writes a mosquitto config for a private test broker to stdout:
#   sh scripts/mosquitto_conf.sh DIR PORT
# Loopback only, anonymous, no persistence, log in DIR/mosquitto.log. Never
# touches the system mosquitto or its config.
set -eu
dir=$1
port=$2
cat <<CONF
listener $port 127.0.0.1
allow_anonymous true
persistence false
set_tcp_nodelay true
log_dest file $dir/mosquitto.log
log_type error
log_type warning
log_type notice
log_type information
connection_messages true
CONF
# As root, mosquitto would switch to user "mosquitto", who cannot write DIR.
if [ "$(id -u)" = 0 ]; then
    echo "user root"
fi
