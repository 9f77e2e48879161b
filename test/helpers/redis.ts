import { afterAll } from 'vitest';
import { openRedis, openRedisStandIn, type Redis } from '../../src/app/redis.js';
import { REDIS_URL } from './services.js';

const opened: Redis[] = [];
afterAll(async () => {
  for (const redis of opened.splice(0)) redis.disconnect();
});

/**
 * A clean Redis for one test file: real Redis (a database index of its own per worker, flushed)
 * when REDIS_URL is set, else the in-process stand-in, flushed.
 */
export async function freshRedis(): Promise<Redis> {
  let redis: Redis;
  if (REDIS_URL) {
    const url = new URL(REDIS_URL);
    const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1);
    url.pathname = `/${1 + (worker % 15)}`;
    redis = await openRedis(url.toString());
  } else {
    redis = openRedisStandIn();
  }
  await redis.flushdb();
  opened.push(redis);
  return redis;
}
