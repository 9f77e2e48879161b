import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { replaceSection } from './results-file.js';
import { buildIsCurrent } from './tui-startup.js';

// Start-up of plain commands (issue 10 §4): each command kind run as a whole process from the
// build, as an operator's shell runs it, many times; median, p95 and max RSS per kind. Targets:
// `gradeops --help` < 150 ms; a read command on PostgreSQL < 300 ms; on the embedded demo < 1 s and
// < 250 MB resident. One more untimed launch per kind lists the heavy packages the command loaded
// (a plain command on PostgreSQL should load no Ink, React, PGlite, esbuild or typescript).
// Runs as the `startup` phase of `npm run bench` (against its scratch database) or on its own:
// `npx tsx bench/startup.ts [--repeats N] [--pg-url URL --redis-url URL] [--no-write]`, where the
// PostgreSQL database is migrated and the Redis db is one nothing else uses.

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const BIN = path.join(ROOT, 'bin', 'gradeops.js');
// Reports the process's own resource use on exit (fd 3), and with STARTUP_MODULES_LOG every
// module it loads: a preload of a few lines, so the measured process stays itself.
const PRELOAD = path.join(HERE, 'startup-preload.js');

const HEAVY = [
  'ink',
  'react',
  '@inkjs/ui',
  '@electric-sql/pglite',
  'knex-pglite',
  'ioredis-mock',
  'esbuild',
  'typescript',
  'tsx',
  'knex',
  'pg',
  'ioredis',
];

type Mode = 'none' | 'postgres' | 'embedded';

export interface StartupKind {
  label: string;
  mode: Mode;
  args: string[];
  targetMs: number;
  targetRssMb?: number;
}

export interface StartupRow extends StartupKind {
  wallMs: number[];
  cpuMs: number[];
  maxRssMb: number[];
  /** Heavy packages loaded (one untimed launch). */
  heavy: string[];
}

export interface StartupResult {
  date: string;
  code: 'build (dist/)' | 'sources (tsx)';
  load: { start: number[]; end: number[] };
  courseKeys: { postgres?: string; embedded: string };
  rows: StartupRow[];
}

export interface StartupOptions {
  repeats: number;
  /** A migrated PostgreSQL database (seeded here with the demo world when it has no course run) and its Redis. */
  databaseUrl?: string;
  redisUrl?: string;
  log?: (message: string) => void;
}

interface Launch {
  code: number | null;
  stdout: string;
  stderr: string;
  wallMs: number;
  cpuMs: number;
  maxRssMb: number;
}

function baseEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GRADEOPS_OPERATOR: 'bench', ...extra };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDISCLOUD_URL', 'CELERY_BROKER_URL', 'GRADEOPS_DEBUG', 'NODE_OPTIONS'])
    if (!(name in extra)) delete env[name];
  return env;
}

/** One whole `gradeops …` process, stdin closed and output into pipes (a script's view). */
function launch(args: string[], env: NodeJS.ProcessEnv): Promise<Launch> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', pathToFileURL(PRELOAD).href, BIN, ...args], {
      env,
      cwd: os.tmpdir(),
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let usage = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (d) => (usage += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      let used: { cpuMs: number; maxRssKb: number } = { cpuMs: NaN, maxRssKb: NaN };
      try {
        used = JSON.parse(usage) as typeof used;
      } catch {
        /* the process died before its exit handler: figures stay unknown */
      }
      resolve({ code, stdout, stderr, wallMs, cpuMs: used.cpuMs, maxRssMb: used.maxRssKb / 1024 });
    });
  });
}

async function mustRun(args: string[], env: NodeJS.ProcessEnv): Promise<Launch> {
  const result = await launch(args, env);
  if (result.code !== 0) throw new Error(`gradeops ${args.join(' ')} exited ${result.code}: ${result.stderr.trim().slice(-500)}`);
  return result;
}

