// Worker-thread side of the cable thread test (loaded through ts-worker.mjs): attaches end 1
// of the cable and sends `count` frames with known bytes; reports errors to the parent.
import { parentPort, workerData } from 'node:worker_threads';
import { Cable } from '../src/cable.js';
import { testFrame } from './test-frame.js';

const { name, count, end } = workerData as { name: string; count: number; end: 0 | 1 };
const cable = Cable.open(name);
try {
  const me = cable.attach(end);
  parentPort?.postMessage('attached');
  for (let seq = 0; seq < count;) {
    if (me.tx.send(testFrame(seq))) seq++;
  }
  parentPort?.postMessage('sent');
} catch (err) {
  parentPort?.postMessage(`error: ${(err as Error).message}`);
} finally {
  cable.close();
}
