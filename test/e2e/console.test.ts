import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BIN, embeddedEnv, runCli, startCli, tempDataDir } from '../helpers/cli.js';
import { cliWorld } from '../helpers/cli-world.js';
import { NO_SKIP, USE_REAL_SERVICES } from '../helpers/services.js';

// The console as an operator drives it (issue #7): `gradeops` with no subcommand in a real
// terminal (tmux, 80×24, a tmux server of its own), keys sent, the screen read back at each step,
// on the embedded demo.

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}

const socket = `gradeops-tui-e2e-${process.pid}`;
let session = 'console';
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitForScreen(pattern: RegExp | string, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    last = screen();
    if (typeof pattern === 'string' ? last.includes(pattern) : pattern.test(last)) return last;
    await pause(100);
  }
  throw new Error(`the screen never showed ${String(pattern)}; it shows:\n${last}`);
}

/** Keys as tmux names them (Enter, Escape, C-c) or single characters; a pause after each, as a person would. */
async function press(...keys: string[]): Promise<void> {
  for (const key of keys) {
    tmux('send-keys', '-t', session, key);
    await pause(150);
  }
}

/** Text typed into a field, then a pause before the next key. */
async function type(text: string): Promise<void> {
  tmux('send-keys', '-t', session, '-l', text);
  await pause(400);
}

let dataDir: string;
let env: NodeJS.ProcessEnv;
let commands = 0;
let running: RegExp | null = null;

/** Starts the console in the pane; the returned pattern matches once it has exited, with its exit code. */
function startConsole(extra: Record<string, string> = {}): RegExp {
  commands += 1;
  const vars = Object.entries({ GRADEOPS_DATA_DIR: env.GRADEOPS_DATA_DIR!, GRADEOPS_OPERATOR: 'e2e-operator', ...extra })
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${v}'`)
    .join(' ');
  tmux('send-keys', '-t', session, 'clear', 'Enter');
  tmux('clear-history', '-t', session);
  // After the console exits, one line: its exit code and the terminal modes it left (stty), so a
  // test can see raw mode is off.
  tmux(
    'send-keys',
    '-t',
    session,
    `env -u DATABASE_URL -u REDIS_URL ${vars} node ${BIN}; code=$?; echo "[exit $code #${commands}] modes: $(stty -a | grep -oE -- '-?(icanon|echo) ' | tr -d '\\n')"`,
    'Enter',
  );
  running = new RegExp(`\\[exit (\\d+) #${commands}\\] modes: (.*)$`, 'm');
  return running;
}

/** The terminal as the shell sees it after the console: main screen, cursor visible, line mode and echo on. */
function expectTerminalRestored(text: string): void {
  expect(tmux('display', '-p', '-t', session, '#{alternate_on} #{cursor_flag}').trim()).toBe('0 1');
  expect(text).toMatch(/\] modes: icanon echo$/m);
}

