import diagnostics from 'node:diagnostics_channel';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';

// What a freeze spends its time on: database round trips (knex query events), edX calls (the
// global fetch, timed to the response headers), this process' CPU and event-loop use, and the
// CPU of the local PostgreSQL server (read from /proc when it runs on this machine). edX calls are
// timed from request start to response headers through node:http's diagnostics channels, and
// through a wrapper of the global fetch should the client use that.

export interface ProbeResult {
  wallMs: number;
  queries: number;
  /** Sum of every query's duration (overlapping queries count separately). */
  dbMs: number;
  fetches: number;
  /** Sum of every edX call's time to the response headers. */
  httpMs: number;
  /** User + system CPU of this process. */
  cpuMs: number;
  /** Event-loop utilisation, 0–1: near 1 means this process is CPU-bound. */
  elu: number;
  /** CPU of every local `postgres` process, when /proc shows them; else null. */
  postgresCpuMs: number | null;
  /** Durations of each query text (first 120 characters), for breakdowns. */
  bySql: Map<string, { count: number; ms: number }>;
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** Total CPU (ms) of processes named `postgres`, or null when none is visible. */
export function postgresCpuMs(): number | null {
  if (process.platform !== 'linux') return null;
  let ticks = 0;
  let seen = false;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (stat.slice(open + 1, close) !== 'postgres') continue;
    const fields = stat.slice(close + 2).split(' ');
    // fields[0] is field 3 (state); utime, stime are fields 14 and 15.
    ticks += Number(fields[11]) + Number(fields[12]);
    seen = true;
  }
  return seen ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
}

export interface Probe {
  stop(): ProbeResult;
}

export function startProbe(db: Knex, options: { recordSql?: boolean; postgresCpu?: boolean } = {}): Probe {
  const started = new Map<string, number>();
  const bySql = new Map<string, { count: number; ms: number }>();
  let queries = 0;
  let dbMs = 0;
  const onQuery = (q: { __knexQueryUid: string }) => {
    started.set(q.__knexQueryUid, performance.now());
  };
  const onDone = (_: unknown, q: { __knexQueryUid: string; sql: string }) => {
    const at = started.get(q.__knexQueryUid);
    if (at === undefined) return;
    started.delete(q.__knexQueryUid);
    const ms = performance.now() - at;
    queries += 1;
    dbMs += ms;
    if (options.recordSql) {
      const key = String(q.sql).replace(/\s+/g, ' ').slice(0, 120);
      const entry = bySql.get(key) ?? { count: 0, ms: 0 };
      entry.count += 1;
      entry.ms += ms;
      bySql.set(key, entry);
    }
  };
  const onError = (_: unknown, q: { __knexQueryUid: string; sql: string }) => onDone(_, q);
  db.on('query', onQuery);
  db.on('query-response', onDone);
  db.on('query-error', onError);

  const originalFetch = globalThis.fetch;
  let fetches = 0;
  let httpMs = 0;
  const sent = new WeakMap<object, number>();
  const onRequest = (message: unknown) => {
    sent.set((message as { request: object }).request, performance.now());
  };
  const onResponse = (message: unknown) => {
    const at = sent.get((message as { request: object }).request);
    if (at === undefined) return;
    fetches += 1;
    httpMs += performance.now() - at;
  };
  diagnostics.subscribe('http.client.request.start', onRequest);
  diagnostics.subscribe('http.client.response.finish', onResponse);
  globalThis.fetch = async (...args: Parameters<typeof fetch>) => {
    const at = performance.now();
    try {
      return await originalFetch(...args);
    } finally {
      fetches += 1;
      httpMs += performance.now() - at;
    }
  };

  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  const pg0 = options.postgresCpu ? postgresCpuMs() : null;
  const t0 = performance.now();

  return {
    stop() {
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0).utilization;
      const pg1 = options.postgresCpu ? postgresCpuMs() : null;
      globalThis.fetch = originalFetch;
      diagnostics.unsubscribe('http.client.request.start', onRequest);
      diagnostics.unsubscribe('http.client.response.finish', onResponse);
      db.off('query', onQuery);
      db.off('query-response', onDone);
      db.off('query-error', onError);
      return {
        wallMs,
        queries,
        dbMs,
        fetches,
        httpMs,
        cpuMs: (cpu.user + cpu.system) / 1000,
        elu,
        postgresCpuMs: pg0 !== null && pg1 !== null ? pg1 - pg0 : null,
        bySql,
      };
    },
  };
}

/** Samples this process' RSS every `everyMs`: start, peak and the whole series. */
export function startRssSampler(everyMs = 250) {
  const samples: Array<{ atMs: number; rss: number; heapUsed: number }> = [];
  const t0 = performance.now();
  const sample = () => {
    const m = process.memoryUsage();
    samples.push({ atMs: Math.round(performance.now() - t0), rss: m.rss, heapUsed: m.heapUsed });
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    samples,
    stop() {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}
