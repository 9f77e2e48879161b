import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withWorldRedis } from '../helpers/cli-edx.js';
import { runCli } from '../helpers/cli.js';
import { cliWorld, type CliWorld } from '../helpers/cli-world.js';

// The embedded Redis stand-in is made only when a command uses Redis (issue 10 §4): a command that
// never does must leave the failed-users lists kept in the data directory as they were.

let world: CliWorld;

beforeAll(async () => {
  world = await cliWorld();
  const first = await runCli(['runs', '--json'], world.env);
  expect(first.code, first.stderr).toBe(0);
}, 120_000);

afterAll(() => world.close());

describe('a command that does not use Redis', () => {
  it('keeps the failed-users list an earlier freeze left', async () => {
    const key = 'failed_users_course-v1:MITx+14.100x+2T2026';
    await withWorldRedis(world, async (redis) => {
      await redis.del(key);
      await redis.rpush(key, '41', '42');
    });
    const runs = await runCli(['runs'], world.env);
    expect(runs.code, runs.stderr).toBe(0);
    expect(await withWorldRedis(world, (redis) => redis.lrange(key, 0, -1))).toEqual(['41', '42']);
  });
});
