#!/bin/sh
# In the guest: pktgen → fwd → capture on four NICs wired in pairs (0-1, 2-3):
#   pktgen on NIC0 → NIC1 = fwd's first port, fwd's second port NIC2 → NIC3 = capture.
# The apps are run unchanged, from this package's directory, with `--driver @ixy/e1000e`:
# the name resolves to this package (its own name), as it would from a project that installed
# it. Usage: testbed.sh <frames> <nic0> <nic1> <nic2> <nic3>; logs go to $IXY_GUEST_SHARE.
# With IXY_AS_USER=<uid>, the three apps run as that (unprivileged) user; with IXY_LOG_DIR,
# the logs go there instead.
set -u
n=$1; p0=$2; p1=$3; p2=$4; p3=$5
out=${IXY_LOG_DIR:-$IXY_GUEST_SHARE}
mkdir -p "$out"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
cd "$here/../.."
run="node"
if [ -n "${IXY_AS_USER:-}" ]; then
  ulimit -l unlimited # DMA memory is locked: the one limit an ordinary user must be given
  run="node $root/apps/fwd/test/guest/run-as.mjs $IXY_AS_USER"
fi
drv="--driver @ixy/e1000e"
$run "$root/apps/capture/dist/main.js" "$p3" $drv --verify --lossless --count "$n" --duration 240 > "$out/capture.log" 2>&1 &
cap=$!
$run "$root/apps/fwd/dist/main.js" "$p1" "$p2" $drv --lossless --duration 240 > "$out/fwd.log" 2>&1 &
fwd=$!
for i in $(seq 1 600); do
  grep -q 'receiving on' "$out/capture.log" && grep -q 'forwarding between' "$out/fwd.log" && break
  kill -0 $cap 2>/dev/null && kill -0 $fwd 2>/dev/null || break
  sleep 0.2
done
$run "$root/apps/pktgen/dist/main.js" "$p0" $drv --count "$n" --size 128 --rate "${IXY_PKTGEN_RATE:-0.002}" > "$out/pktgen.log" 2>&1
echo "pktgen=$?" > "$out/status"
wait $cap
echo "capture=$?" >> "$out/status"
kill -INT $fwd
wait $fwd
echo "fwd=$?" >> "$out/status"
