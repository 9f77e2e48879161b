import type { Knex } from 'knex';
import { rawRows, type Db } from '../db.js';
import { NEEDS_FREEZE_CTES } from './users-needing-freeze.js';

// Issue 10 §3: the run-wide counts of spec 5b in constant time at 100k enrollments. Counting the
// rule over a run's rows costs 45–85 ms at 100k on PostgreSQL (bench/RESULTS.md (c)), so the last
// exact counting is kept with the snapshot it was taken in (migration 20261201160000). Triggers note
// every transaction that moves a count of the run, whoever writes (Django, SQL by hand, gradeops);
// a kept counting is used only when every noted transaction was already visible to its snapshot.
// Otherwise the rule is counted again, and kept for the next call.

/** The run-wide counts of the needs-freeze rule (users-needing-freeze.ts). */
export interface RuleCounts {
  /** Cached enrollment ∩ cached current grade − complete FinalGrade. */
  need: number;
  /** Complete FinalGrades of the run. */
  frozen: number;
  /** Every FinalGrade row of the run, whatever its status. */
  finalGradeRows: number;
}

/** The one counting of the rule; the definition's own SQL (kept and exact paths use it alike). */
const COUNT_RULE = `WITH ${NEEDS_FREEZE_CTES}
  SELECT (SELECT count(*) FROM need) AS need, (SELECT count(*) FROM frozen) AS frozen,
         (SELECT count(*) FROM grades_finalgrade WHERE course_run_id = :run) AS rows`;

// Kept only when no transaction that noted a change of this run (or a TRUNCATE: NULL) is missing
// from the snapshot of the counting. A transaction still running is invisible to this reader, and
// so are its changes; once it commits, its note invalidates the counting.
const KEPT = `SELECT k.need, k.frozen, k.final_grade_rows AS rows FROM gradeops_freeze_counts k
   WHERE k.course_run_id = :run AND k.server_started = pg_postmaster_start_time()
     AND NOT EXISTS (SELECT 1 FROM gradeops_run_change c
                      WHERE (c.course_run_id = :run OR c.course_run_id IS NULL)
                        AND NOT pg_visible_in_snapshot(c.xid, k.as_of))`;

// Counted and kept in one statement, so the counts and the snapshot kept with them are the same
// one. Notes the new snapshot already sees are spent: removed.
const COUNT_AND_KEEP = `WITH ${NEEDS_FREEZE_CTES},
  counted AS (SELECT (SELECT count(*) FROM need) AS need, (SELECT count(*) FROM frozen) AS frozen,
                     (SELECT count(*) FROM grades_finalgrade WHERE course_run_id = :run) AS rows),
  kept AS (INSERT INTO gradeops_freeze_counts (course_run_id, need, frozen, final_grade_rows, as_of, server_started, counted_on)
           SELECT :run, need, frozen, rows, pg_current_snapshot(), pg_postmaster_start_time(), now() FROM counted
           ON CONFLICT (course_run_id) DO UPDATE SET need = excluded.need, frozen = excluded.frozen,
             final_grade_rows = excluded.final_grade_rows, as_of = excluded.as_of,
             server_started = excluded.server_started, counted_on = excluded.counted_on),
  -- A note this statement sees with an id past its snapshot's xmax was written by another server
  -- (restored from a dump): it can never become visible, so it is spent too.
  spent AS (DELETE FROM gradeops_run_change WHERE course_run_id = :run
              AND (pg_visible_in_snapshot(xid, pg_current_snapshot()) OR xid >= pg_snapshot_xmax(pg_current_snapshot())))
  SELECT need, frozen, rows FROM counted`;

/** Advisory lock class of the keeping (the second key is the run id). */
const KEEP_LOCK_CLASS = 0x67_6f_66_63;

type CountRow = { need: unknown; frozen: unknown; rows: unknown };

function toCounts(row: CountRow): RuleCounts {
  return { need: Number(row.need), frozen: Number(row.frozen), finalGradeRows: Number(row.rows) };
}

/** The exact counting from the definition, nothing kept. */
export async function countRule(db: Db, courseRunId: number): Promise<RuleCounts> {
  const [row] = rawRows<CountRow>(await db.raw(COUNT_RULE, { run: courseRunId }));
  return toCounts(row);
}

/**
 * The run's counts: the kept counting when nothing moved since, else counted again (and kept when
 * `db` is not a caller's transaction: a transaction may have written rows its own snapshot sees).
 */
export async function ruleCounts(db: Db, courseRunId: number): Promise<RuleCounts> {
  const [kept] = rawRows<CountRow>(await db.raw(KEPT, { run: courseRunId }));
  if (kept) return toCounts(kept);
  if (db.isTransaction) return countRule(db, courseRunId);
  return countAndKeep(db, courseRunId);
}

/** Counts the rule and keeps the counting; exported so a job can leave it fresh after its writes. */
export async function countAndKeep(db: Knex, courseRunId: number): Promise<RuleCounts> {
  try {
    return await db.transaction(async (trx) => {
      // A counting is kept only over one taken after the previous keeper committed (the lock, then
      // a new statement snapshot, which READ COMMITTED guarantees whatever the server's default):
      // an older snapshot never overwrites a newer one after that one spent the notes.
      await trx.raw('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      const [lock] = rawRows<{ got: boolean }>(
        await trx.raw('SELECT pg_try_advisory_xact_lock(?, ?) AS got', [KEEP_LOCK_CLASS, courseRunId]),
      );
      // Someone else is keeping it right now: count, keep nothing.
      if (!lock.got) return countRule(trx, courseRunId);
      const [row] = rawRows<CountRow>(await trx.raw(COUNT_AND_KEEP, { run: courseRunId }));
      return toCounts(row);
    });
  } catch (error) {
    // A read-only connection (a replica, a read-only role) still gets exact counts.
    const code = (error as { code?: unknown }).code;
    if (code === '25006' || code === '42501') return countRule(db, courseRunId);
    throw error;
  }
}
