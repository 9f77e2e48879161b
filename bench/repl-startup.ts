import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { benchServiceUrls } from './service-urls.js';

// `gradeops repl` start-up: from spawning the process to its first prompt on a terminal (targets:
// < 1 s on PostgreSQL, < 2 s embedded), and to the answer of a first entry (`1 + 1`, which waits
// for the type check's language service). The terminal is util-linux `script`'s pseudo-terminal.
// Runs on its own (`npx tsx bench/repl-startup.ts`, PostgreSQL when GRADEOPS_BENCH_DATABASE_URL and GRADEOPS_BENCH_REDIS_URL
// point at a migrated database) or as the `repl` phase of `npm run bench`.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'gradeops.js');
const PROMPT = /gradeops\([^)]*\)> /;

export interface ReplStartupOptions {
  runs: number;
  /** A migrated PostgreSQL database and its Redis; else the embedded demo in a scratch data dir. */
  databaseUrl?: string;
  redisUrl?: string;
}

export interface ReplStartupResult {
  mode: 'postgres' | 'embedded';
  /** How bin/gradeops.js ran the app: the compiled dist/ or the sources through tsx. */
  build: string;
  promptMs: number[];
  /** CPU time of the process at its first prompt (null where /proc is not there). */
  promptCpuMs: Array<number | null>;
  firstResultMs: number[];
  /** When it ran and how busy the machine was (start, end): figures on a busy machine are worse. */
  date: string;
  load: [number, number];
}

function baseEnv(options: ReplStartupOptions, dataDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GRADEOPS_DATA_DIR: dataDir, GRADEOPS_OPERATOR: 'bench', TERM: 'dumb', COLUMNS: '120' };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDISCLOUD_URL', 'CELERY_BROKER_URL', 'GRADEOPS_DEBUG']) delete env[name];
  if (options.databaseUrl && options.redisUrl) Object.assign(env, { DATABASE_URL: options.databaseUrl, REDIS_URL: options.redisUrl });
  return env;
}

/**
 * CPU time (user + system, every thread) the gradeops process under `script` has used so far, from
 * /proc (Linux): on a busy machine the wall time mostly measures waiting for a core, this does not.
 */
function cpuMsOfChild(scriptPid: number | undefined): number | null {
  try {
    const [pid] = readFileSync(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').trim().split(/\s+/);
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
      .replace(/^.*\) /, '')
      .split(' ');
    // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** One start: spawn → prompt → `1 + 1` answered → `.exit`. */
function measureOnce(env: NodeJS.ProcessEnv): Promise<{ promptMs: number; promptCpuMs: number | null; firstResultMs: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const command = [process.execPath, BIN, 'repl'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const child = spawn('script', ['-qfec', command, '/dev/null'], { env, cwd: os.tmpdir(), stdio: ['pipe', 'pipe', 'pipe'] });
    let output = '';
    let promptMs: number | null = null;
    let promptCpuMs: number | null = null;
    let firstResultMs: number | null = null;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no prompt within 60 s; output so far:\n${output}`));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const now = performance.now();
      if (promptMs === null && PROMPT.test(output)) {
        promptMs = now - started;
        promptCpuMs = cpuMsOfChild(child.pid);
        output = '';
        child.stdin.write('1 + 1\r');
      } else if (promptMs !== null && firstResultMs === null && /(^|\n)2\r?\n/.test(output)) {
        firstResultMs = now - started;
        child.stdin.write('.exit\r');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (promptMs === null || firstResultMs === null) reject(new Error(`repl exited (${code}) before answering:\n${output}`));
      else resolve({ promptMs, promptCpuMs, firstResultMs });
    });
  });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** What bin/gradeops.js runs: dist/ when it is newer than every source, else the sources through tsx. */
function whichBuild(): string {
  const built = path.join(ROOT, 'dist', 'src', 'cli.js');
  if (process.env.GRADEOPS_FROM_SOURCE) return 'the TypeScript sources through tsx (GRADEOPS_FROM_SOURCE set)';
  if (!existsSync(built)) return 'the TypeScript sources through tsx (no dist/)';
  const current = statSync(built).mtimeMs >= Math.max(newestMtime(path.join(ROOT, 'src')), newestMtime(path.join(ROOT, 'migrations')));
  return current ? 'the compiled dist/ (current)' : 'the TypeScript sources through tsx (dist/ is older than src/)';
}

export async function replStartup(options: ReplStartupOptions): Promise<ReplStartupResult> {
  if (spawnSync('script', ['--version']).status !== 0) throw new Error('the repl bench needs util-linux `script` for a pseudo-terminal');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gradeops-bench-repl-'));
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const loadAtStart = os.loadavg()[0];
  try {
    const env = baseEnv(options, dataDir);
    // The first start creates and seeds the embedded demo (or warms the OS caches): not counted.
    await measureOnce(env);
    const promptMs: number[] = [];
    const promptCpuMs: Array<number | null> = [];
    const firstResultMs: number[] = [];
    for (let i = 0; i < options.runs; i++) {
      const r = await measureOnce(env);
      promptMs.push(r.promptMs);
      promptCpuMs.push(r.promptCpuMs);
      firstResultMs.push(r.firstResultMs);
    }
    return {
      mode: env.DATABASE_URL ? 'postgres' : 'embedded',
      build: whichBuild(),
      promptMs,
      promptCpuMs,
      firstResultMs,
      date,
      load: [loadAtStart, os.loadavg()[0]],
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const ms = (value: number) => `${Math.round(value)} ms`;

export function replStartupMarkdown(r: ReplStartupResult): string {
  const target = r.mode === 'postgres' ? 1000 : 2000;
  const prompt = median(r.promptMs);
  const cpu = r.promptCpuMs.filter((v): v is number => v !== null);
  return [
    `\`gradeops repl\` on ${r.mode === 'postgres' ? 'PostgreSQL (read-only session)' : 'the embedded demo'}, on a pseudo-terminal, ${r.promptMs.length} starts after one uncounted start; the app ran from ${r.build}. Measured ${r.date}, ${os.cpus().length} cores, 1-minute load average ${r.load[0].toFixed(2)} at the start and ${r.load[1].toFixed(2)} at the end.`,
    '',
    '| measure | median | min | max | target |',
    '|---|---:|---:|---:|---|',
    `| spawn → first prompt | ${ms(prompt)} | ${ms(Math.min(...r.promptMs))} | ${ms(Math.max(...r.promptMs))} | < ${ms(target)} |`,
    cpu.length === r.promptCpuMs.length
      ? `| CPU time used by then (user + system; the floor of the wall time on an idle core) | ${ms(median(cpu))} | ${ms(Math.min(...cpu))} | ${ms(Math.max(...cpu))} | — |`
      : '| CPU time used by then | — (no /proc) | | | |',
    `| spawn → first entry answered (type-checked \`1 + 1\`) | ${ms(median(r.firstResultMs))} | ${ms(Math.min(...r.firstResultMs))} | ${ms(Math.max(...r.firstResultMs))} | — |`,
    '',
    `**Target < ${target / 1000} s to the first prompt: ${prompt < target ? 'met' : 'not met'} (${ms(prompt)}).**`,
  ].join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const runs = Number(process.argv[2] ?? 5);
  const { databaseUrl, redisUrl } = benchServiceUrls();
  const result = await replStartup({ runs, databaseUrl, redisUrl });
  process.stdout.write(`${replStartupMarkdown(result)}\n`);
}
