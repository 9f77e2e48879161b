import 'dotenv/config';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import knexFactory, { type Knex } from 'knex';
import { migrateLatest, openPglite, openPostgres } from '../src/app/database.js';
import { openRedis, openRedisStandIn, type Redis } from '../src/app/redis.js';
import type { DomainContext } from '../src/domain/context.js';
import { rawRows } from '../src/domain/db.js';
import { redactUrl } from '../src/domain/secrets.js';
import { edxCallCounters, resetEdxCallCounters } from '../src/domain/edx/edx-http.js';
import type { EdxSettings } from '../src/domain/edx/edx-settings.js';
import { runFreezeJob } from '../src/domain/freeze/freeze-job.js';
import { getFreezeStatus } from '../src/domain/freeze/freeze-status.js';
import { loadWorldFromDatabase, startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { startRemoteSimulator, type BenchSimulator } from './remote-simulator.js';
import { startProbe, startRssSampler, type ProbeResult } from './probe.js';
import { replStartup, replStartupMarkdown } from './repl-startup.js';
import { addFreezeProgress, countFinalGrades, createBenchRun, resetRun, type BenchRun } from './world.js';
import { tuiStartupMarkdown, tuiStartupPhase } from './tui-startup.js';
import { projectionBench, projectionMarkdown } from './exam-projection.js';
import { replaceSection } from './results-file.js';
import { timeStatusProcess } from './status-process.js';
import { assertEmptyRedis, BENCH_SERVICES_HELP, benchServiceUrls } from './service-urls.js';
import { coldMarkdown, coldPhase } from './freeze-cold.js';
import { startupBench, startupMarkdown } from './startup.js';

// `npm run bench`: freeze throughput against the ideal edX-bound time, memory while freezing,
// and freeze-status latency on a 100k-enrollment run. Real PostgreSQL + Redis when
// GRADEOPS_BENCH_DATABASE_URL and GRADEOPS_BENCH_REDIS_URL are set (bench/service-urls.ts; a
// scratch database is created on that server and dropped at the end, the Redis database must be
// empty), else PGlite in memory + the in-process Redis stand-in. Figures go to bench/RESULTS.md.

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS_FILE = path.join(HERE, 'RESULTS.md');
const PHASES = ['freeze', 'memory', 'status', 'repl', 'tui', 'startup', 'projection', 'cold'] as const;
type Phase = (typeof PHASES)[number];

const USAGE = `usage: npm run bench -- [options]
  --only freeze,memory,status,repl,tui,startup,projection,cold  phases to run (default: all eight)
  --learners N                  learners frozen at concurrency ≥ 2 (default 5000)
  --learners-c1 N               learners frozen at concurrency 1 (default 500)
  --concurrency 1,8,32          concurrencies of the throughput phase
  --latency MS                  simulated edX latency per call, throughput phase (default 20)
  --extra-latency MS            one more run at the highest concurrency with this latency (default 100; 0: none)
  --memory-learners 5000,50000  learner counts of the memory phase, each in a fresh child process (PGlite: 5000,20000)
  --memory-latency MS           edX latency of the memory phase (default 2)
  --memory-concurrency N        concurrency of the memory phase (default 32)
  --status-enrollments N        enrollments of the freeze-status run (default 100000)
  --status-calls N              timed getFreezeStatus calls after 5 warm-up calls (default 30)
  --repl-starts N                gradeops repl starts measured, after one uncounted (default 5)
  --projection-learners N        learners of the exam projection phase, two CSV rows each (default 10000: a 20,000-row file)
  --projection-repeats N         timed projections per file (default 3)
  --pool N                      PostgreSQL connection pool size (default 16, the app's)
  --tui-launches N              timed launches of the console per mode (default 5)
  --cold-learners N             learners of the cold-process phase (default 3000; PostgreSQL only)
  --cold-latency 20,100         edX latencies of the cold-process phase
  --startup-repeats N           timed launches per command kind of the start-up phase (default 11)
  --no-write                    do not update bench/RESULTS.md
Uses ${BENCH_SERVICES_HELP}; else PGlite + the in-process stand-in.`;

const { values: flags } = parseArgs({
  options: {
    only: { type: 'string' },
    learners: { type: 'string' },
    'learners-c1': { type: 'string' },
    concurrency: { type: 'string' },
    latency: { type: 'string' },
    'memory-learners': { type: 'string' },
    'memory-latency': { type: 'string' },
    'extra-latency': { type: 'string' },
    'memory-concurrency': { type: 'string' },
    'status-enrollments': { type: 'string' },
    'status-calls': { type: 'string' },
    'projection-learners': { type: 'string' },
    'projection-repeats': { type: 'string' },
    pool: { type: 'string' },
    'repl-starts': { type: 'string' },
    'tui-launches': { type: 'string' },
    'cold-learners': { type: 'string' },
    'cold-latency': { type: 'string' },
    'startup-repeats': { type: 'string' },
    'no-write': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    // internal: a memory run in a child process
    child: { type: 'string' },
  },
  allowPositionals: false,
});

function usageError(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

function intFlag(name: keyof typeof flags, fallback: number, min = 1): number {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) usageError(`--${name} must be a whole number ≥ ${min}, not ${String(raw)}`);
  return n;
}

function intListFlag(name: keyof typeof flags, fallback: number[]): number[] {
  const raw = flags[name];
  if (raw === undefined) return fallback;
  const list = String(raw)
    .split(',')
    .map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isSafeInteger(n) || n < 1))
    usageError(`--${name} must be a comma-separated list of whole numbers ≥ 1`);
  return list;
}

