import type { Knex } from 'knex';
import { preparedRows, type Db } from './db.js';
import { gatheredByTurn } from './turn-batch.js';

/** A scalar SQL expression (one json value) with its positional `?` bindings. */
export interface SqlFragment {
  sql: string;
  bindings: Knex.RawBinding[];
}

/** `?, ?, ?` for a non-empty list: knex-pglite and pg agree on plain parameters, not on arrays. */
export function placeholders(values: readonly unknown[]): string {
  if (values.length === 0) throw new Error('placeholders() needs at least one value');
  return values.map(() => '?').join(', ');
}

/**
 * Reads several facts in one round trip: `SELECT (a) AS a, (b) AS b`. The freeze job runs this
 * once per frozen learner, so what each side effect needs to decide costs one statement in all.
 * Outside a transaction, the calls made in the same turn of the event loop (the learners of one
 * freeze write batch, issue 10 §2) share one statement; if it fails, each call is read again on
 * its own, so one bad fact never fails another learner's.
 */
export async function readFacts<K extends string>(
  db: Db,
  fragments: Partial<Record<K, SqlFragment>>,
): Promise<Partial<Record<K, unknown>>> {
  const entries = Object.entries(fragments).filter((e): e is [K, SqlFragment] => e[1] !== undefined);
  if (entries.length === 0) return {};
  for (const [name] of entries) if (!/^[a-z][a-zA-Z]*$/.test(name)) throw new Error(`bad fact name ${name}`);
  if (db.isTransaction) return readFactsNow(db, entries);
  return gatheredReads(db, { db, entries }) as Promise<Partial<Record<K, unknown>>>;
}

interface FactRead {
  db: Db;
  entries: Array<[string, SqlFragment]>;
}

// One statement for the reads of one turn on one db (the learners of a freeze write batch).
const gatheredReads = gatheredByTurn<FactRead, Record<string, unknown>>(
  async (calls) => {
    const aliased = calls.flatMap((call, i) => call.entries.map(([name, f]): [string, SqlFragment] => [`f${i}_${name}`, f]));
    const row = await readFactsNow(calls[0].db, aliased);
    return calls.map((call, i) => Object.fromEntries(call.entries.map(([name]) => [name, row[`f${i}_${name}`] ?? null])));
  },
  (call) => readFactsNow(call.db, call.entries),
);

async function readFactsNow<K extends string>(db: Db, entries: Array<[K, SqlFragment]>): Promise<Partial<Record<K, unknown>>> {
  const sql = `SELECT ${entries.map(([name, f]) => `(${f.sql}) AS "${name}"`).join(', ')}`;
  const [row] = await preparedRows<Record<string, unknown>>(
    db,
    sql,
    entries.flatMap(([, f]) => f.bindings),
  );
  return Object.fromEntries(entries.map(([name]) => [name, row?.[name] ?? null])) as Partial<Record<K, unknown>>;
}