/** The packages of HEAVY that one launch loads. */
async function heavyPackages(args: string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'gradeops-bench-modules-')), 'modules.txt');
  try {
    await launch(args, { ...env, STARTUP_MODULES_LOG: file });
    const loaded = new Set<string>();
    for (const line of existsSync(file) ? readFileSync(file, 'utf8').split('\n') : []) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
      if (match) loaded.add(match[1]);
    }
    return HEAVY.filter((p) => loaded.has(p));
  } finally {
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

async function measureKind(kind: StartupKind, env: NodeJS.ProcessEnv, repeats: number, log: (m: string) => void): Promise<StartupRow> {
  await mustRun(kind.args, env); // warm-up: the file cache
  const row: StartupRow = { ...kind, wallMs: [], cpuMs: [], maxRssMb: [], heavy: await heavyPackages(kind.args, env) };
  for (let i = 0; i < repeats; i++) {
    const run = await mustRun(kind.args, env);
    row.wallMs.push(run.wallMs);
    row.cpuMs.push(run.cpuMs);
    row.maxRssMb.push(run.maxRssMb);
  }
  log(
    `bench: start-up ${kind.label} (${kind.mode}): median ${median(row.wallMs).toFixed(0)} ms, ` +
      `max RSS ${Math.max(...row.maxRssMb).toFixed(0)} MB; heavy: ${row.heavy.join(', ') || 'none'}`,
  );
  return row;
}

/** A course key to ask freeze-status about: the demo's freezable Microeconomics run when there, else the first run. */
function pickCourseKey(runsJson: string): string | undefined {
  type Run = { courseKey: string; title: string; canFreeze: boolean; gradingStatus: string };
  const runs = (JSON.parse(runsJson) as { runs: Run[] }).runs;
  const freezable = (r: Run) => r.canFreeze && r.gradingStatus === 'not_started' && r.title.startsWith('Microeconomics');
  return (runs.find(freezable) ?? runs[0])?.courseKey;
}

export async function startupBench(options: StartupOptions): Promise<StartupResult> {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const loadStart = os.loadavg();
  const code = buildIsCurrent() ? 'build (dist/)' : 'sources (tsx)';
  if (code !== 'build (dist/)')
    log('bench: start-up: dist/ is older than the sources, so these figures are of tsx; run `npm run build` first');
  const rows: StartupRow[] = [];
  const courseKeys: StartupResult['courseKeys'] = { embedded: '' };

  const plain = baseEnv({});
  rows.push(await measureKind({ label: 'gradeops --help', mode: 'none', args: ['--help'], targetMs: 150 }, plain, options.repeats, log));

  if (options.databaseUrl && options.redisUrl) {
    const env = baseEnv({ DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl, GRADEOPS_DATA_DIR: os.tmpdir() });
    let key = pickCourseKey((await mustRun(['runs', '--json'], env)).stdout);
    if (!key) {
      log('bench: start-up: the database has no course run; seeding the demo world (not timed)');
      await mustRun(['db', 'seed', '--demo'], env);
      key = pickCourseKey((await mustRun(['runs', '--json'], env)).stdout)!;
    }
    courseKeys.postgres = key;
    rows.push(await measureKind({ label: 'gradeops runs', mode: 'postgres', args: ['runs'], targetMs: 300 }, env, options.repeats, log));
    rows.push(
      await measureKind(
        { label: 'gradeops freeze-status <key>', mode: 'postgres', args: ['freeze-status', key], targetMs: 300 },
        env,
        options.repeats,
        log,
      ),
    );
  } else {
    log('bench: start-up on PostgreSQL skipped: no database given');
  }

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gradeops-bench-startup-'));
  try {
    const env = baseEnv({ GRADEOPS_DATA_DIR: dataDir });
    log('bench: start-up: creating and seeding an embedded demo world (not timed)');
    const key = pickCourseKey((await mustRun(['runs', '--json'], env)).stdout)!;
    courseKeys.embedded = key;
    const embedded = { mode: 'embedded' as const, targetMs: 1_000, targetRssMb: 250 };
    rows.push(await measureKind({ ...embedded, label: 'gradeops runs', args: ['runs'] }, env, options.repeats, log));
    rows.push(
      await measureKind({ ...embedded, label: 'gradeops freeze-status <key>', args: ['freeze-status', key] }, env, options.repeats, log),
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  return { date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), code, load: { start: loadStart, end: os.loadavg() }, courseKeys, rows };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Nearest rank: with few launches it is the slowest but one or the slowest. */
function p95(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(0.95 * sorted.length) - 1)];
}

const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');

export function startupMarkdown(result: StartupResult): string {
  const lines = [
    '| command | mode | launches | median | p95 | CPU (median) | max RSS | target | heavy packages loaded |',
    '|---|---|--:|--:|--:|--:|--:|---|---|',
  ];
  for (const r of result.rows) {
    const rss = Math.max(...r.maxRssMb);
    const met = median(r.wallMs) < r.targetMs && (r.targetRssMb === undefined || rss < r.targetRssMb);
    const target = `< ${r.targetMs} ms${r.targetRssMb ? `, < ${r.targetRssMb} MB` : ''}: ${met ? 'met' : 'missed'}`;
    lines.push(
      `| ${r.label} | ${r.mode === 'none' ? '—' : r.mode} | ${r.wallMs.length} | ${median(r.wallMs).toFixed(0)} ms | ${p95(r.wallMs).toFixed(0)} ms | ` +
        `${median(r.cpuMs).toFixed(0)} ms | ${rss.toFixed(0)} MB | ${target} | ${r.heavy.join(', ') || 'none'} |`,
    );
  }
  return (
    `Each command kind runs as a whole process (\`node bin/gradeops.js …\`, ${result.code}, output into pipes), once untimed ` +
    'to warm the file cache and once more untimed to list the packages it loads, then the launches counted. The clock runs ' +
    'from spawn to exit. CPU: user + system time of the process, all its threads; max RSS: its peak resident memory (both ' +
    `from \`process.resourceUsage()\` at exit). freeze-status asks about ${result.courseKeys.postgres ? `\`${result.courseKeys.postgres}\` on PostgreSQL and ` : ''}` +
    `\`${result.courseKeys.embedded}\` embedded; the embedded demo lives in a data directory of its own, created and seeded ` +
    `before the timing. Run ${result.date}; load average ${load(result.load.start)} at the start, ${load(result.load.end)} at ` +
    `the end, on ${os.cpus().length} cores (a busy machine lengthens the wall times, not the CPU times).\n\n` +
    lines.join('\n') +
    '\n'
  );
}

async function standalone(): Promise<void> {
  const { values } = parseArgs({
    options: {
      repeats: { type: 'string', default: '11' },
      'pg-url': { type: 'string' },
      'redis-url': { type: 'string' },
      'no-write': { type: 'boolean', default: false },
    },
  });
  const repeats = Number(values.repeats);
  if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`--repeats must be a whole number ≥ 1, not ${values.repeats}`);
  const result = await startupBench({ repeats, databaseUrl: values['pg-url'], redisUrl: values['redis-url'] });
  const markdown = startupMarkdown(result);
  process.stdout.write(`${markdown}\n`);
  if (!values['no-write']) {
    const file = path.join(HERE, 'RESULTS.md');
    writeFileSync(file, replaceSection(readFileSync(file, 'utf8'), 'startup', markdown));
    process.stderr.write('bench: wrote the startup section of bench/RESULTS.md\n');
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  standalone().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  });
}
