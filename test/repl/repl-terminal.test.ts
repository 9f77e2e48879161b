import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';
import { NO_SKIP, USE_REAL_SERVICES } from '../helpers/services.js';

// `gradeops repl` on a real terminal (tmux): the prompt names the database, Tab completes a
// property of a value, and history survives a restart.

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

// A tmux server of its own, started with the world's environment, which its panes inherit.
const socket = `gradeops-repl-${process.pid}`;
let world: CliWorld;
let courseKey: string;

const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', env: world.env });
const screen = () => tmux('capture-pane', '-p', '-S', '-200', '-t', 'repl');

async function waitForScreen(pattern: RegExp, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (pattern.test(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`screen never showed ${pattern}; it shows:\n${last}`);
}

const prompts = (text: string) => text.match(/gradeops\([^)]*\)>/g)?.length ?? 0;

describe.skipIf(!hasTmux() && !NO_SKIP)('gradeops repl in a terminal (tmux)', () => {
  beforeAll(async () => {
    if (!hasTmux()) throw new Error('tmux is not installed (apt-get install tmux): the terminal tests cannot run');
    world = await cliWorld();
    const runs = await runCli(['runs', '--json'], world.env);
    courseKey = (JSON.parse(runs.stdout) as { runs: Array<{ courseKey: string }> }).runs[0].courseKey;
    tmux('new-session', '-d', '-s', 'repl', '-x', '150', '-y', '40', 'bash --norc --noprofile');
  }, 180_000);

  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      /* already gone */
    }
    await world?.close();
  });

  it('shows where it runs in the prompt, completes with Tab and remembers entries across sessions', async () => {
    tmux('send-keys', '-t', 'repl', `clear; node ${BIN} repl; echo "[exit $?]"`, 'Enter');
    const first = await waitForScreen(/gradeops\([^)]*\)>\s*$/m);
    expect(first).toMatch(world.mode === 'embedded' ? /gradeops\(embedded\)>/ : /gradeops\([^)]+ read-only\)>/);

    tmux('send-keys', '-t', 'repl', `const r = await run('${courseKey}')`, 'Enter');
    await waitForScreen(/run\('[^']+'\)\n.*gradeops\([^)]*\)>\s*$/m);
    tmux('send-keys', '-t', 'repl', 'r.courseK', 'Tab');
    await waitForScreen(/> r\.courseKey$/m);
    tmux('send-keys', '-t', 'repl', 'Enter');
    await waitForScreen(new RegExp(`^'${courseKey.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'$`, 'm'));

    tmux('send-keys', '-t', 'repl', '.exit', 'Enter');
    await waitForScreen(/\[exit 0\]/);
    const history = readFileSync(path.join(world.env.GRADEOPS_DATA_DIR!, 'repl_history'), 'utf8');
    expect(history).toContain(`const r = await run('${courseKey}')`);

    tmux('send-keys', '-t', 'repl', `clear; node ${BIN} repl; echo "[exit $?]"`, 'Enter');
    await waitForScreen(/gradeops\([^)]*\)>\s*$/m);
    const before = prompts(screen());
    // Up walks back through the previous session's entries (.exit, r.courseKey, then the run).
    for (let i = 0; i < 4 && !/> const r = await run\('[^']+'\)$/m.test(screen()); i++) {
      tmux('send-keys', '-t', 'repl', 'Up');
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    await waitForScreen(/> const r = await run\('[^']+'\)$/m, 5_000);
    expect(prompts(screen())).toBe(before);
    // Ctrl-D on an empty line leaves.
    tmux('send-keys', '-t', 'repl', 'C-u', 'C-d');
    await waitForScreen(/\[exit 0\]/);
  }, 180_000);

  // Embedded mode is writable from the start: the question is only asked of a real database.
  if (USE_REAL_SERVICES) {
    it('asks why before a writing console opens, and records the answer in the audit log', async () => {
      tmux('send-keys', '-t', 'repl', `clear; node ${BIN} repl --write; echo "[exit $?]"`, 'Enter');
      await waitForScreen(/Why do you need to write\?/);
      tmux('send-keys', '-t', 'repl', 'relinked account of dave', 'Enter');
      await waitForScreen(/gradeops\([^)]+ write\)>\s*$/m);
      tmux('send-keys', '-t', 'repl', '.exit', 'Enter');
      await waitForScreen(/\[exit 0\]/);
      const db = world.openDb();
      try {
        const row = await db('gradeops_audit_log').where({ action: 'console-write-session' }).orderBy('id', 'desc').first();
        expect(row.detail).toMatchObject({ reason: 'relinked account of dave' });
      } finally {
        await db.destroy();
      }
    }, 120_000);
  }
});
