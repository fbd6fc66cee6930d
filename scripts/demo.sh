#!/bin/sh
# make demo. The low-power device demo (50 wake cycles against a local
# mosquitto) arrives with the client; until then say so and succeed.
echo "kmqtt: the client demo arrives with the client (issue 3)."
echo "kmqtt: what exists today is the codec and tracked memory; run 'make test' to see them proven."
exit 0