describe.skipIf(!hasTmux() && !NO_SKIP)('the console in a terminal (tmux, 80×24, embedded demo)', () => {
  beforeAll(async () => {
    if (!hasTmux()) throw new Error('tmux is not installed (apt-get install tmux): the terminal tests cannot run');
    dataDir = tempDataDir();
    env = embeddedEnv(dataDir);
    // The first start seeds the demo world; done here so the console opens at once in the test.
    const seeded = await runCli(['runs', '--json'], env);
    expect(seeded.code, seeded.stderr).toBe(0);
    tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', 'bash --norc --noprofile');
  }, 180_000);

  // A test that failed half-way leaves the console open: Ctrl-C twice ends it before the next test.
  afterEach(async () => {
    if (running && !running.test(screen())) {
      await press('C-c', 'C-c');
      await waitForScreen(running, 30_000).catch(() => {});
    }
    running = null;
  });

  afterAll(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      /* already gone */
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('home → filter and open a run → freeze wizard, live progress, summary → find dave and resync him → q', async () => {
    // Slow enough edX to see the freeze run.
    const exited = startConsole({ GRADEOPS_SIM_LATENCY_MS: '60' });

    // 1. Home: where we are, the course runs, the keys.
    let text = await waitForScreen(/\d+ course runs ·/);
    expect(text).toContain('gradeops │ embedded demo │ operator e2e-operator');
    expect(text).toMatch(/72 course runs · ! \d+ freezable and not complete/);
    expect(text).toMatch(/course +course key +freeze \(UTC\) +can +status +frozen\/elig +failed/);
    expect(text).toContain('/ filter');
    expect(text).toContain('q quit');
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);

    // 2. Filter to a run and open it (typing once the field is there, as a person would).
    await press('/');
    await waitForScreen('type to filter');
    await type('14.100x+2T2026');
    text = await waitForScreen('1 of 72');
    expect(text).toMatch(/› .*14\.100x\+2T2026 +2026-11-03 +yes +not started +0\/33/);
    await press('Enter');
    text = await waitForScreen(/eligible 33 · frozen 0 · failed 0 · remaining 33/);
    expect(text).toContain('course-v1:MITx+14.100x+2T2026 — Microeconomics');
    expect(text).toContain('no freeze running');

    // 3. The freeze wizard: checklist, start, live progress, summary.
    await press('f');
    text = await waitForScreen('ready to freeze');
    for (const check of ['Freeze date set and past', 'Not complete', 'No freeze running', 'Redis reachable', 'edX reachable'])
      expect(text).toMatch(new RegExp(`✓ ${check}`));
    expect(text).toContain('start the freeze: 33 learner(s)');
    await press('Enter');
    text = await waitForScreen(/Freezing course-v1:MITx\+14\.100x\+2T2026 — \d+\/33/);
    expect(text).toMatch(/frozen \d+ +failed \d+ +remaining \d+/);
    text = await waitForScreen('stays pending', 120_000);
    expect(text).toMatch(/eligible 33 · frozen 30 \(this run 30\) · failed 3 · remaining 0/);
    expect(text).toMatch(/invalid-credentials \(2\)[\s\S]*bob/);
    expect(text).toMatch(/conflict \(1\)[\s\S]*erin/);
    expect(text).toContain('retry the 3 failed learner(s)');
    expect(text).toContain('run again: complete the run without the 3 failed learner(s)');

    // 4. Find dave, pick his run whose FinalGrade differs from edX, resync it with his username typed.
    await press('u');
    await waitForScreen('Find a learner by');
    await type('dave');
    text = await waitForScreen('dave@example.com');
    await press('Enter');
    text = await waitForScreen(/course run\(s\) · ≠ 1 whose FinalGrade differs/);
    const runRows = text.split('\n').filter((l) => /^[›! ] .*\dT20\d\d /.test(l));
    const differing = runRows.findIndex((l) => l.includes('≠'));
    expect(differing, `no run of dave is marked ≠:\n${text}`).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < differing; i++) await press('j');
    await press('Enter');
    text = await waitForScreen('→ next: review and apply the difference');
    expect(text).toMatch(/! FinalGrade +complete, grade 0\.38, passed false/);
    await press('s');
    text = await waitForScreen('type dave:');
    expect(text).toMatch(/grade +0\.38 +0\.82 +≠ differs/);
    expect(text).toMatch(/passed +false +true +≠ differs/);
    await type('dave');
    await press('Enter');
    text = await waitForScreen("applied: dave's FinalGrade");
    expect(text).toMatch(/#\d+ · resync · by e2e-operator/);
    expect(text).toContain('side effects that followed');

    // 5. q: no freeze is running any more, so it quits at once and gives the terminal back.
    await press('q');
    text = await waitForScreen(exited);
    expect(exited.exec(text)?.[1]).toBe('0');
    expectTerminalRestored(text);
  }, 240_000);

  it('the help overlay names every key of the screen with quit; read-only hides writes and says so in the header', async () => {
    const exited = startConsole({ GRADEOPS_READ_ONLY: '1' });
    let text = await waitForScreen(/\d+ course runs ·/);
    expect(text).toContain('│ read-only');
    expect(text.trimEnd().split('\n').at(-1)).not.toMatch(/freeze|revert|complete/);
    await press('?');
    text = await waitForScreen('Keys on Course runs');
    expect(text).toContain('quit');
    expect(text).not.toContain('freeze wizard');
    await press('Escape', 'f');
    await waitForScreen('read-only: freeze is turned off');
    await press('q');
    text = await waitForScreen(exited);
    expectTerminalRestored(text);
  }, 120_000);

  it('p → the exam runs → a checklist: a CSV with a bad row shows its line and writes nothing', async () => {
    const exited = startConsole();
    await waitForScreen(/\d+ course runs ·/);
    await press('p');
    let text = await waitForScreen(/\d+ exam runs ·/);
    expect(text).toMatch(/course +exam run +grades avail\. +authorized +grades +released/);
    await press('Enter');
    text = await waitForScreen('adjusted grades received');
    expect(text).toContain('certificates generated');
    await press('Enter');
    await waitForScreen('CSV path:');
    await type(path.resolve('test/fixtures/exams/demo-exam-grades-one-bad-row.csv'));
    await press('Enter');
    text = await waitForScreen('line 3:');
    expect(text).toContain('line 3: grade must be pass or fail, not "Passed"');
    await press('q');
    text = await waitForScreen(exited);
    expect(exited.exec(text)?.[1]).toBe('0');
    expectTerminalRestored(text);
  }, 120_000);

  it('gives the terminal back after Ctrl-C and after SIGTERM', async () => {
    let exited = startConsole();
    await waitForScreen(/\d+ course runs ·/);
    await press('C-c');
    let text = await waitForScreen(exited);
    expect(exited.exec(text)?.[1]).toBe('130');
    expectTerminalRestored(text);

    exited = startConsole();
    await waitForScreen(/\d+ course runs ·/);
    const owner = JSON.parse(readFileSync(path.join(dataDir, 'gradeops.lock'), 'utf8')) as { pid: number };
    process.kill(owner.pid, 'SIGTERM');
    text = await waitForScreen(exited);
    expect(exited.exec(text)?.[1]).toBe('143');
    expectTerminalRestored(text);
  }, 120_000);
});

