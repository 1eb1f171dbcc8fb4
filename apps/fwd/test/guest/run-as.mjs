// In the guest: runs an app as an ordinary user. `node run-as.mjs <uid> <app.js> [args...]`
// drops to uid/gid <uid> (from root), then runs the app with its own argv.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [uid, app, ...args] = process.argv.slice(2);
process.setgroups([]);
process.setgid(Number(uid));
process.setuid(Number(uid));
console.log(`(running as uid ${process.getuid()}, gid ${process.getgid()})`);
const path = resolve(app);
process.argv = [process.argv[0], path, ...args];
await import(pathToFileURL(path).href);
