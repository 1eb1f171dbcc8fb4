// Bootstrap for worker threads in tests: loads TypeScript sources (tsx) with the @ixy/source
// export condition, as vitest does, then imports the worker module named in workerData.file.
import { register } from 'node:module';
import { workerData } from 'node:worker_threads';
import { register as registerTsx } from 'tsx/esm/api';

register(
  'data:text/javascript,' +
    encodeURIComponent(
      'export async function resolve(s, c, next) { return next(s, { ...c, conditions: [...c.conditions, "@ixy/source"] }); }',
    ),
);
registerTsx();
await import(workerData.file);