// Services pass only: in embedded mode one process owns the database, so no other process can freeze.
if (USE_REAL_SERVICES) {
  describe('the console watching a freeze that the CLI runs in another process (PostgreSQL + Redis)', () => {
    afterAll(() => {
      try {
        tmux('kill-server');
      } catch {
        /* already gone */
      }
    });

    it('shows the job live through the progress published to Redis: who runs it, counts, a smoothed rate; the home marks the run', async () => {
      session = 'services';
      tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', 'bash --norc --noprofile');
      const world = await cliWorld({ GRADEOPS_SIM_LATENCY_MS: '150' });
      let cli: ReturnType<typeof startCli> | null = null;
      try {
        env = world.env;
        const runs = JSON.parse((await runCli(['runs', '--json'], world.env)).stdout).runs as Array<{
          courseKey: string;
          canFreeze: boolean;
          gradingStatus: string;
          backend: string;
          title: string;
        }>;
        const run = runs.find(
          (r) => r.canFreeze && r.gradingStatus === 'not_started' && r.backend === 'edxorg' && r.title.startsWith('Microeconomics'),
        )!;
        const services = ['DATABASE_URL', 'REDIS_URL', 'EDXORG_CALLBACK_URL', 'MITXONLINE_CALLBACK_URL'] as const;
        const exited = startConsole({
          GRADEOPS_OPERATOR: 'watcher',
          ...Object.fromEntries(services.map((name) => [name, world.env[name]!])),
        });
        let text = await waitForScreen(/\d+ course runs ·/);
        expect(text).toMatch(/gradeops │ (127\.0\.0\.1|localhost)(:\d+)?\/gradeops_test_\S+ │ operator watcher/);
        await press('/');
        await waitForScreen('type to filter');
        await type(run.courseKey.split(':')[1]);
        await waitForScreen(/\b1 of \d+/);
        await press('Enter');
        await waitForScreen('no freeze running');

        cli = startCli(['freeze', run.courseKey, '--concurrency', '2'], { ...world.env, GRADEOPS_OPERATOR: 'cli-operator' });
        text = await waitForScreen(/freeze running by cli-operator on \S+ \(PID \d+\)/);
        expect(text).toContain(`(PID ${cli.pid})`);
        await waitForScreen(/job \d+\/\d+ done/);
        text = await waitForScreen(/job (\d+)\/\d+ done · \d+ frozen · \d+ failed · \d+\.\d\/s · ETA \d+(s|m\d\ds)/, 60_000);
        expect(text).not.toMatch(/NaN|Infinity|ETA -/);

        await press('Escape');
        text = await waitForScreen(/● 1 freeze running/);
        expect(text.split('\n').find((l) => /^[›! ] /.test(l) && l.includes(run.courseKey.slice(-16)))).toContain('● running');

        const code = await new Promise<number | null>((resolve) => cli!.on('exit', resolve));
        expect(code).toBe(0);
        cli = null;
        await press('Enter');
        text = await waitForScreen(/no freeze running · last job finished/, 30_000);
        await press('q');
        text = await waitForScreen(exited);
        expectTerminalRestored(text);
      } finally {
        cli?.kill('SIGINT');
        await world.close();
      }
    }, 240_000);
  });
}
