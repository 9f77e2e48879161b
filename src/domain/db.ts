import { createHash } from 'node:crypto';
import type { Knex } from 'knex';

/** A store takes Db so the same code runs inside or outside a transaction. */
export type Db = Knex | Knex.Transaction;

/** Runs `work` in one transaction (a nested one when `db` already is a transaction). */
export async function inTransaction<T>(db: Db, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return db.transaction(work);
}

class DryRunRollback extends Error {}

/** Runs `work` in a transaction that always rolls back: for dry runs and projections. */
export async function inRolledBackTransaction<T>(db: Db, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  let result: T | undefined;
  try {
    await db.transaction(async (trx) => {
      result = await work(trx);
      throw new DryRunRollback();
    });
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
  }
  return result as T;
}

/** `.del()` gives a number on pg and a result object on PGlite (conventions.md); callers get a number. */
export function affectedRows(result: unknown): number {
  if (typeof result === 'number') return result;
  if (result && typeof result === 'object' && 'rowCount' in result) return Number(result.rowCount ?? 0);
  if (Array.isArray(result)) return result.length;
  return 0;
}

/** `count(*)` is a string on pg and a number on PGlite; read it as a number everywhere. */
export function toCount(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Rows of a `knex.raw` call on either driver. */
export function rawRows<T>(result: unknown): T[] {
  return (result as { rows?: T[] }).rows ?? [];
}

// PostgreSQL plans every statement it is sent; for the few statements the freeze path runs once
// per learner, planning cost more server CPU than executing (bench/RESULTS.md). Named prepared
// statements are planned once per connection. knex cannot name a statement, so these go to a
// pooled pg connection directly, announced through knex's query events like any other query.
const preparedNames = new Map<string, string>();
let preparedUid = 0;

function preparedName(sql: string): string {
  let name = preparedNames.get(sql);
  if (!name) {
    name = `gradeops_${createHash('sha1').update(sql).digest('hex').slice(0, 16)}`;
    preparedNames.set(sql, name);
  }
  return name;
}

/** knex's positional `?` bindings as PostgreSQL's `$n` (our statements use no `?` operators). */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

interface PgConnection {
  query(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
}

/**
 * Rows of a fixed, hot statement (positional `?` bindings), as a named prepared statement on
 * PostgreSQL. Inside a transaction, or on PGlite (one in-process connection, no network), it is a
 * plain `db.raw`.
 */
export async function preparedRows<T>(db: Db, sql: string, bindings: readonly Knex.RawBinding[]): Promise<T[]> {
  const client = db.client as Knex.Client & {
    config: { client?: unknown };
    acquireConnection(): Promise<PgConnection>;
    releaseConnection(c: PgConnection): Promise<void>;
  };
  if (db.isTransaction || client.config.client !== 'pg') return rawRows<T>(await db.raw(sql, bindings));
  const text = numbered(sql);
  const values = bindings.map((b) => (b === undefined ? null : b));
  const event = { sql: text, bindings: values, method: 'raw', __knexQueryUid: `prepared-${++preparedUid}` };
  client.emit('query', event);
  const connection = await client.acquireConnection();
  try {
    const result = await connection.query({ name: preparedName(text), text, values });
    client.emit('query-response', result, event);
    return result.rows as T[];
  } catch (error) {
    client.emit('query-error', error, event);
    throw error;
  } finally {
    await client.releaseConnection(connection);
  }
}
