import knexFactory from 'knex';
import { Redis } from 'ioredis';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateLatest, openPglite } from '../src/app/database.js';
import { DATABASE_URL, REDIS_URL, REQUIRE_SERVICES, TEMPLATE_DB, databaseUrlFor } from './helpers/services.js';

// Builds one migrated template database so each test file can clone a fresh one in milliseconds
// (CREATE DATABASE … TEMPLATE). With GRADEOPS_REQUIRE_SERVICES, a missing service fails the run.

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

export async function setup(project: { provide(key: 'pgliteTemplate', value: string): void }): Promise<void> {
  if (REQUIRE_SERVICES && (!DATABASE_URL || !REDIS_URL)) {
    throw new Error('GRADEOPS_REQUIRE_SERVICES is set but DATABASE_URL or REDIS_URL is missing');
  }
  if (REDIS_URL) {
    const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      throw new Error(`Redis at REDIS_URL is not reachable: ${(error as Error).message}`);
    } finally {
      redis.disconnect();
    }
  }
  if (!DATABASE_URL) {
    project.provide('pgliteTemplate', await buildPgliteTemplate());
    return;
  }
  const admin = knexFactory({ client: 'pg', connection: DATABASE_URL, pool: { min: 0, max: 1 } });
  try {
    await admin.raw(`DROP DATABASE IF EXISTS ${TEMPLATE_DB}`);
    await admin.raw(`CREATE DATABASE ${TEMPLATE_DB}`);
  } catch (error) {
    await admin.destroy();
    throw new Error(`PostgreSQL at DATABASE_URL is not usable: ${(error as Error).message}`);
  }
  await admin.destroy();
  const template = knexFactory({ client: 'pg', connection: databaseUrlFor(TEMPLATE_DB), pool: { min: 0, max: 1 } });
  await migrateLatest(template);
  await template.destroy();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}
