import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { isProcessAlive } from '../process-alive.js';
import { OpsError } from '../errors.js';
import { freezeLockKey } from './redis-keys.js';

// One freeze job per course run across every process and host: a Redis key with an expiry that
// the holder keeps extending. A holder that died on this host (kill -9) is detected by its PID
// and taken over at once; one on another host is taken over when its expiry runs out. A holder
// whose heartbeat finds the lock gone (or cannot reach Redis for a whole expiry) has lost it.

export interface FreezeLockOwner {
  token: string;
  operator: string;
  host: string;
  pid: number;
  startedOn: string;
}

export interface FreezeLock {
  owner: FreezeLockOwner;
  /**
   * Aborted (reason: a one-line Error) when the lock is no longer ours: the heartbeat found another
   * value under the key, or Redis did not confirm it for longer than its expiry (issue 12 §5). A job
   * must then stop writing: the next holder may already be at work.
   */
  lost: AbortSignal;
  release(): Promise<void>;
}

const EXTEND_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const DELETE_IF_OWNER = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export async function readFreezeLock(redis: Redis, courseKey: string): Promise<FreezeLockOwner | null> {
  const raw = await redis.get(freezeLockKey(courseKey));
  if (!raw) return null;
  try {
    const owner = JSON.parse(raw) as FreezeLockOwner;
    if (owner.host === os.hostname() && !isProcessAlive(owner.pid)) return null; // a dead holder holds nothing
    return owner;
  } catch {
    return null;
  }
}

export async function acquireFreezeLock(redis: Redis, courseKey: string, operator: string, ttlMs = 30_000): Promise<FreezeLock> {
  const key = freezeLockKey(courseKey);
  const owner: FreezeLockOwner = {
    token: randomUUID(),
    operator,
    host: os.hostname(),
    pid: process.pid,
    startedOn: new Date().toISOString(),
  };
  const value = JSON.stringify(owner);
  for (let attempt = 0; attempt < 2; attempt++) {
    if ((await redis.set(key, value, 'PX', ttlMs, 'NX')) === 'OK') {
      const lost = new AbortController();
      let confirmedAt = Date.now();
      const lose = (message: string) => {
        if (!lost.signal.aborted) lost.abort(new Error(message));
      };
      const heartbeat = setInterval(
        () => {
          if (lost.signal.aborted) return;
          if (Date.now() - confirmedAt > ttlMs) {
            lose(
              `Redis has not confirmed the freeze lock of ${courseKey} for longer than its ${ttlMs} ms expiry, so another job may hold it now`,
            );
            return;
          }
          redis.eval(EXTEND_IF_OWNER, 1, key, value, ttlMs).then(
            async (extended) => {
              if (Number(extended) === 1) {
                confirmedAt = Date.now();
                return;
              }
              const holder = await readFreezeLock(redis, courseKey).catch(() => null);
              lose(
                `the freeze lock of ${courseKey} was lost${holder ? ` to ${holder.operator} on ${holder.host} (PID ${holder.pid})` : ' (it expired or was removed)'}`,
              );
            },
            () => {
              /* next beat retries; past the expiry the lock counts as lost (above) */
            },
          );
        },
        Math.max(50, Math.floor(ttlMs / 3)),
      );
      heartbeat.unref();
      return {
        owner,
        lost: lost.signal,
        async release() {
          clearInterval(heartbeat);
          await redis.eval(DELETE_IF_OWNER, 1, key, value);
        },
      };
    }
    const current = await redis.get(key);
    const holder = await readFreezeLock(redis, courseKey);
    if (holder) {
      throw new OpsError(
        'freeze-running',
        `a freeze of ${courseKey} is already running: started by ${holder.operator} on ${holder.host} (PID ${holder.pid}) at ${holder.startedOn}`,
        `watch it with \`gradeops freeze-status ${courseKey} --watch\`, or wait for it to finish`,
      );
    }
    // The holder died on this host: remove exactly that stale value, then try once more.
    if (current) await redis.eval(DELETE_IF_OWNER, 1, key, current);
  }
  throw new OpsError('freeze-running', `could not take the freeze lock of ${courseKey}`, 'try again in a few seconds');
}
