import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import type { Redis } from 'ioredis';
import { migrateLatest, openPglite } from '../src/app/database.js';
import { openRedisStandIn } from '../src/app/redis.js';
import { listFreezableRunKeys } from '../src/domain/course-runs/freeze-date.js';
import { runFreezeJob } from '../src/domain/freeze/freeze-job.js';
import { rawRows } from '../src/domain/db.js';
import { seedDemo } from '../src/seed/demo-world.js';
import { startEmbeddedSimulators } from '../src/simulator/index.js';
import { startRemoteSimulator } from './remote-simulator.js';
import { buildIsCurrent } from './tui-startup.js';
import { createBenchRun, resetRun, countFinalGrades } from './world.js';

// Issue 10 §1–2, the `cold` phase: one fresh `gradeops freeze` process as an operator runs it
// (whole wall time, start-up included, and its user + system CPU), beside a bare HTTP client that
// makes the same edX calls at the same concurrency through the same simulator, at 20 and 100 ms
// per call; then the edX calls per frozen learner of the targeted refresh and `--full-refresh` on
// the demo world, whose learners hold several enrollments. PostgreSQL only: the child process
// needs a database it can open beside this one.

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'gradeops.js');
const TARGET_RATIO = 1.3;

export interface ColdServices {
  db: Knex;
  redis: Redis;
  scratchUrl: string;
  redisUrl: string;
}

export interface ColdOptions {
  learners: number;
  latencies: number[];
  concurrency: number;
  log: (message: string) => void;
  /** Write a CPU profile of each cold process there (`node --cpu-prof`). */
  cpuProfDir?: string;
}

interface BareRun {
  wallMs: number;
  requests: number;
  cpuMs: number;
}

interface ColdRun {
  wallMs: number;
  userMs: number;
  sysMs: number;
  maxRssMb: number;
  requests: number;
  frozen: number;
}

interface ColdRow {
  latencyMs: number;
  bare: BareRun;
  cold: ColdRun;
  ratio: number;
}

interface CallsRow {
  mode: 'targeted' | '--full-refresh';
  runs: number;
  frozen: number;
  certificate: number;
  grade: number;
  /**
   * Every token-refresh POST, refused ones included: the demo's revoked grants are tried (and
   * refused, nothing to save) once per run their learner is queued on, and MITx Online rows, which
   * store no updated_at, are refreshed on every use (spec 2.3, E13); an edX token refreshed once is
   * not due again.
   */
  tokenRefresh: number;
  enrollments: number;
}

export interface ColdResult {
  learners: number;
  concurrency: number;
  rows: ColdRow[];
  calls: CallsRow[];
  demoLearners: number;
  loadStart: number[];
  loadEnd: number[];
  code: string;
}

interface LearnerCall {
  uid: string;
  token: string;
}

/** The same two calls per learner the freeze makes (spec 3.3, 3.4), `concurrency` learners at a time, keep-alive. */
async function bareClient(baseUrl: string, courseKey: string, learners: LearnerCall[], concurrency: number): Promise<BareRun> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const base = new URL(baseUrl);
  let requests = 0;
  const get = (pathname: string, token: string) =>
    new Promise<unknown>((resolve, reject) => {
      requests += 1;
      const req = http.get(
        {
          host: base.hostname,
          port: base.port,
          path: pathname,
          agent,
          headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
            } catch (error) {
              reject(error instanceof Error ? error : new Error(String(error)));
            }
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
    });
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  const slot = async () => {
    while (next < learners.length) {
      const l = learners[next++];
      await get(`/api/certificates/v0/certificates/${l.uid}/courses/${courseKey}/`, l.token);
      await get(`/api/grades/v1/courses/${courseKey}/?username=${l.uid}`, l.token);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, slot));
  const wallMs = performance.now() - t0;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { wallMs, requests, cpuMs: (used.user + used.system) / 1000 };
}

