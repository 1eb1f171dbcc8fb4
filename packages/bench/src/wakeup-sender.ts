// The sender of the wake-up latency case (hybrid.ts), in a worker thread: one frame stamped with
// the send time (ms since the time origin, float64 at byte 16) on a cable every `gapMs`.
import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { Cable } from '@ixy/sim';

const { cable: name, frames, gapMs } = workerData as { cable: string; frames: number; gapMs: number };
const cable = Cable.open(name);
const end = cable.attach(0);
const stamp = new Float64Array(1);
const bytes = new Uint8Array(stamp.buffer);
for (let i = 0; i < frames; i++) {
  await sleep(gapMs);
  const at = end.tx.reserve();
  if (at < 0) continue;
  end.tx.data.fill(0xff, at, at + 64); // broadcast, so the port's filter takes it
  stamp[0] = performance.timeOrigin + performance.now();
  end.tx.data.set(bytes, at + 16);
  end.tx.publish(64);
  end.tx.flush();
}
parentPort?.postMessage('done');
end.detach();
cable.close();
