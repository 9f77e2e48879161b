import { afterAll } from 'vitest';
import { openRedis, openRedisStandIn, type Redis } from '../../src/app/redis.js';
import { claimRedisDatabase, type RedisClaim } from './redis-claims.js';
import { TEST_REDIS_URL } from './services.js';

const opened: Array<{ redis: Redis; claim: RedisClaim | null }> = [];
afterAll(async () => {
  for (const { redis, claim } of opened.splice(0)) {
    redis.disconnect();
    await claim?.release();
  }
});

/**
 * A clean Redis for one test file: an empty database of the test Redis claimed for this file
 * (emptied again after it) when GRADEOPS_TEST_REDIS_URL is set, else the in-process stand-in.
 */
export async function freshRedis(): Promise<Redis> {
  if (!TEST_REDIS_URL) {
    const redis = openRedisStandIn();
    await redis.flushdb(); // the stand-in is this process's own
    opened.push({ redis, claim: null });
    return redis;
  }
  const claim = await claimRedisDatabase();
  const redis = await openRedis(claim.url);
  opened.push({ redis, claim });
  return redis;
}
