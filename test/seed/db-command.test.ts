import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerDb } from '../../src/commands/db.js';
import { OpsError } from '../../src/domain/errors.js';
import { freshDb } from '../helpers/db.js';
import { claimRedisDatabase, type RedisClaim } from '../helpers/redis-claims.js';
import { TEST_DATABASE_URL, databaseUrlFor } from '../helpers/services.js';

// `gradeops db migrate` / `db seed --demo` end to end through commander and runCommand: against a
// fresh database of the test PostgreSQL (and a claimed test Redis database) when the suite runs
// against services, else an embedded data directory.

const savedEnv = { ...process.env };
let dataDir: string | undefined;
let redisClaim: RedisClaim | undefined;

beforeAll(async () => {
  if (TEST_DATABASE_URL) {
    const db = await freshDb(); // a migrated clone of the template; the command opens its own pool
    redisClaim = await claimRedisDatabase();
    // The command under test reads the operator's names: here they name this test's own database and Redis.
    process.env.DATABASE_URL = databaseUrlFor((db.client.config as { connection: { database: string } }).connection.database);
    process.env.REDIS_URL = redisClaim.url;
  } else {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'gradeops-db-command-'));
    process.env.GRADEOPS_DATA_DIR = dataDir;
  }
});

afterAll(async () => {
  process.env = savedEnv;
  await redisClaim?.release();
  process.exitCode = undefined;
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Runs `gradeops <args>` and returns what it printed on stdout. */
async function gradeops(...args: string[]): Promise<{ stdout: string; exitCode: number }> {
  const program = new Command('gradeops').exitOverride();
  registerDb(program);
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  process.exitCode = undefined;
  try {
    await program.parseAsync(['node', 'gradeops', ...args]);
  } finally {
    vi.restoreAllMocks();
  }
  const exitCode = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { stdout: chunks.join(''), exitCode };
}

describe('gradeops db', () => {
  it('migrate applies what is pending, then reports the schema up to date', async () => {
    await gradeops('db', 'migrate', '--json');
    const again = await gradeops('db', 'migrate');
    expect(again).toEqual({ stdout: 'schema is up to date\n', exitCode: 0 });
  });

  it('seed --demo fills an empty database and prints the summary', async () => {
    const { stdout, exitCode } = await gradeops('db', 'seed', '--demo', '--learners', '30', '--seed', '2', '--json');
    expect(exitCode).toBe(0);
    const summary = JSON.parse(stdout);
    expect(summary).toMatchObject({ seed: 2, learners: 30, counts: { auth_user: 30, courses_courserun: 72 } });
    expect(summary.cast.map((c: { username: string }) => c.username)).toContain('bob');
  });

  it('refuses a database that already has learners, with a hint', async () => {
    const plain = await gradeops('db', 'seed', '--demo');
    expect(plain).toEqual({ stdout: '', exitCode: 1 });
    const { stdout, exitCode } = await gradeops('db', 'seed', '--demo', '--json');
    expect(exitCode).toBe(1);
    expect(JSON.parse(stdout).error).toMatchObject({ code: 'conflict', hint: expect.stringContaining('new database') });
  });

  it('requires --demo and whole-number flags', async () => {
    await expect(gradeops('db', 'seed', '--learners', '5')).rejects.toBeInstanceOf(OpsError);
    await expect(gradeops('db', 'seed', '--demo', '--learners', 'many')).rejects.toThrow(/not a whole number/);
  });
});
