#!/bin/sh
# /init of the @ixy/qemu-guest initramfs (busybox sh, PID 1). Packed by src/initramfs.ts.
#  1. keeps the kernel off the NICs: driver_override=none on every network-class PCI device
#     except those listed in ixy.keep= (before any NIC driver can load),
#  2. loads virtio-pci + 9p + overlay and mounts the host root (9p tag hostroot, read-only)
#     under a RAM overlay, so writes succeed and vanish,
#  3. loads the modules listed in ixy.modules=,
#  4. mounts the writable 9p share (tag share) at ixy.share= (the same path as on the host),
#  5. reserves ixy.huge= 2 MiB hugepages, mounts hugetlbfs on /mnt/huge and /dev/hugepages,
#  6. runs <share>/command.sh as root in a chroot of that root, writes its status to
#     <share>/exit-code and powers off.
/bin/busybox mkdir -p /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null

log() { read -r up _ < /proc/uptime; echo "ixy-guest: [$up] $*"; }
fail() { log "guest-error: $*"; poweroff -f; sleep 10; }
arg() { for w in $(cat /proc/cmdline); do case $w in "$1"=*) echo "${w#*=}"; return;; esac; done; echo "$2"; }
load() {
  for m in $(cat "/lib/modules/ixy/$1" 2>/dev/null || echo "?$1"); do
    case $m in "?"*) log "module ${m#?} is not in the initramfs"; continue;; esac
    [ -d "/sys/module/$m" ] || insmod "/lib/modules/$m.ko" || log "insmod $m failed"
  done
}

SHARE=$(arg ixy.share /share)
HUGE=$(arg ixy.huge 0)
KEEP=$(arg ixy.keep '')
MODS=$(arg ixy.modules '')
log "init"
# A KVM probe boot (see probeKvm in src/run.ts) stops here.
case " $(cat /proc/cmdline) " in *" ixy.probe=1 "*) log "probe ok"; poweroff -f;; esac

# 1. NICs: no kernel driver unless the test asked for one.
for d in /sys/bus/pci/devices/*; do
  case $(cat "$d/class") in
    0x02*) case ",$KEEP," in *",${d##*/},"*) ;; *) echo none > "$d/driver_override" ;; esac ;;
  esac
done

# 2. Host root, read-only, under a RAM overlay.
load base
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=512000,cache=loose hostroot /hostro || fail "cannot mount the host root over 9p"
R=/newroot
mount -t tmpfs -o mode=755 rw /rw && mkdir -p /rw/upper /rw/work
if ! mount -t overlay -o lowerdir=/hostro,upperdir=/rw/upper,workdir=/rw/work overlay $R; then
  log "overlay failed: read-only root with tmpfs on /tmp /run /mnt /var/tmp"
  mount --bind /hostro $R
  for p in /tmp /mnt /var/tmp; do mount -t tmpfs tmpfs $R$p; done
fi
mount -t proc proc $R/proc
mount -t sysfs sys $R/sys
mount -t devtmpfs dev $R/dev
mkdir -p $R/dev/pts $R/dev/shm $R/dev/hugepages $R/mnt/huge
mount -t devpts devpts $R/dev/pts
mount -t tmpfs shm $R/dev/shm
mount -t tmpfs tmpfs $R/run

log "host root mounted"

# 3. Modules the test asked for (their kernel drivers bind only to NICs in ixy.keep=).
for m in $(echo "$MODS" | tr , ' '); do load "$m"; done

# 4. Results share.
mkdir -p $R$SHARE 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 share $R$SHARE || fail "cannot mount the results share"

log "share mounted"

# 5. Hugepages.
if [ "$HUGE" -gt 0 ]; then
  echo "$HUGE" > /proc/sys/vm/nr_hugepages
  got=$(cat /proc/sys/vm/nr_hugepages)
  [ "$got" -ge "$HUGE" ] || log "only $got of $HUGE hugepages could be reserved"
fi
mount -t hugetlbfs nodev $R/mnt/huge
mount -t hugetlbfs nodev $R/dev/hugepages
hostname ixy-guest

# 6. The command.
log "command start"
env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  chroot $R /bin/sh "$SHARE/command.sh" < /dev/null > /dev/console 2>&1
rc=$?
echo $rc > $R$SHARE/exit-code
log "command exit $rc"
sync
umount $R$SHARE
poweroff -f
