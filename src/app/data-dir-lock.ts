import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isProcessAlive } from '../domain/process-alive.js';
import { OpsError } from '../domain/errors.js';

// PGlite has no lock of its own and a second writer corrupts the directory, so one gradeops
// process owns the data directory at a time. The lock file appears whole (written aside, then
// linked into place). An owner that died on this host is taken over; an owner on another host
// (a data directory on a shared disk) is refused, since its PID cannot be checked from here; a
// lock file that cannot be read is read again for a moment (an older writer may be mid-write)
// before it is judged dead (issue 12 §6).

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  startedOn: string;
}

function readOwner(file: string): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

/** Reads the owner, reading an unreadable or half-written file again for up to `patienceMs`. */
async function settledOwner(file: string, patienceMs: number): Promise<LockOwner | null> {
  const until = Date.now() + patienceMs;
  for (;;) {
    const owner = readOwner(file);
    if (owner || !fs.existsSync(file) || Date.now() >= until) return owner;
    await sleep(50);
  }
}

/** Puts the lock file in place whole (a hard link: atomic, fails if it exists); 'wx' where links are not supported. */
function createWhole(draft: string, file: string, me: LockOwner): void {
  try {
    fs.linkSync(draft, file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw error;
    fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
  }
}

export interface DataDirLock {
  release(): void;
}

export async function lockDataDir(
  dataDir: string,
  command = process.argv.slice(1).join(' '),
  options: { patienceMs?: number } = {},
): Promise<DataDirLock> {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'gradeops.lock');
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command: `gradeops ${command}`.trim(),
    startedOn: new Date().toISOString(),
  };
  const draft = `${file}.${process.pid}.${Date.now()}`;
  fs.writeFileSync(draft, JSON.stringify(me));
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        createWhole(draft, file, me);
        let released = false;
        return {
          release() {
            if (released) return;
            released = true;
            if (readOwner(file)?.pid === process.pid) fs.rmSync(file, { force: true });
          },
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = await settledOwner(file, options.patienceMs ?? 500);
        if (owner && owner.host !== me.host) {
          throw new OpsError(
            'data-dir-locked',
            `the embedded database in ${dataDir} is in use by PID ${owner.pid} on ${owner.host} (${owner.command}, since ${owner.startedOn})`,
            `close that gradeops first; if ${owner.host} is gone for good, delete ${file} by hand`,
          );
        }
        if (owner && owner.pid !== process.pid && isProcessAlive(owner.pid)) {
          throw new OpsError(
            'data-dir-locked',
            `the embedded database in ${dataDir} is in use by PID ${owner.pid} (${owner.command}, since ${owner.startedOn})`,
            'close that gradeops first; for several operators at once, set DATABASE_URL and REDIS_URL',
          );
        }
        // A dead owner on this host, or a file still unreadable after a while: take the lock over,
        // unless it changed meanwhile (another process took it over first).
        if (JSON.stringify(readOwner(file)) === JSON.stringify(owner)) fs.rmSync(file, { force: true });
      }
    }
    throw new OpsError('data-dir-locked', `could not lock ${dataDir}`, 'check that the directory is writable');
  } finally {
    fs.rmSync(draft, { force: true });
  }
}
