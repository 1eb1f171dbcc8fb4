// Every app's --help as a user reads it in an 80-column terminal: commander wraps the text (no
// hand-made line breaks inside a paragraph), and each option shows at most one default, never
// a meaningless "(default: false)" or "(default: [])".
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const apps = ['fwd', 'pktgen', 'capture', 'setup'];

describe.each(apps)('ixy-%s --help', (app) => {
  const main = fileURLToPath(new URL(`../../${app}/dist/main.js`, import.meta.url));
  const help = spawnSync(process.execPath, [main, '--help'], {
    encoding: 'utf8',
    env: { ...process.env, COLUMNS: '80' },
  });

  it('is printed, with exit code 0', () => {
    expect(help.status, help.stderr).toBe(0);
    expect(help.stdout).toMatch(new RegExp(`^Usage: ixy-${app} `));
  });

  it('is printed the same when the app runs as its directory (`node apps/<app>`, as the READMEs do)', () => {
    const dir = fileURLToPath(new URL(`../../${app}`, import.meta.url));
    const viaDir = spawnSync(process.execPath, [dir, '--help'], {
      encoding: 'utf8',
      env: { ...process.env, COLUMNS: '80' },
    });
    expect(viaDir.status, viaDir.stderr).toBe(0);
    expect(viaDir.stdout).toBe(help.stdout);
  });

  it('fits 80 columns down to the options, wrapped once', () => {
    const upToOptions = help.stdout.slice(0, help.stdout.indexOf('-h, --help'));
    for (const line of upToOptions.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
    // a paragraph wrapped twice leaves a short line followed by a continuation line
    const lines = upToOptions.split('\n');
    for (let i = 0; i + 1 < lines.length; i++) {
      const [a, b] = [lines[i], lines[i + 1]];
      if (a.length > 0 && a.length < 40 && /^[a-z(]/.test(b)) expect(`${a}\n${b}`).toBe('a paragraph wrapped once');
    }
  });

  it('shows each option with at most one default, and none that says nothing', () => {
    const options = help.stdout.slice(help.stdout.indexOf('Options:'), help.stdout.indexOf('-h, --help'));
    const entries = options.split(/\n(?= {2}-)/);
    for (const entry of entries) {
      expect((entry.match(/default:/g) ?? []).length, entry).toBeLessThanOrEqual(1);
      expect(entry).not.toMatch(/\(default: (false|\[\])\)/);
    }
  });
});