/** One fresh `gradeops freeze` process, timed from spawn to exit, its CPU and peak RSS from /usr/bin/time. */
async function coldFreeze(
  services: ColdServices,
  baseUrl: string,
  courseKey: string,
  concurrency: number,
  profDir: string | undefined,
): Promise<Omit<ColdRun, 'requests' | 'frozen'> & { summary: { status?: string; frozenThisRun?: number } }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gradeops-bench-cold-'));
  const timeFile = path.join(dir, 'time');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // Only the scratch database and the bench's Redis reach the child, under the app's own names.
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'REDISCLOUD_URL', 'CELERY_BROKER_URL', 'GRADEOPS_DEBUG', 'NODE_OPTIONS'])
    delete env[name];
  Object.assign(env, {
    DATABASE_URL: services.scratchUrl,
    REDIS_URL: services.redisUrl,
    EDXORG_CALLBACK_URL: baseUrl,
    MITXONLINE_CALLBACK_URL: baseUrl,
    EDXORG_CLIENT_ID: 'bench-client',
    EDXORG_CLIENT_SECRET: 'bench-secret',
    GRADEOPS_OPERATOR: 'bench',
    GRADEOPS_DATA_DIR: dir,
  });
  const nodeArgs = profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];
  const args = [
    '-f',
    '%U %S %M',
    '-o',
    timeFile,
    process.execPath,
    ...nodeArgs,
    BIN,
    'freeze',
    courseKey,
    '--concurrency',
    String(concurrency),
    '--json',
  ];
  try {
    const t0 = performance.now();
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('/usr/bin/time', args, { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    });
    const wallMs = performance.now() - t0;
    if (code !== 0) throw new Error(`gradeops freeze exited with ${code}: ${stderr.slice(-800)}`);
    const [user, sys, rssKb] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
    return { wallMs, userMs: user * 1000, sysMs: sys * 1000, maxRssMb: rssKb / 1024, summary: JSON.parse(stdout) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** edX calls per frozen learner on a fresh demo world (in memory), every freezable run frozen in one mode. */
export async function callsOnDemo(learners: number, fullRefresh: boolean): Promise<CallsRow> {
  const now = new Date();
  const db = openPglite(null);
  const redis = openRedisStandIn();
  try {
    // The stand-ins of one process share their keys (ioredis-mock: one keyspace per host and port),
    // so without this the second mode started with the failed lists the first left: its re-runs
    // skipped the learners whose refresh was refused (spec 5b), and it counted 22 token refreshes
    // against the first mode's 36 on the 120-learner demo. The cold phase runs on PostgreSQL and a
    // real Redis, so no other stand-in of this process holds anything.
    await redis.flushdb();
    await migrateLatest(db);
    await seedDemo(db, { learners, seed: 1, now });
    const sims = await startEmbeddedSimulators(db);
    try {
      const edx = {
        baseUrls: sims.urls,
        clients: { edxorg: { id: 'bench', secret: 'bench' }, mitxonline: { id: 'bench', secret: 'bench' } },
        timeoutMs: 10_000,
        retries: 0,
      };
      const ctx = { db, redis, edx, operator: 'bench', now: () => now };
      const keys = await listFreezableRunKeys(db, now);
      let frozen = 0;
      for (const key of keys) frozen += (await runFreezeJob(ctx, key, { concurrency: 8, fullRefresh })).frozenThisRun;
      const sum = (endpoint: 'certificate' | 'current-grade' | 'token-refresh' | 'enrollments') =>
        sims.simulators.edxorg.stats.byEndpoint[endpoint] + sims.simulators.mitxonline.stats.byEndpoint[endpoint];
      return {
        mode: fullRefresh ? '--full-refresh' : 'targeted',
        runs: keys.length,
        frozen,
        certificate: sum('certificate'),
        grade: sum('current-grade'),
        tokenRefresh: sum('token-refresh'),
        enrollments: sum('enrollments'),
      };
    } finally {
      await sims.close();
    }
  } finally {
    redis.disconnect();
    await db.destroy();
  }
}

export async function coldPhase(services: ColdServices, options: ColdOptions): Promise<ColdResult> {
  const { db, redis } = services;
  const { log } = options;
  const loadStart = os.loadavg();
  const run = await createBenchRun(db, { tag: `C${process.pid}n${options.learners}`, learners: options.learners });
  await db.raw('ANALYZE');
  const learners = rawRows<LearnerCall>(
    await db.raw(
      `SELECT s.uid, s.extra_data->>'access_token' AS token
         FROM social_auth_usersocialauth s JOIN dashboard_cachedenrollment e ON e.user_id = s.user_id
        WHERE e.course_run_id = ? AND s.provider = 'edxorg' ORDER BY s.user_id`,
      [run.id],
    ),
  );
  const sim = await startRemoteSimulator(services.scratchUrl, options.latencies[0] ?? 20);
  log(`cold: ${learners.length} learners written; simulator in ${sim.where}`);
  const rows: ColdRow[] = [];
  try {
    for (const latencyMs of options.latencies) {
      await resetRun(db, redis, run);
      await sim.setLatency(latencyMs);
      const bare = await bareClient(sim.baseUrl, run.key, learners, options.concurrency);
      bare.requests = await sim.requests();
      log(`cold: bare client at ${latencyMs} ms: ${(bare.wallMs / 1000).toFixed(2)} s for ${bare.requests} calls`);
      await sim.setLatency(latencyMs);
      const cold = await coldFreeze(services, sim.baseUrl, run.key, options.concurrency, options.cpuProfDir);
      const frozen = await countFinalGrades(db, run.id);
      const requests = await sim.requests();
      if (cold.summary.status !== 'complete' || frozen !== learners.length)
        throw new Error(`the cold freeze did not complete: status ${cold.summary.status}, ${frozen} of ${learners.length} frozen`);
      const row: ColdRow = { latencyMs, bare, cold: { ...cold, requests, frozen }, ratio: cold.wallMs / bare.wallMs };
      rows.push(row);
      log(
        `cold: gradeops freeze at ${latencyMs} ms: ${(cold.wallMs / 1000).toFixed(2)} s (${row.ratio.toFixed(2)}× the bare client), CPU ${(cold.userMs + cold.sysMs).toFixed(0)} ms, ${requests} calls`,
      );
    }
  } finally {
    await sim.close();
    await resetRun(db, redis, run);
  }
  const demoLearners = 120;
  log(`cold: edX calls per learner on a ${demoLearners}-learner demo world, targeted and --full-refresh…`);
  const calls = [await callsOnDemo(demoLearners, false), await callsOnDemo(demoLearners, true)];
  return {
    learners: learners.length,
    concurrency: options.concurrency,
    rows,
    calls,
    demoLearners,
    loadStart,
    loadEnd: os.loadavg(),
    code: buildIsCurrent() ? 'the build, dist/' : 'the sources through tsx (dist/ is stale: `npm run build` first)',
  };
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');

export function coldMarkdown(r: ColdResult): string {
  const lines = [
    `${r.learners} learners on one edX run (one enrollment each), concurrency ${r.concurrency}, the simulator in its own process. ` +
      `The bare client makes the same calls (a certificate and a current grade per learner) with node:http keep-alive in the bench process, start-up not counted; ` +
      `\`gradeops freeze <key> --concurrency ${r.concurrency} --json\` runs as a fresh process (code: ${r.code}), timed from spawn to exit. ` +
      `Load average ${load(r.loadStart)} at the start, ${load(r.loadEnd)} at the end, on ${os.cpus().length} cores.`,
    '',
    '| edX latency | bare client | cold `gradeops freeze` | ratio | target | freeze CPU (user + sys) | CPU per learner | bare client CPU | peak RSS | calls (bare / freeze) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map(
      (row) =>
        `| ${row.latencyMs} ms | ${s(row.bare.wallMs)} | ${s(row.cold.wallMs)} | ${row.ratio.toFixed(2)}× | ${row.latencyMs === 20 ? `≤ ${TARGET_RATIO}× ${row.ratio <= TARGET_RATIO ? '(met)' : '(not met)'}` : '—'} | ${(row.cold.userMs + row.cold.sysMs).toFixed(0)} ms (${row.cold.userMs.toFixed(0)} + ${row.cold.sysMs.toFixed(0)}) | ${((row.cold.userMs + row.cold.sysMs) / row.cold.frozen).toFixed(2)} ms | ${row.bare.cpuMs.toFixed(0)} ms | ${row.cold.maxRssMb.toFixed(0)} MB | ${row.bare.requests} / ${row.cold.requests} |`,
    ),
    '',
    `edX calls per frozen learner, every freezable run of a ${r.demoLearners}-learner demo world (several enrollments per learner) frozen in one mode:`,
    '',
    '| refresh | runs | learners frozen | certificate | current grade | token refresh | calls per frozen learner |',
    '|---|---|---|---|---|---|---|',
    ...r.calls.map(
      (c) =>
        `| ${c.mode} | ${c.runs} | ${c.frozen} | ${c.certificate} | ${c.grade} | ${c.tokenRefresh} | ${c.frozen > 0 ? ((c.certificate + c.grade + c.tokenRefresh + c.enrollments) / c.frozen).toFixed(2) : '—'} |`,
    ),
  ];
  return lines.join('\n');
}
