import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, inject } from 'vitest';
import { migrateLatest, openPglite, openPgliteInstance, openPostgres } from '../../src/app/database.js';
import { TEST_DATABASE_URL, databaseUrlFor, runDatabasePrefix, templateDatabase } from './services.js';

const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

/** A connection to the test server's maintenance database, for CREATE / DROP DATABASE. */
export function adminConnection(): Knex {
  return knexFactory({ client: 'pg', connection: TEST_DATABASE_URL, pool: { min: 0, max: 1 } });
}

/**
 * A new, empty database of this run on the test PostgreSQL, cloned from the run's migrated
 * template; `drop()` removes it. Its name carries the run id, so nothing else is ever dropped.
 */
export async function createRunDatabase(label: string): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `${runDatabasePrefix()}${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = adminConnection();
  await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${templateDatabase()}`);
  return {
    name,
    url: databaseUrlFor(name),
    async drop() {
      await admin.raw(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      await admin.destroy();
    },
  };
}

/**
 * A fresh, migrated database for one test file: a clone of the run's template on the test
 * PostgreSQL when GRADEOPS_TEST_DATABASE_URL is set, else an in-memory PGlite. Destroyed after the file.
 */
export async function freshDb(): Promise<Knex> {
  if (!TEST_DATABASE_URL) {
    const template = inject('pgliteTemplate');
    let db: Knex;
    if (template) {
      const pglite = await PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) });
      db = openPgliteInstance(pglite);
    } else {
      db = openPglite(null);
      await migrateLatest(db);
    }
    opened.push(() => db.destroy());
    return db;
  }
  const created = await createRunDatabase('db');
  const db = openPostgres(created.url);
  opened.push(async () => {
    await db.destroy();
    await created.drop();
  });
  return db;
}
