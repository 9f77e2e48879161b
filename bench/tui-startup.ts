import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import knexFactory from 'knex';

// The console's start-up (issue #7): from launching `gradeops` on a terminal to its first frame
// ("connecting…"), and to the populated course-run table. Each launch runs in a pseudo-terminal
// (util-linux `script`), as an operator's shell would run it; the output is read as it comes and
// the times are taken when the text appears. Targets: first frame under 300 ms; populated home
// under 1 s on PostgreSQL, under 2 s embedded.

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const BIN = path.join(ROOT, 'bin', 'gradeops.js');

export interface LaunchTiming {
  firstFrameMs: number;
  homeMs: number;
  /** CPU time (user + system, all threads) the console process had used when the home was drawn: what a busy machine does not change. */
  homeCpuMs: number | null;
}

export interface TuiStartupRow {
  mode: 'embedded' | 'postgres';
  /** How bin/gradeops.js ran the code: the compiled build or the TypeScript sources through tsx. */
  code: 'build (dist/)' | 'sources (tsx)';
  launches: LaunchTiming[];
}

const log = (message: string) => process.stderr.write(`${message}\n`);
// Colours and cursor moves, removed before looking for text.
const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;?]*[A-Za-z]`, 'g');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** bin/gradeops.js runs dist/ only when it is newer than every source: which code a timing measured. */
export function buildIsCurrent(): boolean {
  const built = path.join(ROOT, 'dist', 'src', 'cli.js');
  if (!existsSync(built)) return false;
  const newest = (dir: string): number => {
    const out = spawnSync('find', [dir, '-type', 'f', '-printf', '%T@\n'], { encoding: 'utf8' });
    return Math.max(...out.stdout.trim().split('\n').map(Number)) * 1000;
  };
  return statSync(built).mtimeMs >= Math.max(newest(path.join(ROOT, 'src')), newest(path.join(ROOT, 'migrations')));
}

const CLOCK_TICKS_PER_SECOND = 100;

/** CPU time used so far by the process `script` runs (its child, `exec`ed into node), from /proc; null elsewhere. */
function consoleCpuMs(scriptPid: number | undefined): number | null {
  if (scriptPid === undefined || !existsSync(`/proc/${scriptPid}`)) return null;
  try {
    const children = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/);
    const stat = readFileSync(`/proc/${children[0]}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