// ---------------------------------------------------------------------------------------------
// Services

interface Services {
  mode: 'postgres' | 'pglite';
  db: Knex;
  redis: Redis;
  /** The scratch database's URL (PostgreSQL mode), for child processes. */
  scratchUrl: string | null;
  /** The bench's Redis (PostgreSQL mode), for child processes. */
  redisUrl: string | null;
  /** PostgreSQL runs on this machine, so its processes' CPU can be read. */
  localPostgres: boolean;
  describe: string;
  close(): Promise<void>;
}

async function openServices(): Promise<Services> {
  const { databaseUrl, redisUrl, databaseVariable, redisVariable } = benchServiceUrls();
  if (databaseUrl && redisUrl) {
    const scratch = `gradeops_bench_${process.pid}_${Date.now().toString(36)}`;
    const scratchUrl = new URL(databaseUrl);
    scratchUrl.pathname = `/${scratch}`;
    const admin = knexFactory({ client: 'pg', connection: databaseUrl, pool: { min: 0, max: 1 } });
    await admin.raw(`CREATE DATABASE ${scratch}`);
    const db = openPostgres(scratchUrl.toString(), intFlag('pool', 16));
    let redis: Redis;
    try {
      await migrateLatest(db);
      redis = await openRedis(redisUrl);
      await assertEmptyRedis(redis, redisVariable).catch((error: unknown) => {
        redis.disconnect();
        throw error;
      });
    } catch (error) {
      await db.destroy();
      await admin.raw(`DROP DATABASE IF EXISTS ${scratch}`).catch(() => {});
      await admin.destroy();
      throw error;
    }
    const [pg] = rawRows<{ v: string }>(await db.raw(`SELECT current_setting('server_version') AS v`));
    const redisVersion = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';
    return {
      mode: 'postgres',
      db,
      redis,
      scratchUrl: scratchUrl.toString(),
      redisUrl,
      localPostgres: ['127.0.0.1', 'localhost', '::1', '[::1]', ''].includes(scratchUrl.hostname),
      describe: `PostgreSQL ${pg.v} (scratch database ${scratch} on ${scratchUrl.host}, dropped afterwards), Redis ${redisVersion}`,
      async close() {
        await redis.quit().catch(() => redis.disconnect());
        await db.destroy();
        // WITH (FORCE) (PostgreSQL 13+) also ends a memory child's connections after an interruption.
        await admin
          .raw(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`)
          .catch(() => admin.raw(`DROP DATABASE IF EXISTS ${scratch}`))
          .catch((e: Error) => process.stderr.write(`could not drop ${scratch}: ${e.message}\n`));
        await admin.destroy();
      },
    };
  }
  if (databaseUrl || redisUrl) usageError(`set both ${databaseVariable} and ${redisVariable} (PostgreSQL mode) or neither (PGlite mode)`);
  const db = openPglite(null);
  await migrateLatest(db);
  const redis = openRedisStandIn();
  return {
    mode: 'pglite',
    db,
    redis,
    scratchUrl: null,
    redisUrl: null,
    localPostgres: false,
    describe: `PGlite in memory + the in-process Redis stand-in (${databaseVariable} / ${redisVariable} not set)`,
    async close() {
      redis.disconnect();
      await db.destroy();
    },
  };
}

/**
 * The freeze phase's simulated edX: on PostgreSQL in a process of its own (real edX does not share
 * the freeze's event loop); on PGlite, whose database one process owns, in this one.
 */
async function startFreezeSimulator(services: Services, latencyMs: number): Promise<BenchSimulator> {
  if (services.scratchUrl) return startRemoteSimulator(services.scratchUrl, latencyMs);
  const sim = await startSimulator({ world: await loadWorldFromDatabase(services.db), provider: 'edxorg', knobs: { latencyMs } });
  return {
    baseUrl: sim.baseUrl,
    where: 'the same Node process as the freeze',
    async setLatency(ms) {
      sim.knobs.latencyMs = ms;
      sim.stats.reset();
    },
    async requests() {
      return sim.stats.requests;
    },
    close: () => sim.close(),
  };
}

let freezeSimulatorWhere: string | null = null;

function edxSettings(sim: { baseUrl: string }): EdxSettings {
  return {
    baseUrls: { edxorg: sim.baseUrl, mitxonline: sim.baseUrl },
    clients: { edxorg: { id: 'bench-client', secret: 'bench-secret' }, mitxonline: { id: 'bench-client', secret: 'bench-secret' } },
    timeoutMs: 25_000,
    retries: 1,
  };
}

function contextOf(services: Pick<Services, 'db' | 'redis'>, edx: EdxSettings): DomainContext {
  return { db: services.db, redis: services.redis, edx, operator: 'bench' };
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

// ---------------------------------------------------------------------------------------------
// (a) freeze throughput

interface FreezeRow {
  concurrency: number;
  learners: number;
  latencyMs: number;
  wallMs: number;
  calls: number;
  simRequests: number;
  idealMs: number;
  ratio: number;
  probe: ProbeResult;
  /** An extra row at another latency, outside the target. */
  extra: boolean;
}

interface FreezeOptions {
  learners: number;
  learnersC1: number;
  concurrency: number[];
  latencyMs: number;
  /** 0: no extra row; else one more run at the highest concurrency with this latency. */
  extraLatencyMs: number;
}

async function freezePhase(services: Services, options: FreezeOptions): Promise<FreezeRow[]> {
  const { db, redis } = services;
  const setup = performance.now();
  const sizes = [...new Set(options.concurrency.map((c) => (c === 1 ? options.learnersC1 : options.learners)))];
  const runs = new Map<number, BenchRun>();
  for (const n of sizes) runs.set(n, await createBenchRun(db, { tag: `F${process.pid}n${n}`, learners: n }));
  await db.raw('ANALYZE');
  const sim = await startFreezeSimulator(services, options.latencyMs);
  freezeSimulatorWhere = sim.where;
  log(
    `freeze: ${sizes.join(' and ')} learners written, simulator on ${sim.baseUrl} in ${sim.where} at ${options.latencyMs} ms per call (${seconds(performance.now() - setup)})`,
  );
  const ctx = contextOf(services, edxSettings(sim));
  const plan = options.concurrency.map((concurrency) => ({ concurrency, latencyMs: options.latencyMs, extra: false }));
  if (options.extraLatencyMs > 0)
    plan.push({ concurrency: Math.max(...options.concurrency), latencyMs: options.extraLatencyMs, extra: true });
  const rows: FreezeRow[] = [];
  try {
    for (const { concurrency, latencyMs, extra } of plan) {
      const n = concurrency === 1 ? options.learnersC1 : options.learners;
      const run = runs.get(n) ?? (await createBenchRun(db, { tag: `F${process.pid}n${n}`, learners: n }));
      await resetRun(db, redis, run);
      await sim.setLatency(latencyMs);
      resetEdxCallCounters();
      const probe = startProbe(db, { postgresCpu: services.localPostgres });
      const summary = await runFreezeJob(ctx, run.key, { concurrency });
      const result = probe.stop();
      const calls = edxCallCounters().requests;
      const frozen = await countFinalGrades(db, run.id);
      if (summary.status !== 'complete' || frozen !== n || summary.failed.length > 0) {
        throw new Error(
          `freeze of ${n} learners at concurrency ${concurrency} did not complete: status ${summary.status}, ${frozen} frozen, ${summary.failed.length} failed (${summary.failed[0]?.message ?? ''})`,
        );
      }
      const idealMs = (calls * latencyMs) / concurrency;
      const row: FreezeRow = {
        concurrency,
        learners: n,
        latencyMs,
        wallMs: result.wallMs,
        calls,
        simRequests: await sim.requests(),
        idealMs,
        ratio: result.wallMs / idealMs,
        probe: result,
        extra,
      };
      rows.push(row);
      log(
        `freeze: concurrency ${concurrency}, ${n} learners, ${latencyMs} ms per call: ${seconds(row.wallMs)} for ${calls} edX calls, ideal ${seconds(idealMs)}, ${row.ratio.toFixed(2)}× ideal`,
      );
    }
  } finally {
    await sim.close();
    for (const run of runs.values()) await resetRun(db, redis, run);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// (b) memory: each learner count in a fresh child process, so one run's heap does not hide the next

interface MemoryRow {
  learners: number;
  concurrency: number;
  latencyMs: number;
  wallMs: number;
  calls: number;
  startRss: number;
  peakRss: number;
  endRss: number;
  startHeap: number;
  peakHeap: number;
  /** When the RSS peak was sampled, from the start of the freeze. */
  peakAtMs: number;
  medianRss: number;
  p95Rss: number;
  samples: number;
  /** The RSS curve, in MB, at up to 12 evenly spaced samples. */
  curve: number[];
}

async function memoryChild(): Promise<void> {
  const learners = intFlag('learners', 5000);
  const latencyMs = intFlag('memory-latency', 2, 0);
  const concurrency = intFlag('memory-concurrency', 32);
  const scratchUrl = process.env.BENCH_SCRATCH_URL;
  let db: Knex;
  let redis: Redis;
  if (scratchUrl) {
    db = openPostgres(scratchUrl, intFlag('pool', 16));
    redis = await openRedis(process.env.BENCH_REDIS_URL!);
  } else {
    db = openPglite(null);
    await migrateLatest(db);
    redis = openRedisStandIn();
  }
  let sim: RunningSimulator | null = null;
  try {
    const run = await createBenchRun(db, { tag: `M${process.pid}n${learners}`, learners });
    await db.raw('ANALYZE');
    const world = await loadWorldFromDatabase(db);
    sim = await startSimulator({ world, provider: 'edxorg', knobs: { latencyMs } });
    const ctx = contextOf({ db, redis }, edxSettings(sim));
    resetEdxCallCounters();
    (globalThis as { gc?: () => void }).gc?.();
    const sampler = startRssSampler(250);
    const t0 = performance.now();
    const summary = await runFreezeJob(ctx, run.key, { concurrency });
    const wallMs = performance.now() - t0;
    const samples = sampler.stop();
    if (process.env.BENCH_SAMPLES_DIR)
      writeFileSync(path.join(process.env.BENCH_SAMPLES_DIR, `rss-${learners}.json`), JSON.stringify(samples));
    const frozen = await countFinalGrades(db, run.id);
    if (summary.status !== 'complete' || frozen !== learners)
      throw new Error(`memory run of ${learners}: status ${summary.status}, ${frozen} frozen`);
    const step = Math.max(1, Math.floor(samples.length / 12));
    const rssSorted = samples.map((x) => x.rss).sort((a, b) => a - b);
    const peak = samples.reduce((a, b) => (b.rss > a.rss ? b : a));
    const row: MemoryRow = {
      learners,
      concurrency,
      latencyMs,
      wallMs,
      calls: edxCallCounters().requests,
      startRss: samples[0].rss,
      peakRss: peak.rss,
      endRss: samples[samples.length - 1].rss,
      peakAtMs: peak.atMs,
      medianRss: percentile(rssSorted, 50),
      p95Rss: percentile(rssSorted, 95),
      startHeap: samples[0].heapUsed,
      peakHeap: Math.max(...samples.map((x) => x.heapUsed)),
      samples: samples.length,
      curve: samples
        .filter((_, k) => k % step === 0)
        .slice(0, 12)
        .map((s) => Math.round(s.rss / 1024 / 1024)),
    };
    await resetRun(db, redis, run);
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(row)}\n`);
  } finally {
    await sim?.close();
    if (scratchUrl) await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
    await db.destroy();
  }
}

/** The memory child running now, so an interruption can end it too. */
let runningChild: ReturnType<typeof spawn> | null = null;

function runChild(args: string[], env: NodeJS.ProcessEnv): Promise<MemoryRow> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, '--expose-gc', fileURLToPath(import.meta.url), ...args], {
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    runningChild = child;
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      runningChild = null;
      const line = out.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) return reject(new Error(`memory child ${args.join(' ')} exited with ${code}: ${out.slice(-500)}`));
      resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as MemoryRow);
    });
  });
}

