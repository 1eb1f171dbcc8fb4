import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A case of the C comparison in a process of its own that serves runs on request, one line in
 * and one line out (`cref serve ...`, `ts-case.js ... serve`): the bench keeps the C reference
 * and both TypeScript modes alive and takes turns between them run by run, so that all three
 * meet the machine in the same second.
 */
export class CaseProcess {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly lines: AsyncIterator<string>;
  private stderr = '';
  private readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
  ) {
    this.child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (chunk: string) => {
      if (this.stderr.length < 4000) this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code) => resolve(code));
      this.child.on('error', (err) => {
        this.stderr += err.message;
        resolve(null);
      });
    });
    this.lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }

  /** The next line the process prints; throws with its stderr if it ended instead. */
  async next(): Promise<string> {
    const got = await this.lines.next();
    if (got.done === true) {
      const code = await this.exited;
      throw new Error(`${this.name} ended (exit ${code}): ${this.stderr.trim().split('\n').slice(0, 5).join(' | ')}`);
    }
    return got.value;
  }

  /** Sends one request line and returns the process's answer. */
  async request(line: string): Promise<string> {
    this.child.stdin.write(`${line}\n`);
    return this.next();
  }

  /** Ends its input and returns what it prints before it exits, and its exit code. */
  async finish(): Promise<{ tail: string[]; code: number | null }> {
    this.child.stdin.end();
    const tail: string[] = [];
    for (;;) {
      const got = await this.lines.next();
      if (got.done === true) break;
      tail.push(got.value);
    }
    return { tail, code: await this.exited };
  }

  /** Stops it (after an error elsewhere). */
  kill(): void {
    this.child.kill();
  }

  get errorOutput(): string {
    return this.stderr.trim();
  }
}
