#!/bin/sh
# In the guest, by hand (not a test: a side-by-side of the drivers on QEMU's models, whose
# numbers measure QEMU under TCG more than the driver): ixy-pktgen on one NIC of a wired
# pair sends 60-byte frames as fast as the port takes them for <seconds>, ixy-capture on the
# other end receives (busy-polling, no verification). Prints both apps' totals.
# Usage: rate.sh <seconds> <tx nic> <rx nic>, from anywhere; e1000e NICs need no extra flag.
set -u
s=$1; tx=$2; rx=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
cd "$here/../.."
drv="--driver @ixy/e1000e"
node "$root/apps/capture/dist/main.js" "$rx" $drv ${BUSY---busy-poll} ${CAPTURE_ARGS:-} --duration $((s + 20)) --idle 3 > /tmp/rate-capture.log 2>&1 &
cap=$!
for i in $(seq 1 300); do grep -q 'receiving on' /tmp/rate-capture.log && break; sleep 0.2; done
node "$root/apps/pktgen/dist/main.js" "$tx" $drv ${BUSY---busy-poll} --duration "$s" ${PKTGEN_ARGS:-} > /tmp/rate-pktgen.log 2>&1
wait $cap
grep -h 'total\|Mpps' /tmp/rate-pktgen.log | tail -4
grep -h 'total\|Mpps' /tmp/rate-capture.log | tail -4
