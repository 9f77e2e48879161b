import type { Knex } from 'knex';
import { preparedRows, type Db } from './db.js';

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
 */
export async function readFacts<K extends string>(
  db: Db,
  fragments: Partial<Record<K, SqlFragment>>,
): Promise<Partial<Record<K, unknown>>> {
  const entries = Object.entries(fragments).filter((e): e is [K, SqlFragment] => e[1] !== undefined);
  if (entries.length === 0) return {};
  for (const [name] of entries) if (!/^[a-z][a-zA-Z]*$/.test(name)) throw new Error(`bad fact name ${name}`);
  const sql = `SELECT ${entries.map(([name, f]) => `(${f.sql}) AS "${name}"`).join(', ')}`;
  const [row] = await preparedRows<Record<string, unknown>>(
    db,
    sql,
    entries.flatMap(([, f]) => f.bindings),
  );
  return Object.fromEntries(entries.map(([name]) => [name, row?.[name] ?? null])) as Partial<Record<K, unknown>>;
}
