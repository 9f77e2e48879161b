import { randomBytes } from 'node:crypto';
import knexFactory, { type Knex } from 'knex';
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, inject } from 'vitest';
import { migrateLatest, openPglite, openPgliteInstance, openPostgres } from '../../src/app/database.js';
import { DATABASE_URL, TEMPLATE_DB, databaseUrlFor } from './services.js';

const opened: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const close of opened.splice(0).reverse()) await close();
});

/**
 * A fresh, migrated database for one test file: a clone of the template on PostgreSQL when
 * DATABASE_URL is set, else an in-memory PGlite. Destroyed after the file.
 */
export async function freshDb(): Promise<Knex> {
  if (!DATABASE_URL) {
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
  const name = `gradeops_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = knexFactory({ client: 'pg', connection: DATABASE_URL, pool: { min: 0, max: 1 } });
  await admin.raw(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DB}`);
  const db = openPostgres(databaseUrlFor(name));
  opened.push(async () => {
    await db.destroy();
    await admin.raw(`DROP DATABASE IF EXISTS ${name}`).catch(() => {});
    await admin.destroy();
  });
  return db;
}
