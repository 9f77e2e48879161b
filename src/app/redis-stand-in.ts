import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';

/** The embedded stand-in: ioredis' interface, held in this process. */
export function openRedisStandIn(): Redis {
  // Loaded here, not imported: the stand-in (with its Lua interpreter, and the ioredis it extends)
  // costs a fifth to two fifths of a second to load, which a start-up on a real Redis, or a command
  // that never touches Redis, does not need.
  const RedisMock = createRequire(import.meta.url)('ioredis-mock') as new () => Redis;
  return new RedisMock();
}
