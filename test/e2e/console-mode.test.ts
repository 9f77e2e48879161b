import { describe, expect, it } from 'vitest';
import { embeddedEnv, runCli, tempDataDir } from '../helpers/cli.js';

// The console never draws into a pipe (issue #7): with no subcommand and no terminal, gradeops
// prints its help; `gradeops tui` without a terminal refuses in one line. Neither writes an escape.

const ESCAPE = String.fromCharCode(27);

describe('mode selection without a terminal', () => {
  it('gradeops with no subcommand, piped, prints the help (and names tui), with no escape codes', async () => {
    const res = await runCli([], embeddedEnv(tempDataDir()));
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: gradeops');
    expect(res.stdout).toMatch(/\btui\b.*open the Ink console/);
    expect(res.stdout + res.stderr).not.toContain(ESCAPE);
  });

  it('gradeops tui, piped, refuses in one line naming the way out, exit 2', async () => {
    const res = await runCli(['tui'], embeddedEnv(tempDataDir()));
    expect(res.code).toBe(2);
    expect(res.stderr.trim().split('\n')).toEqual([
      'error: the console needs a terminal (stdin and stdout), and this is a pipe or a file — run it in a terminal, or use a subcommand (`gradeops --help` lists them)',
    ]);
    expect(res.stdout + res.stderr).not.toContain(ESCAPE);
  });

  it('--read-only alone, piped, is still the help, not the console', async () => {
    const res = await runCli(['--read-only'], embeddedEnv(tempDataDir()));
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('Usage: gradeops');
  });
});