/** One launch in a pseudo-terminal of 100×30: times to the first frame and to the populated home, then q. */
function launch(env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<LaunchTiming> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const command = `stty cols 100 rows 30; exec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)}`;
    const child = spawn('script', ['-qefc', command, '/dev/null'], { env, cwd: os.tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let firstFrameMs: number | null = null;
    let homeMs: number | null = null;
    let homeCpuMs: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the console did not show its course runs within ${timeoutMs} ms; it wrote:\n${output.slice(-2000)}`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const now = performance.now() - started;
      const text = output.replace(ANSI, '');
      if (firstFrameMs === null && text.includes('gradeops │')) firstFrameMs = now;
      if (homeMs === null && /\d+ course runs ·/.test(text)) {
        homeMs = now;
        homeCpuMs = consoleCpuMs(child.pid);
        child.stdin.write('q');
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (firstFrameMs === null || homeMs === null) {
        reject(new Error(`the console exited (${code}) before showing its course runs; it wrote:\n${output.slice(-2000)}`));
        return;
      }
      resolve({ firstFrameMs, homeMs, homeCpuMs });
    });
  });
}

function runCli(args: string[], env: NodeJS.ProcessEnv): void {
  const result = spawnSync(process.execPath, [BIN, ...args], { env, cwd: os.tmpdir(), encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`gradeops ${args.join(' ')} failed: ${result.stderr}`);
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GRADEOPS_OPERATOR: 'bench', TERM: 'xterm-256color', ...extra };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDISCLOUD_URL', 'CELERY_BROKER_URL', 'NO_COLOR'])
    if (!(name in extra)) delete env[name];
  return env;
}

async function measure(mode: TuiStartupRow['mode'], env: NodeJS.ProcessEnv, launches: number): Promise<TuiStartupRow> {
  const code = buildIsCurrent() ? 'build (dist/)' : 'sources (tsx)';
  await launch(env); // warm-up: the file cache, and PGlite's first open after seeding
  const timings: LaunchTiming[] = [];
  for (let i = 0; i < launches; i++) {
    timings.push(await launch(env));
    log(
      `bench: console start-up, ${mode}, launch ${i + 1}/${launches}: first frame ${timings.at(-1)!.firstFrameMs.toFixed(0)} ms, home ${timings.at(-1)!.homeMs.toFixed(0)} ms`,
    );
  }
  return { mode, code, launches: timings };
}

/** The embedded demo in a data directory of its own (seeded once, not timed). */
async function embedded(launches: number): Promise<TuiStartupRow> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gradeops-bench-tui-'));
  try {
    const env = baseEnv({ GRADEOPS_DATA_DIR: dataDir });
    log('bench: console start-up: seeding an embedded demo world (not timed)');
    runCli(['runs', '--json'], env);
    return await measure('embedded', env, launches);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A scratch database on the bench database's server, seeded with the demo world, dropped afterwards. */
async function postgres(launches: number, databaseUrl: string, redisUrl: string): Promise<TuiStartupRow> {
  const scratch = `gradeops_bench_tui_${process.pid}_${Date.now().toString(36)}`;
  const url = new URL(databaseUrl);
  url.pathname = `/${scratch}`;
  const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${scratch}`);
  try {
    const env = baseEnv({ DATABASE_URL: url.toString(), REDIS_URL: redisUrl, GRADEOPS_DATA_DIR: os.tmpdir() });
    log('bench: console start-up: migrating and seeding a scratch PostgreSQL database (not timed)');
    runCli(['db', 'migrate'], env);
    runCli(['db', 'seed', '--demo'], env);
    return await measure('postgres', env, launches);
  } finally {
    await admin.raw(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`).catch(() => admin.raw(`DROP DATABASE IF EXISTS ${scratch}`));
    await admin.destroy();
  }
}

export async function tuiStartupPhase(options: {
  launches: number;
  databaseUrl?: string;
  redisUrl?: string;
  databaseVariable: string;
  redisVariable: string;
}): Promise<TuiStartupRow[]> {
  if (spawnSync('script', ['--version']).status !== 0)
    throw new Error('the console start-up bench needs util-linux `script` for a pseudo-terminal');
  const rows = [await embedded(options.launches)];
  // The bench's services (bench/service-urls.ts), never the operator's DATABASE_URL / REDIS_URL.
  if (options.databaseUrl && options.redisUrl) rows.push(await postgres(options.launches, options.databaseUrl, options.redisUrl));
  else log(`bench: console start-up on PostgreSQL skipped: set ${options.databaseVariable} and ${options.redisVariable} for it`);
  return rows;
}

const TARGET_HOME_MS = { embedded: 2_000, postgres: 1_000 } as const;
const TARGET_FIRST_FRAME_MS = 300;

export function tuiStartupMarkdown(rows: TuiStartupRow[]): string {
  const lines = [
    '| mode | code run | launches | first frame (median) | first frame (max) | populated home (median) | populated home (max) | CPU used by then (median) | targets |',
    '|---|---|--:|--:|--:|--:|--:|--:|---|',
  ];
  for (const r of rows) {
    const first = r.launches.map((l) => l.firstFrameMs);
    const home = r.launches.map((l) => l.homeMs);
    const cpu = r.launches.map((l) => l.homeCpuMs).filter((c): c is number => c !== null);
    const firstOk = median(first) < TARGET_FIRST_FRAME_MS;
    const homeOk = median(home) < TARGET_HOME_MS[r.mode];
    lines.push(
      `| ${r.mode} | ${r.code} | ${r.launches.length} | ${median(first).toFixed(0)} ms | ${Math.max(...first).toFixed(0)} ms | ` +
        `${median(home).toFixed(0)} ms | ${Math.max(...home).toFixed(0)} ms | ${cpu.length ? `${median(cpu).toFixed(0)} ms` : '—'} | first frame < ${TARGET_FIRST_FRAME_MS} ms: ${firstOk ? 'met' : 'missed'}; ` +
        `home < ${TARGET_HOME_MS[r.mode]} ms: ${homeOk ? 'met' : 'missed'} |`,
    );
  }
  return (
    'Each launch runs `gradeops` (no subcommand) in a pseudo-terminal of 100×30 (`script`), after one untimed warm-up launch; ' +
    'the clock starts when the process is spawned. First frame: the header and "connecting…" are on the terminal. Populated ' +
    'home: the course-run table is drawn. Embedded: the demo world (72 course runs, 300 learners) in a data directory of its ' +
    'own; PostgreSQL: the same world seeded into a scratch database. CPU used by then: user + system time of the console ' +
    'process (all its threads) when the home was drawn, from /proc; unlike the wall-clock figures it does not grow with ' +
    'other work on the machine.\n\n' +
    lines.join('\n') +
    '\n'
  );
}
