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
  if (result && typeof result === 'object' && 'rowCount' in result) return Number((result as { rowCount: unknown }).rowCount ?? 0);
  if (Array.isArray(result)) return result.length;
  return 0;
}

/** `count(*)` is a string on pg and a number on PGlite; read it as a number everywhere. */
export function toCount(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Rows of a `knex.raw` call on either driver. */
export function rawRows<T>(result: unknown): T[] {
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}
