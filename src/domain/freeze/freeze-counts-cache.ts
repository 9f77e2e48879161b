import type { Knex } from 'knex';
import { rawRows, type Db } from '../db.js';
import {
  inIdOrder,
  NEEDS_FREEZE_CTES,
  ruleStandingsOf,
  STANDING_CTE,
  standingFromFlags,
  type RuleStanding,
} from './users-needing-freeze.js';

// Issue 10 §3: the run-wide counts of spec 5b in constant time at 100k enrollments. Counting the
// rule over a run's rows costs 45–85 ms at 100k on PostgreSQL (bench/RESULTS.md (c)), so the last
// exact counting is kept with the snapshot it was taken in (migration 20261201160000). Triggers note
// every transaction that moves a count of the run, whoever writes (Django, SQL by hand, gradeops);
// a kept counting is used only when every noted transaction was already visible to its snapshot.
// Otherwise the rule is counted again, and kept for the next call. Where the failed list's
// learners stand against the rule is kept beside the counts, from the same snapshot: it reads
// the same three tables, so the same notes tell when it moved.

/** The run-wide counts of the needs-freeze rule (users-needing-freeze.ts). */
export interface RuleCounts {
  /** Where each asked-for learner (the failed list) stands against the rule. */
  standings: Map<number, RuleStanding>;
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
const KEPT = `SELECT k.need, k.frozen, k.final_grade_rows AS rows, k.listed_ids AS ids, k.listed_flags AS flags
    FROM gradeops_freeze_counts k
   WHERE k.course_run_id = :run AND k.server_started = pg_postmaster_start_time()
     AND NOT EXISTS (SELECT 1 FROM gradeops_run_change c
                      WHERE (c.course_run_id = :run OR c.course_run_id IS NULL)
                        AND NOT pg_visible_in_snapshot(c.xid, k.as_of))`;

// Counted and kept in one statement, so the counts, the standings and the snapshot kept with them
// are the same one. Notes the new snapshot already sees are spent: removed.
const COUNT_AND_KEEP = `WITH ${NEEDS_FREEZE_CTES}, ${STANDING_CTE},
  counted AS (SELECT (SELECT count(*) FROM need) AS need, (SELECT count(*) FROM frozen) AS frozen,
                     (SELECT count(*) FROM grades_finalgrade WHERE course_run_id = :run) AS rows,
                     (SELECT coalesce(array_agg(user_id ORDER BY user_id), '{}') FROM standing) AS ids,
                     (SELECT coalesce(array_agg(flags ORDER BY user_id), '{}') FROM standing) AS flags),
  kept AS (INSERT INTO gradeops_freeze_counts
             (course_run_id, need, frozen, final_grade_rows, listed_ids, listed_flags, as_of, server_started, counted_on)
           SELECT :run, need, frozen, rows, ids, flags, pg_current_snapshot(), pg_postmaster_start_time(), now() FROM counted
           ON CONFLICT (course_run_id) DO UPDATE SET need = excluded.need, frozen = excluded.frozen,
             final_grade_rows = excluded.final_grade_rows, listed_ids = excluded.listed_ids, listed_flags = excluded.listed_flags,
             as_of = excluded.as_of, server_started = excluded.server_started, counted_on = excluded.counted_on),
  -- A note this statement sees with an id past its snapshot's xmax was written by another server
  -- (restored from a dump): it can never become visible, so it is spent too.
  spent AS (DELETE FROM gradeops_run_change WHERE course_run_id = :run
              AND (pg_visible_in_snapshot(xid, pg_current_snapshot()) OR xid >= pg_snapshot_xmax(pg_current_snapshot())))
  SELECT need, frozen, rows, ids, flags FROM counted`;

/** Advisory lock class of the keeping (the second key is the run id). */
const KEEP_LOCK_CLASS = 0x67_6f_66_63;

/** Other runs whose spent notes one counting clears, at most (each costs a lock-table slot). */
const OTHER_RUNS_SWEPT = 16;

// Runs nobody asks about would keep their notes for ever (Django notes each new enrollment or grade
// row), so a counting also spends the notes of a few other runs. It takes their keeping locks first,
// in a statement of its own: a keeper of such a run then counts without keeping, and the next
// statement's snapshot sees every counting kept before the locks were taken.
const LOCK_OTHER_RUNS = `SELECT coalesce(array_agg(r.run), '{}') AS runs
    FROM (SELECT DISTINCT course_run_id AS run FROM gradeops_run_change
           WHERE course_run_id IS NOT NULL AND course_run_id <> :run
           ORDER BY course_run_id LIMIT ${OTHER_RUNS_SWEPT}) r
   WHERE pg_try_advisory_xact_lock(${KEEP_LOCK_CLASS}, r.run)`;

// A note is spent when this snapshot sees it (any later counting will) and no kept counting of its
// run is missing it (such a counting must stay invalid until its run is counted again).
const SPEND_OTHER_RUNS = `DELETE FROM gradeops_run_change c
   WHERE c.course_run_id = ANY(:runs::int[])
     AND pg_visible_in_snapshot(c.xid, pg_current_snapshot())
     AND NOT EXISTS (SELECT 1 FROM gradeops_freeze_counts k
                      WHERE k.course_run_id = c.course_run_id AND NOT pg_visible_in_snapshot(c.xid, k.as_of))`;

type CountRow = { need: unknown; frozen: unknown; rows: unknown };
type KeptRow = CountRow & { ids: unknown; flags: unknown };

function toCounts(row: CountRow, standings: Map<number, RuleStanding>): RuleCounts {
  return { need: Number(row.need), frozen: Number(row.frozen), finalGradeRows: Number(row.rows), standings };
}

/** PostgreSQL int[] as numbers (pg parses it; a text form is read too, to be safe on any driver). */
function intArray(value: unknown): number[] {
  if (Array.isArray(value)) return value.map(Number);
  if (typeof value === 'string') return value.replace(/[{}]/g, '').split(',').filter(Boolean).map(Number);
  return [];
}

/** The kept standings, and the asked-for learners they do not hold (listed since) probed now. */
async function standingsFrom(db: Db, courseRunId: number, row: KeptRow, userIds: readonly number[]): Promise<Map<number, RuleStanding>> {
  const ids = intArray(row.ids);
  const flags = intArray(row.flags);
  const kept = new Map<number, number>(ids.map((id, i) => [id, flags[i]]));
  const standings = new Map<number, RuleStanding>();
  const missing: number[] = [];
  for (const id of userIds) {
    const f = kept.get(id);
    if (f === undefined) missing.push(id);
    else standings.set(id, standingFromFlags(f));
  }
  for (const [id, s] of await ruleStandingsOf(db, courseRunId, missing)) standings.set(id, s);
  return standings;
}

/** The exact counting from the definition, nothing kept. */
export async function countRule(db: Db, courseRunId: number, userIds: readonly number[] = []): Promise<RuleCounts> {
  const [row] = rawRows<CountRow>(await db.raw(COUNT_RULE, { run: courseRunId }));
  return toCounts(row, await ruleStandingsOf(db, courseRunId, userIds));
}

/**
 * The run's counts and where `userIds` stand: the kept counting when nothing moved since, else
 * counted again (and kept when `db` is not a caller's transaction: a transaction may have written
 * rows its own snapshot sees).
 */
export async function ruleCounts(db: Db, courseRunId: number, userIds: readonly number[] = []): Promise<RuleCounts> {
  const [kept] = rawRows<KeptRow>(await db.raw(KEPT, { run: courseRunId }));
  if (kept) return toCounts(kept, await standingsFrom(db, courseRunId, kept, userIds));
  if (db.isTransaction) return countRule(db, courseRunId, userIds);
  return countAndKeep(db, courseRunId, userIds);
}

/** Counts the rule and keeps the counting; exported so a job can leave it fresh after its writes. */
export async function countAndKeep(db: Knex, courseRunId: number, userIds: readonly number[] = []): Promise<RuleCounts> {
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
      if (!lock.got) return countRule(trx, courseRunId, userIds);
      const [row] = rawRows<KeptRow>(await trx.raw(COUNT_AND_KEEP, { run: courseRunId, ids: inIdOrder(userIds) }));
      const [locked] = rawRows<{ runs: unknown }>(await trx.raw(LOCK_OTHER_RUNS, { run: courseRunId }));
      const runs = intArray(locked.runs);
      if (runs.length > 0) await trx.raw(SPEND_OTHER_RUNS, { runs });
      return toCounts(row, await standingsFrom(trx, courseRunId, row, userIds));
    });
  } catch (error) {
    // A read-only connection (a replica, a read-only role) still gets exact counts.
    const code = (error as { code?: unknown }).code;
    if (code === '25006' || code === '42501') return countRule(db, courseRunId, userIds);
    throw error;
  }
}
