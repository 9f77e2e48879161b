import { createRequire } from 'node:module';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import type ClientPgLiteType from 'knex-pglite';
import type pgModule from 'pg';
import { MIGRATION_CONFIG } from '../../migrations/index.js';
import { OpsError } from '../domain/errors.js';
import { redactUrl } from '../domain/secrets.js';

// PGlite's knex client (and PGlite itself) load only when an embedded database opens: a start-up
// on PostgreSQL does not pay for them (a quarter of a second; bench/RESULTS.md, repl start-up).
const requireCjs = createRequire(import.meta.url);

// conventions.md: pg gives bigint/count(*) and numeric as strings, PGlite as numbers. Parse them
// once here so no caller has to care which driver it runs on. pg loads with the first PostgreSQL
// database (knex's pg client requires the same module), never for the embedded demo.
let pgParsersSet = false;
function setPgTypeParsers(): void {
  if (pgParsersSet) return;
  const pg = requirePg();
  pg.types.setTypeParser(20, (value) => Number(value));
  pg.types.setTypeParser(1700, (value) => Number(value));
  pgParsersSet = true;
}

/**
 * pg asks, as it loads, whether it runs in a Cloudflare Worker: on Node 20, which has no
 * `navigator`, by making a fetch `Response`, which loads Node's whole fetch implementation (undici,
 * 40-70 ms, a fifth of a read command's start-up). Node 21+ answers from `navigator.userAgent`; for
 * that one moment Node 20 gets the same answer.
 */
function requirePg(): typeof pgModule {
  const lend = !('navigator' in globalThis);
  if (lend)
    Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return requireCjs('pg') as typeof pgModule;
  } finally {
    if (lend) delete (globalThis as { navigator?: unknown }).navigator;
  }
}

const pgliteClient = () => requireCjs('knex-pglite') as typeof ClientPgLiteType;

// PGlite starts PostgreSQL with its default 128 MB of shared buffers, and a command touches most
// of them: 16 MB holds the demo world's working set and brings a read command from about 300 MB
// resident to about 180 MB (issue 10 §4: under 250 MB).
const PGLITE_SETTINGS = ['shared_buffers=16MB'];

function newPglite(dataDir: string | null): object {
  const { PGlite } = requireCjs('@electric-sql/pglite') as typeof import('@electric-sql/pglite');
  const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS.flatMap((setting) => ['-c', setting])];
  return new PGlite(dataDir === null ? undefined : path.join(dataDir, 'pgdata'), { startParams });
}

// knex writes pool and driver complaints straight to the console; our errors say it better and
// never with a connection string in them.
const quietLog = { warn() {}, error() {}, deprecate() {}, debug() {} };

interface PgConnection {
  query(sql: string, callback: (error: Error | null) => void): void;
}

/**
 * `readOnly`: every pooled connection starts with `SET default_transaction_read_only = on`, so the
 * server itself refuses a write (SQLSTATE 25006), whatever code sends it.
 */
export function openPostgres(databaseUrl: string, poolMax = 16, options: { readOnly?: boolean } = {}): Knex {
  setPgTypeParsers();
  const readOnly = options.readOnly
    ? {
        afterCreate(connection: PgConnection, done: (error: Error | null, connection: PgConnection) => void) {
          connection.query('SET default_transaction_read_only = on', (error) => done(error, connection));
        },
      }
    : {};
  return knexFactory({
    client: 'pg',
    log: quietLog,
    connection: databaseUrl,
    pool: { min: 0, max: poolMax, ...readOnly },
    acquireConnectionTimeout: 15_000,
  });
}

/** PostgreSQL's refusal of a write in a read-only session or transaction. */
export function isReadOnlyRefusal(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '25006';
}

export function openPglite(dataDir: string | null): Knex {
  return openPgliteInstance(newPglite(dataDir));
}

/** knex over a PGlite the caller made (e.g. loaded from a dump of a migrated template). */
export function openPgliteInstance(pglite: object): Knex {
  return knexFactory({
    client: pgliteClient(),
    log: quietLog,
    dialect: 'postgres',
    connection: () => ({ pglite }),
  } as unknown as Knex.Config);
}

/** Turns a driver failure on first contact into one line that names the fix. */
export function connectionError(error: unknown, databaseUrl: string | undefined): OpsError {
  const err = error as { code?: string; message?: string };
  const where = databaseUrl ? redactUrl(databaseUrl) : 'the embedded database';
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return new OpsError(
        'database-unreachable',
        `cannot reach PostgreSQL at ${where} (${err.code})`,
        'check that the server runs and DATABASE_URL names the right host and port',
      );
    case '28P01':
    case '28000':
      return new OpsError(
        'database-unreachable',
        `PostgreSQL refused the login for ${where}`,
        'check the user and password in DATABASE_URL',
      );
    case '3D000':
      return new OpsError(
        'database-unreachable',
        `the database named in ${where} does not exist`,
        'create it, or fix the database name in DATABASE_URL',
      );
    default:
      return new OpsError(
        'database-unreachable',
        `cannot open ${where}: ${scrubDriverMessage(err.message, databaseUrl)}`,
        'check DATABASE_URL, or unset it to run the embedded demo',
      );
  }
}

function scrubDriverMessage(message: string | undefined, databaseUrl: string | undefined): string {
  let text = (message ?? 'unknown error').split('\n')[0];
  if (databaseUrl) {
    try {
      const password = decodeURIComponent(new URL(databaseUrl).password);
      if (password) text = text.split(password).join('****');
    } catch {
      /* not a URL: nothing to scrub */
    }
  }
  return text;
}

export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const [, pending] = (await knex.migrate.list(MIGRATION_CONFIG)) as [unknown[], Array<{ file?: string; name?: string } | string>];
  return pending.map((m) => (typeof m === 'string' ? m : (m.file ?? m.name ?? JSON.stringify(m))));
}

/**
 * One query: has every gradeops migration been applied (and nothing else)? knex's own check first
 * makes sure its two tables exist, a handful of statements that cost about a third of a second on
 * PGlite at every start. Any doubt (no table yet, an unknown name) says no, and knex decides.
 */
async function schemaIsCurrent(knex: Knex): Promise<boolean> {
  const source = MIGRATION_CONFIG.migrationSource!;
  const known = (await source.getMigrations([])).map((m) => source.getMigrationName(m));
  let applied: string[];
  try {
    applied = await knex(MIGRATION_CONFIG.tableName!).pluck('name');
  } catch {
    return false;
  }
  return applied.length === known.length && known.every((name) => applied.includes(name));
}

/** Applies pending migrations; returns their names. */
export async function migrateLatest(knex: Knex): Promise<string[]> {
  if (await schemaIsCurrent(knex)) return [];
  const [, applied] = (await knex.migrate.latest(MIGRATION_CONFIG)) as [number, string[]];
  return applied;
}

/** The app refuses to run on a schema that is behind: a real database is never migrated silently. */
export async function assertSchemaCurrent(knex: Knex): Promise<void> {
  if (await schemaIsCurrent(knex)) return;
  const pending = await pendingMigrations(knex);
  if (pending.length > 0) {
    throw new OpsError(
      'schema-behind',
      `the database is missing ${pending.length} gradeops migration(s): ${pending.join(', ')}`,
      'run `gradeops db migrate` (it only adds gradeops_ tables to a MicroMasters database)',
    );
  }
}
