import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { TEST_REDIS_URL, testRunId } from './services.js';

// A test never clears a Redis database it did not pick (issue #12 §1). It claims an EMPTY
// database of the test Redis server (a key naming the claimant, set atomically only while the
// database holds nothing), uses it alone, and empties it again when done. A database holding
// anything (an operator's data, a canary, another run's claim) is never touched.

export const CLAIM_KEY = 'gradeops-test:claimed-by';

const CLAIM_IF_EMPTY = `if redis.call('dbsize') == 0 then redis.call('set', KEYS[1], ARGV[1]) return 1 else return 0 end`;

function urlOfDatabase(index: number): string {
  const url = new URL(TEST_REDIS_URL!);
  url.pathname = `/${index}`;
  return url.toString();
}

function connect(url: string): Redis {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  return redis;
}

async function databaseCount(): Promise<number> {
  const redis = connect(urlOfDatabase(0));
  try {
    await redis.connect();
    const reply = (await redis.config('GET', 'databases').catch(() => [])) as string[];
    return Number(reply[1]) || 16;
  } finally {
    redis.disconnect();
  }
}

/** Empties database `index` if, and only if, `owns(claimant)` says the claim there is ours. */
async function releaseIf(index: number, owns: (claimant: string) => boolean): Promise<boolean> {
  const redis = connect(urlOfDatabase(index));
  try {
    await redis.connect();
    await redis.watch(CLAIM_KEY);
    const claimant = await redis.get(CLAIM_KEY);
    if (claimant === null || !owns(claimant)) {
      await redis.unwatch();
      return false;
    }
    // WATCH makes the flush fail if the claim changed since it was read.
    return (await redis.multi().flushdb().exec()) !== null;
  } finally {
    redis.disconnect();
  }
}

export interface RedisClaim {
  url: string;
  release(): Promise<void>;
}

/** An empty database of the test Redis, ours until `release()` empties it again. */
export async function claimRedisDatabase(): Promise<RedisClaim> {
  const claimant = `${testRunId()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  const count = await databaseCount();
  // Database 0 is where applications keep their data by default: never claimed.
  for (let index = 1; index < count; index++) {
    const url = urlOfDatabase(index);
    const redis = connect(url);
    try {
      await redis.connect();
      if ((await redis.eval(CLAIM_IF_EMPTY, 1, CLAIM_KEY, claimant)) === 1) {
        return { url, release: async () => void (await releaseIf(index, (c) => c === claimant)) };
      }
    } finally {
      redis.disconnect();
    }
  }
  throw new Error(
    `no empty database left on the test Redis (${count} databases, all holding data): tests only use empty ones; free one or raise "databases"`,
  );
}

/** Deletes every key of a claimed database but the claim itself (a test's "start from nothing"). */
export async function clearClaimedDatabase(redis: Redis): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 500);
    cursor = next;
    const mine = keys.filter((k) => k !== CLAIM_KEY);
    if (mine.length > 0) await redis.del(...mine);
  } while (cursor !== '0');
}

/**
 * Empties the databases claimed by this run (a worker that died leaves its claim) and by runs
 * that started more than `staleAfterMs` ago (a killed run). Claims of other live runs stay.
 */
export async function releaseClaimsOfRun(runId: string, staleAfterMs = 6 * 3600 * 1000): Promise<void> {
  const count = await databaseCount();
  for (let index = 1; index < count; index++) {
    await releaseIf(index, (claimant) => {
      const run = claimant.split(':')[0];
      return run === runId || isStaleRunId(run, staleAfterMs);
    });
  }
}

/** Run ids start with their start time in base 36 (see newTestRunId). */
export function isStaleRunId(runId: string, staleAfterMs: number): boolean {
  const started = parseInt(runId.slice(1, 9), 36);
  return /^r[0-9a-z]{8}/.test(runId) && Number.isFinite(started) && Date.now() - started > staleAfterMs;
}

export function newTestRunId(): string {
  return `r${Date.now().toString(36).padStart(8, '0')}${randomBytes(3).toString('hex')}`;
}
