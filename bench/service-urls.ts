import type { Redis } from 'ioredis';

// Where the benchmarks may write. Never DATABASE_URL / REDIS_URL: an operator's shell holds
// production there, and the bench creates databases and writes Redis keys. The bench's own names
// come first, then the test suite's (the same disposable services).

export interface BenchServiceUrls {
  databaseUrl?: string;
  redisUrl?: string;
  /** The variables they came from, for messages. */
  databaseVariable: string;
  redisVariable: string;
}

function pick(names: readonly string[], env: NodeJS.ProcessEnv): { value?: string; variable: string } {
  for (const name of names) if (env[name]) return { value: env[name], variable: name };
  return { variable: names.join(' or ') };
}

export function benchServiceUrls(env: NodeJS.ProcessEnv = process.env): BenchServiceUrls {
  const db = pick(['GRADEOPS_BENCH_DATABASE_URL', 'GRADEOPS_TEST_DATABASE_URL'], env);
  const redis = pick(['GRADEOPS_BENCH_REDIS_URL', 'GRADEOPS_TEST_REDIS_URL'], env);
  return { databaseUrl: db.value, redisUrl: redis.value, databaseVariable: db.variable, redisVariable: redis.variable };
}

export const BENCH_SERVICES_HELP =
  'PostgreSQL + Redis when GRADEOPS_BENCH_DATABASE_URL and GRADEOPS_BENCH_REDIS_URL are set (else GRADEOPS_TEST_DATABASE_URL and GRADEOPS_TEST_REDIS_URL; never DATABASE_URL / REDIS_URL): a scratch database is created on that server and dropped, and the Redis database must be empty';

/** The bench writes and deletes keys: it only uses a Redis database that holds none. */
export async function assertEmptyRedis(redis: Redis, variable: string): Promise<void> {
  const keys = await redis.dbsize();
  if (keys !== 0)
    throw new Error(
      `${variable} names a Redis database holding ${keys} key(s): point it at an empty one (check with \`redis-cli -n N dbsize\`)`,
    );
}
