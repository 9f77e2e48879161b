import { performance } from 'node:perf_hooks';
import type { Knex } from 'knex';
import { SANDBOX_SAVEPOINT } from '../app/console-session.js';
import { maskSecret } from '../domain/secrets.js';

// `.sql on`: every statement the console sends (its own, the helpers', a sandbox's) with its
// duration, like shell_plus --print-sql. knex announces transaction queries on the root instance
// too. Statements touching OAuth tokens show their parameters masked.

interface QueryEvent {
  sql?: string;
  bindings?: readonly unknown[];
  __knexQueryUid?: string;
}

const SECRET_SQL = /social_auth|extra_data|token/i;

function bindingText(sql: string, bindings: readonly unknown[] | undefined): string {
  if (!bindings || bindings.length === 0) return '';
  const masked = SECRET_SQL.test(sql);
  const shown = bindings.map((b) => {
    if (b instanceof Date) return b.toISOString();
    if (typeof b === 'string') return JSON.stringify(masked ? maskSecret(b) : b.length > 80 ? `${b.slice(0, 79)}…` : b);
    if (b !== null && typeof b === 'object') return masked ? '****' : JSON.stringify(b).slice(0, 80);
    return String(b);
  });
  return `  [${shown.join(', ')}]`;
}

/** Starts printing statements; returns the function that stops. */
export function attachSqlLog(knex: Knex, write: (line: string) => void): () => void {
  const started = new Map<string, number>();
  const internal = (q: QueryEvent) => (q.sql ?? '').includes(SANDBOX_SAVEPOINT);
  const onQuery = (q: QueryEvent) => {
    if (q.__knexQueryUid && !internal(q)) started.set(q.__knexQueryUid, performance.now());
  };
  const finish = (q: QueryEvent, failed: boolean) => {
    const uid = q.__knexQueryUid;
    const start = uid ? started.get(uid) : undefined;
    if (start === undefined) return;
    started.delete(uid!);
    const ms = (performance.now() - start).toFixed(1);
    const sql = (q.sql ?? '').replace(/\s+/g, ' ').trim();
    write(`sql ${ms} ms${failed ? ' FAILED' : ''}: ${sql}${bindingText(sql, q.bindings)}`);
  };
  const onResponse = (_response: unknown, q: QueryEvent) => finish(q, false);
  const onError = (_error: unknown, q: QueryEvent) => finish(q, true);
  knex.on('query', onQuery);
  knex.on('query-response', onResponse);
  knex.on('query-error', onError);
  return () => {
    knex.off('query', onQuery);
    knex.off('query-response', onResponse);
    knex.off('query-error', onError);
    started.clear();
  };
}
