import { Redis } from 'ioredis';
import path from 'node:path';
import { openRedisStandIn } from '../../src/app/redis.js';
import { loadStandIn, saveStandIn } from '../../src/app/redis-stand-in-file.js';
import { loadWorldFromDatabase, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';
import type { CliWorld } from './cli-world.js';

// For CLI tests that need edX to misbehave for chosen learners: a simulated edX served from the
// test process (built from the world's database), which the CLI then uses through the callback
// URLs; and the world's Redis as gradeops sees it (real Redis, or the embedded stand-in's file).

export interface TestEdx {
  env: NodeJS.ProcessEnv;
  edxorg: RunningSimulator;
  close(): Promise<void>;
}

/** Call while no gradeops process runs (embedded: the test opens the data directory itself). */
export async function startTestEdx(world: CliWorld): Promise<TestEdx> {
  const db = world.openDb();
  const simWorld = await loadWorldFromDatabase(db).finally(() => db.destroy());
  const edxorg = await startSimulator({ world: simWorld, provider: 'edxorg' });
  const mitxonline = await startSimulator({ world: simWorld, provider: 'mitxonline' });
  return {
    env: { ...world.env, EDXORG_CALLBACK_URL: edxorg.baseUrl, MITXONLINE_CALLBACK_URL: mitxonline.baseUrl },
    edxorg,
    async close() {
      await Promise.all([edxorg.close(), mitxonline.close()]);
    },
  };
}

/** Runs `work` on the world's Redis (embedded: the stand-in's keys, saved back afterwards). */
export async function withWorldRedis<T>(world: CliWorld, work: (redis: Redis) => Promise<T>): Promise<T> {
  if (world.mode === 'postgres') {
    const redis = new Redis(world.env.REDIS_URL!, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      return await work(redis);
    } finally {
      redis.disconnect();
    }
  }
  const file = path.join(world.env.GRADEOPS_DATA_DIR!, 'redis-stand-in.json');
  const redis = openRedisStandIn();
  await redis.flushall();
  await loadStandIn(redis, file);
  try {
    const result = await work(redis);
    await saveStandIn(redis, file);
    return result;
  } finally {
    redis.disconnect();
  }
}
