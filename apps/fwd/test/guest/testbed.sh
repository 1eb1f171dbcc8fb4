#!/bin/sh
# In the guest: pktgen → fwd → capture on four virtio NICs wired in pairs (0-1, 2-3):
#   pktgen on NIC0 → NIC1 = fwd's first port, fwd's second port NIC2 → NIC3 = capture.
# Usage: testbed.sh <frames> <nic0> <nic1> <nic2> <nic3>; logs go to $IXY_GUEST_SHARE.
# With IXY_AS_USER=<uid>, the three apps run as that (unprivileged) user. With IXY_STALL_FWD=1,
# fwd is stopped (SIGSTOP) until half a second after pktgen starts sending: the frames back up
# into pktgen's TX ring, which must still be sent, not discarded, when pktgen ends.
set -u
n=$1; p0=$2; p1=$3; p2=$4; p3=$5
out=$IXY_GUEST_SHARE
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../../../.."
run="node --no-memory-reducer" # as the apps' bin scripts start them
if [ -n "${IXY_AS_USER:-}" ]; then
  ulimit -l unlimited # DMA memory is locked: the one limit an ordinary user must be given
  run="node --no-memory-reducer $here/run-as.mjs $IXY_AS_USER"
fi
$run apps/capture/dist/main.js "$p3" --verify --lossless --count "$n" --duration 240 > "$out/capture.log" 2>&1 &
cap=$!
$run apps/fwd/dist/main.js "$p1" "$p2" --lossless --duration 240 > "$out/fwd.log" 2>&1 &
fwd=$!
for i in $(seq 1 600); do
  grep -q 'receiving on' "$out/capture.log" && grep -q 'forwarding between' "$out/fwd.log" && break
  kill -0 $cap 2>/dev/null && kill -0 $fwd 2>/dev/null || break
  sleep 0.2
done
[ -n "${IXY_STALL_FWD:-}" ] && kill -STOP $fwd
$run apps/pktgen/dist/main.js "$p0" --count "$n" --size 128 --rate 0.002 > "$out/pktgen.log" 2>&1 &
gen=$!
if [ -n "${IXY_STALL_FWD:-}" ]; then
  for i in $(seq 1 600); do
    grep -q 'sending' "$out/pktgen.log" && break
    kill -0 $gen 2>/dev/null || break
    sleep 0.1
  done
  sleep 0.5
  kill -CONT $fwd
fi
wait $gen
echo "pktgen=$?" > "$out/status"
wait $cap
echo "capture=$?" >> "$out/status"
kill -INT $fwd
wait $fwd
echo "fwd=$?" >> "$out/status"
