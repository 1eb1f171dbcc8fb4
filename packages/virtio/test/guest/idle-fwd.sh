#!/bin/sh
# In the guest: ixy-fwd between two VFIO virtio ports, idle, then a burst through it:
#   pktgen on NIC0 → NIC1 = fwd's first port, fwd's second port NIC2 → NIC3 = capture.
# Measures the CPU that idle fwd and capture use (cpu.json), then sends the burst.
# Usage: idle-fwd.sh <frames> <idle seconds> <nic0> <nic1> <nic2> <nic3>; logs go to $IXY_GUEST_SHARE.
set -u
n=$1; idle=$2; p0=$3; p1=$4; p2=$5; p3=$6
out=$IXY_GUEST_SHARE
here=$(cd "$(dirname "$0")" && pwd)
checks="$here/../../build/guest/interrupt-checks.js"
cd "$here/../../../.."
node apps/capture/dist/main.js "$p3" --verify --count "$n" --duration 300 > "$out/capture.log" 2>&1 &
cap=$!
node apps/fwd/dist/main.js "$p1" "$p2" --duration 300 > "$out/fwd.log" 2>&1 &
fwd=$!
for i in $(seq 1 600); do
  grep -q 'receiving on' "$out/capture.log" && grep -q 'forwarding between' "$out/fwd.log" && break
  kill -0 $cap 2>/dev/null && kill -0 $fwd 2>/dev/null || break
  sleep 0.2
done
sleep 1
node "$checks" cpu cpu "$idle" $fwd $cap
echo "cpu=$?" > "$out/status"
node apps/pktgen/dist/main.js "$p0" --count "$n" --size 128 --rate 0.002 > "$out/pktgen.log" 2>&1
echo "pktgen=$?" >> "$out/status"
wait $cap
echo "capture=$?" >> "$out/status"
kill -INT $fwd
wait $fwd
echo "fwd=$?" >> "$out/status"
