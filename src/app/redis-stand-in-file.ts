import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { openRedisStandIn } from './redis-stand-in.js';

// The embedded Redis stand-in lives in this process only, but the failed list is the truth of who
// is failed (spec 5b, issue 6 §1), so its keys are kept in the data directory between runs: loaded
// when gradeops starts, saved when it closes. A process killed with -9 saves nothing: the next run
// then retries the learners that run failed, which is safe. Freeze locks are never kept (a lock
// belongs to a live process).

interface SavedKey {
  key: string;
  type: 'string' | 'list' | 'hash';
  /** Base64 for strings (MicroMasters' pickled values are binary), plain text otherwise. */
  value: string | string[] | Record<string, string>;
  /** Milliseconds left, or -1 for no expiry. */
  pttl: number;
}

const kept = (key: string) => !key.startsWith('gradeops:freeze:lock:');

export async function loadStandIn(redis: Redis, file: string): Promise<void> {
  await Promise.all(issueLoad(redis, file));
}

/**
 * Sends the saved keys to the stand-in without waiting between commands: the stand-in applies each
 * command as it is called, so the keys are in place when this returns (the promises only report).
 */
export function issueLoad(redis: Redis, file: string): Array<Promise<unknown>> {
  let saved: SavedKey[];
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8')) as SavedKey[];
  } catch {
    return []; // none yet, or unreadable: start empty, as a fresh Redis would
  }
  const sent: Array<Promise<unknown>> = [];
  for (const k of saved) {
    if (!kept(k.key) || k.pttl === 0) continue;
    if (k.type === 'string') sent.push(redis.set(k.key, Buffer.from(k.value as string, 'base64')));
    else if (k.type === 'list' && (k.value as string[]).length > 0) sent.push(redis.rpush(k.key, ...(k.value as string[])));
    else if (k.type === 'hash' && Object.keys(k.value).length > 0) sent.push(redis.hset(k.key, k.value as Record<string, string>));
    else continue;
    if (k.pttl > 0) sent.push(redis.pexpire(k.key, k.pttl));
  }
  return sent;
}

export async function saveStandIn(redis: Redis, file: string): Promise<void> {
  const saved: SavedKey[] = [];
  for (const key of await redis.keys('*')) {
    if (!kept(key)) continue;
    const type = await redis.type(key);
    const pttl = await redis.pttl(key);
    if (type === 'string') saved.push({ key, type, value: ((await redis.getBuffer(key)) ?? Buffer.alloc(0)).toString('base64'), pttl });
    else if (type === 'list') saved.push({ key, type, value: await redis.lrange(key, 0, -1), pttl });
    else if (type === 'hash') saved.push({ key, type, value: await redis.hgetall(key), pttl });
  }
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(saved));
  fs.renameSync(tmp, file);
}

/**
 * The embedded stand-in, made on first use: loading it (ioredis-mock and its Lua interpreter) costs
 * a fifth of a second, which a command that never touches Redis (runs, snapshots, db …) skips.
 * Saved on close only if it was made: an untouched stand-in has nothing new to keep.
 */
export function lazyStandIn(file: string): { redis: Redis; close(): Promise<void> } {
  let real: Redis | null = null;
  const made = (): Redis => {
    if (!real) {
      real = openRedisStandIn();
      for (const sent of issueLoad(real, file)) sent.catch(() => {});
    }
    return real;
  };
  const redis = new Proxy({} as Redis, {
    get(_target, property) {
      const target = made();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set: (_target, property, value) => Reflect.set(made(), property, value),
    has: (_target, property) => Reflect.has(made(), property),
    getPrototypeOf: () => Reflect.getPrototypeOf(made()),
  });
  return {
    redis,
    close: async () => {
      if (!real) return;
      await saveStandIn(real, file).catch(() => {});
      real.disconnect();
    },
  };
}
