import { Redis } from 'ioredis';
import { OpsError } from '../domain/errors.js';
import { redactUrl } from '../domain/secrets.js';

export type { Redis };

/** Connects to a real Redis and proves it answers, or fails with one line naming the fix. */
export async function openRedis(url: string): Promise<Redis> {
  const redis = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 2,
    connectTimeout: 5_000,
    enableOfflineQueue: true,
    retryStrategy: (times) => (times > 3 ? null : Math.min(times * 200, 1_000)),
  });
  redis.on('error', () => {
    /* surfaced through the failing command instead */
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (error) {
    redis.disconnect();
    throw new OpsError(
      'redis-unreachable',
      `cannot reach Redis at ${redactUrl(url)}: ${(error as Error).message.split('\n')[0]}`,
      'check that Redis runs and REDIS_URL names the right host and port',
    );
  }
}

export { openRedisStandIn } from './redis-stand-in.js';
