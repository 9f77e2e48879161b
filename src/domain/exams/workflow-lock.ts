import type { Knex } from 'knex';

/**
 * A transaction-scoped advisory lock: one import, release or certificate run at a time per name,
 * released at COMMIT or ROLLBACK. Rows like course certificates have no unique constraint
 * (spec 1.10), so two concurrent generators would both create one.
 */
export async function lockWorkflow(trx: Knex.Transaction, name: 'certificates' | 'exam-grades' | 'combined-grades'): Promise<void> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`gradeops:${name}`]);
}
