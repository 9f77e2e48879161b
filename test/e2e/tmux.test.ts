import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, embeddedEnv, runCli, tempDataDir } from '../helpers/cli.js';
import { NO_SKIP } from '../helpers/services.js';

// The console as a person sees it: a real terminal (tmux), keys sent, the screen read back.

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

const session = `gradeops-e2e-${process.pid}`;
let dataDir: string;
let env: NodeJS.ProcessEnv;

const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
// The visible pane plus its scrollback: long lists scroll, as they would for a person.
const screen = () => tmux('capture-pane', '-p', '-S', '-300', '-t', session);

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

// The command line ends by echoing its exit code and a number of its own, so a test waits for
// the whole output of THIS command (the summary table prints after the summary line), never for
// the sentinel a previous command left in the scrollback.
let commands = 0;
function runInPane(args: string[]): RegExp {
  commands += 1;
  const vars = ['GRADEOPS_DATA_DIR', 'GRADEOPS_OPERATOR'].map((k) => `${k}='${env[k]}'`).join(' ');
  tmux('clear-history', '-t', session);
  tmux(
    'send-keys',
    '-t',
    session,
    `clear; env -u DATABASE_URL -u REDIS_URL ${vars} node ${BIN} ${args.map((a) => `'${a}'`).join(' ')}; echo "[exit $? #${commands}]"`,
    'Enter',
  );
  return new RegExp(`\\[exit \\d+ #${commands}\\]`);
}

// A machine without tmux skips this, except in CI (GRADEOPS_TEST_NO_SKIP), where it fails:
// .ci/run installs tmux.
describe.skipIf(!hasTmux() && !NO_SKIP)('gradeops in a terminal (tmux)', () => {
  let courseKey: string;

  beforeAll(async () => {
    if (!hasTmux()) throw new Error('tmux is not installed (apt-get install tmux): the terminal tests cannot run');
    dataDir = tempDataDir();
    env = embeddedEnv(dataDir);
    const runs = JSON.parse((await runCli(['runs', '--json'], env)).stdout).runs as Array<{
      courseKey: string;
      canFreeze: boolean;
      gradingStatus: string;
      backend: string;
      title: string;
    }>;
    courseKey = runs.find(
      (r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg' && r.title.startsWith('Microeconomics'),
    )!.courseKey;
    tmux('new-session', '-d', '-s', session, '-x', '160', '-y', '45', 'bash --norc --noprofile');
  }, 120_000);

  afterAll(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      /* already gone */
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  // With no subcommand a terminal gets the console (test/e2e/console.test.ts); the table is `runs`.
  it('lists the course runs', async () => {
    const text = await waitForScreen(runInPane(['runs']));
    expect(text).toMatch(/\d+ course runs/);
    expect(text).toContain('grading status');
    expect(text).toContain('EMBEDDED DEMO');
  });

  it('freezes a run with a live progress view and a summary listing the failed learners', async () => {
    const text = await waitForScreen(runInPane(['freeze', courseKey]));
    expect(text).toMatch(/stays pending|is complete/);
    expect(text).toMatch(/\[exit 0 #\d+\]/); // failed learners are reported, not an error of the command
    expect(text).toMatch(/Freezing .* — \d+\/\d+ \(100%\)/);
    expect(text).toMatch(/frozen \d+ +failed \d+ +remaining 0/);
    expect(text).toMatch(/bob +│ invalid-credentials/);
  });

  it('asks for the course key to be typed before a revert, and reverts once it is', async () => {
    const finished = runInPane(['revert-freeze', courseKey]);
    await waitForScreen(/Type the course key/);
    tmux('send-keys', '-t', session, '-l', courseKey);
    tmux('send-keys', '-t', session, 'Enter');
    const text = await waitForScreen(finished);
    expect(text).toMatch(/\[exit 0 #\d+\]/);
    expect(text).toMatch(/undo with: gradeops restore-freeze \d+/);
    expect(text).toMatch(/reverted .* deleted \d+ FinalGrade/);
  });
});
