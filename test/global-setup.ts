import { Redis } from 'ioredis';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import knexFactory from 'knex';
import { migrateLatest, openPglite } from '../src/app/database.js';
import { newTestRunId, isStaleRunId, releaseClaimsOfRun } from './helpers/redis-claims.js';
import {
  REQUIRE_SERVICES,
  TEST_DATABASE_URL,
  TEST_REDIS_URL,
  assertLoopback,
  databaseUrlFor,
  forgetProductionServices,
  runDatabasePrefix,
  templateDatabase,
} from './helpers/services.js';

// Runs once per `vitest run`. Gives the run an id (every database and Redis claim it makes
// carries it), builds one migrated template so each test file clones a fresh database in
// milliseconds, and at the end removes exactly what the run made. With GRADEOPS_REQUIRE_SERVICES,
// a test service that is missing or unreachable fails the run instead of skipping tests.

async function buildPgliteTemplate(): Promise<string> {
  // Migrating PGlite takes seconds; loading a dump of a migrated one takes a fraction of that.
  const db = openPglite(null);
  await migrateLatest(db);
  const pglite = (db.client as unknown as { pglite: { dumpDataDir(c: 'none'): Promise<Blob> } }).pglite;
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'gradeops-pglite-')), 'template.tar');
  writeFileSync(file, Buffer.from(await (await pglite.dumpDataDir('none')).arrayBuffer()));
  await db.destroy();
  return file;
}

async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`the test Redis at GRADEOPS_TEST_REDIS_URL is not reachable: ${(error as Error).message}`);
  } finally {
    redis.disconnect();
  }
}

const adminOf = () => knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 1 } });

/** Drops the databases of this run, and those of runs started more than six hours ago (killed runs). */
async function dropRunDatabases(runId: string): Promise<void> {
  const admin = adminOf();
  try {
    const names: string[] = (await admin.raw(`SELECT datname FROM pg_database WHERE datname LIKE 'gradeops\\_test\\_r%'`)).rows.map(
      (r: { datname: string }) => r.datname,
    );
    for (const name of names) {
      const owner = name.slice('gradeops_test_'.length).split('_')[0];
      if (name.startsWith(runDatabasePrefix(runId)) || isStaleRunId(owner, 6 * 3600 * 1000)) {
        await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      }
    }
  } finally {
    await admin.destroy();
  }
}

export async function setup(project: { provide(key: 'pgliteTemplate', value: string): void }): Promise<() => Promise<void>> {
  // The workers inherit this process's environment: an operator's production settings stop here.
  forgetProductionServices();
  const runId = newTestRunId();
  process.env.GRADEOPS_TEST_RUN_ID = runId;

  if (Boolean(TEST_DATABASE_URL) !== Boolean(TEST_REDIS_URL)) {
    throw new Error('set both GRADEOPS_TEST_DATABASE_URL and GRADEOPS_TEST_REDIS_URL (or neither, for the embedded PGlite and stand-in)');
  }
  if (REQUIRE_SERVICES && !TEST_DATABASE_URL) {
    throw new Error('GRADEOPS_REQUIRE_SERVICES is set but GRADEOPS_TEST_DATABASE_URL and GRADEOPS_TEST_REDIS_URL are not');
  }
  if (!TEST_DATABASE_URL || !TEST_REDIS_URL) {
    project.provide('pgliteTemplate', await buildPgliteTemplate());
    return async () => {};
  }
  assertLoopback(TEST_DATABASE_URL, 'GRADEOPS_TEST_DATABASE_URL');
  assertLoopback(TEST_REDIS_URL, 'GRADEOPS_TEST_REDIS_URL');
  await checkRedis(TEST_REDIS_URL);

  const admin = adminOf();
  try {
    await admin.raw(`CREATE DATABASE ${templateDatabase(runId)}`);
  } catch (error) {
    throw new Error(`the test PostgreSQL at GRADEOPS_TEST_DATABASE_URL is not usable: ${(error as Error).message}`);
  } finally {
    await admin.destroy();
  }
  const template = knexFactory({ client: 'pg', connection: databaseUrlFor(templateDatabase(runId)), pool: { min: 0, max: 1 } });
  await migrateLatest(template);
  await template.destroy();

  return async () => {
    await dropRunDatabases(runId);
    await releaseClaimsOfRun(runId);
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}