async function memoryPhase(
  services: Services,
  options: { learners: number[]; latencyMs: number; concurrency: number },
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  for (const n of options.learners) {
    log(`memory: freezing ${n} learners at concurrency ${options.concurrency}, ${options.latencyMs} ms per edX call, in a child process…`);
    const env = { ...process.env };
    if (services.scratchUrl) env.BENCH_SCRATCH_URL = services.scratchUrl;
    if (services.redisUrl) env.BENCH_REDIS_URL = services.redisUrl;
    const row = await runChild(
      [
        '--child',
        'memory',
        '--learners',
        String(n),
        '--pool',
        String(intFlag('pool', 16)),
        '--memory-latency',
        String(options.latencyMs),
        '--memory-concurrency',
        String(options.concurrency),
      ],
      env,
    );
    rows.push(row);
    log(`memory: ${n} learners in ${seconds(row.wallMs)}: RSS start ${mb(row.startRss)}, peak ${mb(row.peakRss)}, end ${mb(row.endRss)}`);
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// (c) freeze-status latency

interface StatusTiming {
  label: string;
  /** The first call after the state change: counted again (the rows moved, or the kept counting was dropped) and kept. */
  firstMs: number;
  /** Cold `gradeops freeze-status --json` processes (PostgreSQL only), spawn to exit. */
  processMs: number[];
  medianMs: number;
  p95Ms: number;
  minMs: number;
  maxMs: number;
  /** Per query text: median ms per call. */
  queries: Array<{ sql: string; perCall: number; medianMs: number }>;
  plan: string[];
}

interface StatusResult {
  enrollments: number;
  background: number;
  eligible: number;
  frozen: number;
  failed: number;
  remaining: number;
  calls: number;
  timings: StatusTiming[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const k = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[k];
}

const STATUS_TABLES = [
  'dashboard_cachedenrollment',
  'dashboard_cachedcurrentgrade',
  'grades_finalgrade',
  'gradeops_freeze_failure',
  'auth_user',
];

async function statusPhase(services: Services, options: { enrollments: number; calls: number }): Promise<StatusResult> {
  const { db, redis } = services;
  const setup = performance.now();
  // Another run's rows in the same tables (half as many, all frozen), so the run's rows are not the whole table.
  const background = Math.round(options.enrollments / 2);
  const other = await createBenchRun(db, { tag: `S${process.pid}bg`, learners: background, social: false });
  await addFreezeProgress(db, redis, other, { frozenFraction: 1, failures: 0, redisOnlyFailures: 0 });
  const run = await createBenchRun(db, {
    tag: `S${process.pid}n${options.enrollments}`,
    learners: options.enrollments,
    social: false,
    ungradedFraction: 0.03,
  });
  const progress = await addFreezeProgress(db, redis, run, { frozenFraction: 0.4, failures: 800, redisOnlyFailures: 50 });
  for (const t of STATUS_TABLES) await db.raw(`ANALYZE ${t}`);
  log(
    `status: ${options.enrollments} enrollments written (+ ${background} of another run), ${progress.frozen} complete FinalGrades, ${progress.failed} failed (${seconds(performance.now() - setup)})`,
  );
  const ctx = contextOf(services, {
    baseUrls: {},
    clients: { edxorg: { id: '', secret: '' }, mitxonline: { id: '', secret: '' } },
    timeoutMs: 1000,
    retries: 0,
  });
  // The first timed call is the first status read after the writes (nothing has counted them yet).
  const seen: { last: Awaited<ReturnType<typeof getFreezeStatus>> | null } = { last: null };
  const time = async (label: string): Promise<StatusTiming> => {
    const t = performance.now();
    seen.last = await getFreezeStatus(ctx, run.key);
    const firstMs = performance.now() - t;
    for (let k = 0; k < 5; k++) seen.last = await getFreezeStatus(ctx, run.key);
    const times: number[] = [];
    const perQuery = new Map<string, number[]>();
    for (let k = 0; k < options.calls; k++) {
      const probe = startProbe(db, { recordSql: true });
      const t0 = performance.now();
      seen.last = await getFreezeStatus(ctx, run.key);
      times.push(performance.now() - t0);
      const result = probe.stop();
      for (const [sql, { ms }] of result.bySql) perQuery.set(sql, [...(perQuery.get(sql) ?? []), ms]);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const queries = [...perQuery]
      .map(([sql, list]) => {
        const q = [...list].sort((a, b) => a - b);
        return { sql, perCall: list.length / options.calls, medianMs: percentile(q, 50) };
      })
      .sort((a, b) => b.medianMs - a.medianMs);
    const processMs =
      services.scratchUrl && services.redisUrl
        ? (await timeStatusProcess(run.key, { databaseUrl: services.scratchUrl, redisUrl: services.redisUrl }, 5)).runsMs
        : [];
    const timing = {
      label,
      firstMs,
      processMs,
      medianMs: percentile(sorted, 50),
      p95Ms: percentile(sorted, 95),
      minMs: sorted[0],
      maxMs: sorted[sorted.length - 1],
      queries,
      plan: await explainCounting(ctx, run.key),
    };
    log(
      `status: ${label}: first call ${firstMs.toFixed(1)} ms, then median ${timing.medianMs.toFixed(1)} ms, p95 ${timing.p95Ms.toFixed(1)} ms; load average ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(', ')}`,
    );
    return timing;
  };

  try {
    // Right after the rows were written (ANALYZE only): no page is all-visible yet, as after a
    // freeze or cache refresh has just rewritten the run's cached rows. The writes moved the
    // counts, so the first call counts again (a freeze's own summary does it at the job's end).
    const fresh = await time('right after the bulk write, ANALYZE only (visibility map not set)');
    // Once (auto)vacuum has been through, index-only scans skip the heap. The kept counting is
    // dropped so the first call shows what counting again costs in this state too.
    for (const t of STATUS_TABLES) await db.raw(`VACUUM ANALYZE ${t}`);
    await db('gradeops_freeze_counts').where('course_run_id', run.id).del();
    const vacuumed = await time('later: after VACUUM ANALYZE (autovacuum has caught up)');
    const last = seen.last!;
    return {
      enrollments: options.enrollments,
      background,
      eligible: last.eligible,
      frozen: last.frozen,
      failed: last.failed.length,
      remaining: last.remaining,
      calls: options.calls,
      timings: [fresh, vacuumed],
    };
  } finally {
    await resetRun(db, redis, run);
    await resetRun(db, redis, other);
  }
}

/** EXPLAIN ANALYZE of the counting statement of freezeCounts, captured from a real call. */
async function explainCounting(ctx: DomainContext, courseKey: string): Promise<string[]> {
  let captured: { sql: string; bindings: unknown[] } | null = null;
  const onQuery = (q: { sql: string; bindings?: unknown[] }) => {
    if (!captured && /FROM gradeops_freeze_counts k/i.test(q.sql)) captured = { sql: q.sql, bindings: q.bindings ?? [] };
  };
  ctx.db.on('query', onQuery);
  try {
    await getFreezeStatus(ctx, courseKey);
  } finally {
    ctx.db.off('query', onQuery);
  }
  const found = captured as { sql: string; bindings: unknown[] } | null;
  if (!found) return ['(the kept-counting check was not seen: freeze-counts-cache.ts changed)'];
  // The captured text has pg's $n placeholders; knex.raw wants ?, with the bindings in order of use.
  const ordered: unknown[] = [];
  const sql = found.sql.replace(/\$(\d+)/g, (_, n: string) => {
    ordered.push(found.bindings[Number(n) - 1]);
    return '?';
  });
  const result = await ctx.db.raw(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${sql}`, ordered as Knex.RawBinding[]);
  return rawRows<{ 'QUERY PLAN': string }>(result).map((r) => r['QUERY PLAN']);
}

// ---------------------------------------------------------------------------------------------
// Report

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const line = (r: string[]) => `| ${r.map((v, c) => (c === 0 ? v.padEnd(widths[c]) : v.padStart(widths[c]))).join(' | ')} |`;
  return [
    line(cells[0]),
    `|${widths.map((w, c) => (c === 0 ? `${'-'.repeat(w + 1)}-` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

function freezeMarkdown(rows: FreezeRow[]): string {
  const main = table(
    ['concurrency', 'edX latency', 'learners', 'wall', 'edX calls', 'ideal = calls × latency ÷ concurrency', 'wall / ideal', 'learners/s'],
    rows.map((r) => [
      `${r.concurrency}${r.extra ? ' (extra)' : ''}`,
      `${r.latencyMs} ms`,
      r.learners,
      seconds(r.wallMs),
      r.calls,
      seconds(r.idealMs),
      `${r.ratio.toFixed(2)}×`,
      (r.learners / (r.wallMs / 1000)).toFixed(0),
    ]),
  );
  const profile = table(
    [
      'concurrency',
      'edX latency',
      'per learner in a worker',
      'in edX calls',
      'in DB statements',
      'other',
      'statements / learner',
      'node CPU / learner',
      'event loop busy',
      'postgres CPU / learner',
    ],
    rows.map((r) => {
      const n = r.learners;
      const perLearner = (r.wallMs * r.concurrency) / n;
      const http = r.probe.httpMs / n;
      const dbMs = r.probe.dbMs / n;
      return [
        r.concurrency,
        `${r.latencyMs} ms`,
        `${perLearner.toFixed(1)} ms`,
        `${http.toFixed(1)} ms`,
        `${dbMs.toFixed(1)} ms`,
        `${(perLearner - http - dbMs).toFixed(1)} ms`,
        (r.probe.queries / n).toFixed(1),
        `${(r.probe.cpuMs / n).toFixed(2)} ms`,
        `${Math.round(r.probe.elu * 100)} %`,
        r.probe.postgresCpuMs === null ? 'n/a' : `${(r.probe.postgresCpuMs / n).toFixed(2)} ms`,
      ];
    }),
  );
  const target = rows.filter((r) => !r.extra && r.concurrency === 32);
  const verdict =
    target.length === 0
      ? ''
      : `\n\n**Target ≤ 1.2× ideal at concurrency 32: ${target
          .map((r) =>
            r.ratio <= 1.2
              ? `met (${r.ratio.toFixed(2)}×)`
              : `missed: ${r.ratio.toFixed(2)}× ideal, ${seconds(r.wallMs)} instead of at most ${seconds(r.idealMs * 1.2)} (${Math.round((r.wallMs / (r.idealMs * 1.2) - 1) * 100)} % over)`,
          )
          .join('; ')}.**`;
  const checks = rows.every((r) => r.simRequests === r.calls)
    ? 'the simulator received exactly the calls the client counted'
    : `the simulator's count differs from the client's: ${rows.map((r) => `${r.simRequests} vs ${r.calls}`).join(', ')}`;
  return (
    'Valid stored tokens (no token refresh), so each learner costs exactly 2 edX calls (certificate + current grade: the run is an ' +
    `edX one, without exam). Every learner is frozen and each run ends \`complete\`; ${checks}. The run is reset between rows (FinalGrades, ` +
    'grading status, failures, audit rows, Redis keys).\n\n' +
    `${main}${verdict}\n\nWhere a learner's time goes (sums over the run ÷ learners). "per learner in a worker" = wall × concurrency ÷ learners; edX calls are ` +
    "timed to the response headers; DB statements from knex's query events (BEGIN/COMMIT not included, overlapping statements " +
    'counted separately; the edX stage and the database stage of different learners overlap, so "other" — the rest: waiting for the ' +
    'event loop or a pool connection, JavaScript — comes out negative when they do). CPU figures are process CPU time (Node: ' +
    `${freezeSimulatorWhere?.startsWith('a separate') ? 'the freeze process only, the simulator runs apart' : 'this process, freeze and simulator together'}; ` +
    `PostgreSQL: every local postgres process).\n\n${profile}\n`
  );
}

function memoryMarkdown(rows: MemoryRow[]): string {
  const main = table(
    [
      'learners',
      'concurrency',
      'edX latency',
      'wall',
      'RSS start',
      'RSS peak (at)',
      'RSS median',
      'RSS p95',
      'RSS end',
      'heap start → peak',
      'samples',
    ],
    rows.map((r) => [
      r.learners,
      r.concurrency,
      `${r.latencyMs} ms`,
      seconds(r.wallMs),
      mb(r.startRss),
      `${mb(r.peakRss)} (${(r.peakAtMs / 1000).toFixed(1)} s)`,
      mb(r.medianRss),
      mb(r.p95Rss),
      mb(r.endRss),
      `${mb(r.startHeap)} → ${mb(r.peakHeap)}`,
      r.samples,
    ]),
  );
  const curves = rows.map((r) => `- ${r.learners} learners, RSS (MB) at 12 evenly spaced samples: ${r.curve.join(' → ')}`).join('\n');
  return (
    'Each count runs in a fresh child process (`node --expose-gc`, a GC just before the start sample); RSS sampled every ' +
    '250 ms with `process.memoryUsage().rss` from the start of `runFreezeJob` to its end. The start figure already holds the ' +
    `simulator's world (every learner's tokens and grades, in the same process) and the connection pools.\n\n${main}\n\n${curves}\n`
  );
}

function statusMarkdown(r: StatusResult): string {
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(1)} ms` : '—');
  const main = table(
    ['database state', 'first call (counted again)', 'median', 'p95', 'min', 'max', 'cold process median', 'cold process p95'],
    r.timings.map((t) => {
      const proc = [...t.processMs].sort((a, b) => a - b);
      return [
        t.label,
        ms(t.firstMs),
        ms(t.medianMs),
        ms(t.p95Ms),
        ms(t.minMs),
        ms(t.maxMs),
        ms(percentile(proc, 50)),
        ms(percentile(proc, 95)),
      ];
    }),
  );
  const counts =
    `The run: ${r.enrollments} enrollments, ${r.eligible} eligible (3 % have no cached current grade), ${r.frozen} frozen, ` +
    `${r.failed} failed (800 failure rows, also on the Redis list, some of them for learners frozen since, and 50 ids only on the Redis list), ` +
    `${r.remaining} remaining; another run holds ${r.background} more enrollments, all frozen, in the same tables. ` +
    `Timed, for each database state: the first call of \`getFreezeStatus\` (the counts moved, so it counts the rule again and keeps the counting), ` +
    `then ${r.calls} calls after 5 warm-up calls (the kept counting holds: nothing moved), ` +
    `then 5 cold \`gradeops freeze-status KEY --json\` processes after one untimed (spawn to exit, start-up included).`;
  const parts = r.timings.map((t) => {
    const queries = table(
      ['statement (first 120 characters)', 'per call', 'median'],
      t.queries.map((q) => [`\`${q.sql.replace(/\|/g, '\\|')}\``, q.perCall.toFixed(0), `${q.medianMs.toFixed(2)} ms`]),
    );
    return `Statements of one call, ${t.label} (median over the calls):\n\n${queries}\n\n<details><summary>Plan of the kept-counting check, ${t.label}</summary>\n\n\`\`\`\n${t.plan.join('\n')}\n\`\`\`\n</details>`;
  });
  const verdict = `**Target: under 20 ms on PostgreSQL (issue 10 §3). ${r.timings.map((t) => `${t.label}: ${t.p95Ms < 20 ? 'met' : 'missed'} (median ${t.medianMs.toFixed(1)} ms, p95 ${t.p95Ms.toFixed(1)} ms)`).join('; ')}.**`;
  return `${counts}\n\n${main}\n\n${verdict}\n\n${parts.join('\n\n')}\n`;
}

const TEMPLATE = `# gradeops benchmarks

\`npm run bench\` writes the figures between the markers below; text outside them is kept.

<!-- bench:header -->
<!-- /bench:header -->

## (a) Freeze throughput

<!-- bench:freeze -->
<!-- /bench:freeze -->

## (b) Memory while freezing

<!-- bench:memory -->
<!-- /bench:memory -->

## (c) freeze-status latency

<!-- bench:status -->
<!-- /bench:status -->

## (d) gradeops repl start-up

<!-- bench:repl -->
<!-- /bench:repl -->

## (e) Console start-up

<!-- bench:tui -->
<!-- /bench:tui -->

## (f) Exam grade projection

<!-- bench:projection -->
<!-- /bench:projection -->
`;

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (flags.child === 'memory') return memoryChild();
  if (flags.child !== undefined) usageError(`unknown --child ${flags.child}`);

  const only =
    flags.only === undefined
      ? [...PHASES]
      : String(flags.only)
          .split(',')
          .map((s) => s.trim());
  for (const p of only) if (!PHASES.includes(p as Phase)) usageError(`--only takes ${PHASES.join(', ')}, not ${p}`);
  const want = (p: Phase) => only.includes(p);
  const freezeOptions = {
    learners: intFlag('learners', 5000),
    learnersC1: intFlag('learners-c1', 500),
    concurrency: intListFlag('concurrency', [1, 8, 32]),
    latencyMs: intFlag('latency', 20, 0),
    extraLatencyMs: intFlag('extra-latency', 100, 0),
  };
  const memoryOptions = {
    learners: intListFlag('memory-learners', [5000, 50_000]),
    latencyMs: intFlag('memory-latency', 2, 0),
    concurrency: intFlag('memory-concurrency', 32),
  };
  const urls = benchServiceUrls();
  const embedded = !(urls.databaseUrl && urls.redisUrl);
  if (embedded && flags['memory-learners'] === undefined) {
    // PGlite answers one statement at a time and holds the whole database in this process:
    // 50,000 learners would take several minutes, so the embedded default stops at 20,000.
    memoryOptions.learners = [5000, 20_000];
  }
  const statusOptions = { enrollments: intFlag('status-enrollments', 100_000), calls: intFlag('status-calls', 30) };
  const projectionOptions = { learners: intFlag('projection-learners', 10_000), repeats: intFlag('projection-repeats', 3) };

  const started = performance.now();
  const loadAtStart = os.loadavg();
  const services = await openServices();
  // Ctrl-C still drops the scratch database.
  process.once('SIGINT', () => {
    log('bench: interrupted; dropping the scratch database');
    runningChild?.kill('SIGTERM');
    services.close().then(
      () => process.exit(130),
      () => process.exit(130),
    );
  });
  log(`bench: ${services.describe}; load average ${loadAtStart.map((x) => x.toFixed(2)).join(', ')} on ${os.cpus().length} cores`);
  if (loadAtStart[0] > os.cpus().length / 2) log('bench: the machine is busy: figures will be worse than on an idle machine');
  if (services.mode === 'pglite')
    log(
      `bench: PGlite mode — figures are not those of a PostgreSQL deployment; set ${urls.databaseVariable} and ${urls.redisVariable} for them`,
    );
  const sections: Array<[string, string]> = [];
  const out: string[] = [];
  try {
    if (want('freeze')) {
      const rows = await freezePhase(services, freezeOptions);
      sections.push(['freeze', freezeMarkdown(rows)]);
      out.push('(a) freeze throughput', freezeMarkdown(rows));
    }
    if (want('memory')) {
      const rows = await memoryPhase(services, memoryOptions);
      sections.push(['memory', memoryMarkdown(rows)]);
      out.push('(b) memory', memoryMarkdown(rows));
    }
    if (want('status')) {
      const result = await statusPhase(services, statusOptions);
      sections.push(['status', statusMarkdown(result)]);
      out.push('(c) freeze-status', statusMarkdown(result));
    }
    if (want('repl')) {
      const result = await replStartup({
        runs: intFlag('repl-starts', 5),
        databaseUrl: services.scratchUrl ?? undefined,
        redisUrl: services.redisUrl ?? undefined,
      });
      sections.push(['repl', replStartupMarkdown(result)]);
      out.push('(d) gradeops repl start-up', replStartupMarkdown(result));
    }
    if (want('tui')) {
      const rows = await tuiStartupPhase({ launches: intFlag('tui-launches', 5), ...urls });
      sections.push(['tui', tuiStartupMarkdown(rows)]);
      out.push('(e) console start-up', tuiStartupMarkdown(rows));
    }
    if (want('startup')) {
      const result = await startupBench({
        repeats: intFlag('startup-repeats', 11),
        databaseUrl: services.scratchUrl ?? undefined,
        redisUrl: services.redisUrl ?? undefined,
      });
      sections.push(['startup', startupMarkdown(result)]);
      out.push('(h) command start-up', startupMarkdown(result));
    }
    // Last: its world stays in the scratch database.
    if (want('projection')) {
      const result = await projectionBench(services.db, { ...projectionOptions, log });
      const markdown = projectionMarkdown(result, services.describe);
      sections.push(['projection', markdown]);
      out.push('(f) exam projection', markdown);
    }
    if (want('cold')) {
      if (!services.scratchUrl || !services.redisUrl) {
        log(`bench: cold-process phase skipped: it needs PostgreSQL (${urls.databaseVariable} and ${urls.redisVariable})`);
      } else {
        const result = await coldPhase(
          { db: services.db, redis: services.redis, scratchUrl: services.scratchUrl, redisUrl: services.redisUrl },
          {
            learners: intFlag('cold-learners', 3000),
            latencies: intListFlag('cold-latency', [20, 100]),
            concurrency: 32,
            log,
            cpuProfDir: process.env.BENCH_COLD_CPU_PROF,
          },
        );
        sections.push(['cold', coldMarkdown(result)]);
        out.push('(g) cold freeze process', coldMarkdown(result));
      }
    }
  } finally {
    await services.close();
  }
  const totalMs = performance.now() - started;
  process.stdout.write(`\n${out.join('\n\n')}\n\ntotal ${seconds(totalMs)}\n`);

  if (!flags['no-write']) {
    const cpus = os.cpus();
    const env =
      services.mode === 'postgres'
        ? `${urls.databaseVariable}=${redactUrl(urls.databaseUrl!)} ${urls.redisVariable}=${redactUrl(urls.redisUrl!)} `
        : '';
    const command = `${env}npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
    const header = [
      `- date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
      `- command: \`${command}\` (total ${seconds(totalMs)}; phases run: ${only.join(', ')})`,
      `- mode: ${services.describe}`,
      `- machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown CPU'}), ${(os.totalmem() / 1024 ** 3).toFixed(0)} GB RAM, ${os.type()} ${os.release()}, Node ${process.version}`,
      `- load average when the bench started: ${loadAtStart.map((x) => x.toFixed(2)).join(', ')}; when it ended: ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(', ')} (other work on the machine skews the figures)`,
      `- the simulated edX of the freeze phase runs in ${freezeSimulatorWhere ?? 'the same Node process as the freeze'}, on the same cores as the freeze, PostgreSQL and Redis; the memory phase's in the measured process (its RSS includes the simulator's world)`,
    ].join('\n');
    let doc = existsSync(RESULTS_FILE) ? readFileSync(RESULTS_FILE, 'utf8') : TEMPLATE;
    doc = replaceSection(doc, 'header', header);
    for (const [name, body] of sections) doc = replaceSection(doc, name, body);
    writeFileSync(RESULTS_FILE, doc);
    log(`bench: wrote ${path.relative(process.cwd(), RESULTS_FILE)}`);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
