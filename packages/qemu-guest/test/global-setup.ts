// Before any guest test: QEMU, a kernel and busybox must be there. As root on Debian (CI) they
// are installed; otherwise the run FAILS naming what is missing (guest tests never skip).
import { ensurePrerequisites } from '../src/prerequisites.js';

export default function setup(): void {
  const pre = ensurePrerequisites({ install: true, log: (line) => console.log(`[qemu-guest setup] ${line}`) });
  console.log(
    `[qemu-guest setup] ${pre.qemu}, kernel ${pre.kernel?.version}, ${pre.busybox}, /dev/kvm ${pre.kvm ? 'present' : 'absent'}`,
  );
}
