import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isProcessAlive } from '../domain/process-alive.js';
import { OpsError } from '../domain/errors.js';

// PGlite has no lock of its own and a second writer corrupts the directory, so one gradeops
// process owns the data directory at a time. A dead owner's lock is taken over.

interface LockOwner {
  pid: number;
  host: string;
  command: string;
  startedOn: string;
}

function readOwner(file: string): LockOwner | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

export interface DataDirLock {
  release(): void;
}

export function lockDataDir(dataDir: string, command = process.argv.slice(1).join(' ')): DataDirLock {
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'gradeops.lock');
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    command: `gradeops ${command}`.trim(),
    startedOn: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, JSON.stringify(me), { flag: 'wx' });
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
      const owner = readOwner(file);
      if (owner && owner.pid !== process.pid && owner.host === me.host && isProcessAlive(owner.pid)) {
        throw new OpsError(
          'data-dir-locked',
          `the embedded database in ${dataDir} is in use by PID ${owner.pid} (${owner.command}, since ${owner.startedOn})`,
          'close that gradeops first; for several operators at once, set DATABASE_URL and REDIS_URL',
        );
      }
      // Dead (or unreadable) owner: take the lock over.
      fs.rmSync(file, { force: true });
    }
  }
  throw new OpsError('data-dir-locked', `could not lock ${dataDir}`, 'check that the directory is writable');
}
