import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/app/data-dir-lock.js';
import { OpsError } from '../../src/domain/errors.js';

// The embedded data-dir lock (issue 12 §6): a half-written lock file is read again before it is
// judged dead, an owner on another host is refused (never removed), a dead owner is taken over.

let sleeper: ChildProcess;
beforeAll(() => {
  sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
});
afterAll(() => {
  sleeper.kill();
});

const dir = () => mkdtempSync(path.join(os.tmpdir(), 'gradeops-lock-'));
const lockFile = (d: string) => path.join(d, 'gradeops.lock');
const owner = (pid: number, host = os.hostname()) =>
  JSON.stringify({ pid, host, command: 'gradeops freeze course-v1:MITx+X+1T2026', startedOn: '2026-12-01T10:00:00.000Z' });

async function refusal(promise: Promise<unknown>): Promise<OpsError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpsError);
  return error as OpsError;
}

describe('the embedded data-dir lock', () => {
  it('reads a half-written lock file again: the live owner who finishes writing it is respected', async () => {
    const d = dir();
    writeFileSync(lockFile(d), '{"pid": '); // the owner is between creating the file and writing it
    setTimeout(() => writeFileSync(lockFile(d), owner(sleeper.pid!)), 150);
    const error = await refusal(lockDataDir(d, 'runs'));
    expect(error.code).toBe('data-dir-locked');
    expect(error.message).toContain(`PID ${sleeper.pid}`);
    expect(readFileSync(lockFile(d), 'utf8')).toBe(owner(sleeper.pid!));
  });

  it('refuses an owner on another host and leaves its lock file in place', async () => {
    const d = dir();
    writeFileSync(lockFile(d), owner(4242, 'other-host.example'));
    const error = await refusal(lockDataDir(d, 'runs'));
    expect(error.code).toBe('data-dir-locked');
    expect(error.message).toContain('PID 4242 on other-host.example');
    expect(error.hint).toContain(lockFile(d));
    expect(readFileSync(lockFile(d), 'utf8')).toBe(owner(4242, 'other-host.example'));
  });

  it('takes over the lock of a dead owner on this host, and of a file that stays unreadable', async () => {
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid!));
    });
    for (const stale of [owner(dead), 'not json at all']) {
      const d = dir();
      writeFileSync(lockFile(d), stale);
      const lock = await lockDataDir(d, 'runs', { patienceMs: 200 });
      expect(JSON.parse(readFileSync(lockFile(d), 'utf8'))).toMatchObject({
        pid: process.pid,
        host: os.hostname(),
        command: 'gradeops runs',
      });
      lock.release();
      expect(existsSync(lockFile(d))).toBe(false);
    }
  });
});
