import type { Knex } from 'knex';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import type { AuditSubject } from '../audit/audit-log.js';
import { AUDIT_LOG_COLUMNS, djangoTimeSql } from '../audit/django-json-sql.js';
import { rawRows, type Db } from '../db.js';
import { releasedPassingExamGrades } from '../exams/exam-grade-rules.js';
import { readFacts, type SqlFragment } from '../sql-facts.js';
import { combinedGrade } from './combined-grade-formula.js';

// spec 2.11 update_or_create_combined_final_grade(user, course), with the MMTrack helpers of 2.13:
// best final = the learner's complete, passed FinalGrades on any run of the course (discontinued
// included), highest grade; best exam = their passed ProctoredExamGrades for the course whose exam
// run is released (date_grades_available ≤ now; no exam run = never released), highest
// percentage_grade. Either missing → nothing, so a combined grade is never deleted or emptied.
//
// One learner (a FinalGrade side effect) and many (populate, the exam-run release) go through the
// same selection SQL, the same decision and the same audited writer below.

export interface CombinedFinalGrade {
  id: number;
  userId: number;
  courseId: number;
  grade: number;
  createdOn: Date;
  updatedOn: Date;
}

export interface BestFinalGrade {
  id: number;
  grade: number;
  courseRunId: number;
}

export interface BestExamGrade {
  id: number;
  score: number;
  percentageGrade: number;
  examRunId: number;
}

export type CombinedFinalGradeOutcome =
  | {
      outcome: 'created' | 'updated';
      combinedFinalGrade: CombinedFinalGrade;
      /** The grade before this update (null when created). */
      previousGrade: number | null;
      bestFinalGrade: BestFinalGrade;
      bestExamGrade: BestExamGrade;
    }
  | { outcome: 'skipped'; reason: 'no-passed-final-grade' | 'no-released-passing-exam-grade' };

interface Inputs {
  bestFinal: (BestFinalGrade & { courseKey?: string }) | null;
  bestExam: BestExamGrade | null;
}

function rowToCombinedFinalGrade(r: Record<string, unknown>): CombinedFinalGrade {
  return {
    id: r.id as number,
    userId: r.user_id as number,
    courseId: r.course_id as number,
    grade: Number(r.grade),
    createdOn: new Date(r.created_on as string),
    updatedOn: new Date(r.updated_on as string),
  };
}

// The selection rules of spec 2.13, written once: the FROM … LIMIT 1 of each best grade, for SQL
// expressions naming the learner and the course. The one-learner fact wraps them in json; the
// batch joins them laterally.
const BEST_FINAL_COLUMNS = 'f.id, f.grade, f.course_run_id, r.edx_course_key AS course_key';
function bestFinalGradeFrom(user: string, course: string): string {
  return `FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
    WHERE f.user_id = ${user} AND r.course_id = ${course} AND f.status = 'complete' AND f.passed AND f.grade IS NOT NULL
    ORDER BY f.grade DESC, f.id LIMIT 1`;
}

/** One `?` binding: now. */
const BEST_EXAM_COLUMNS = 'g.id, g.score, g.percentage_grade, g.exam_run_id';
function bestExamGradeFrom(user: string, course: string): string {
  const released = releasedPassingExamGrades('g', 'e');
  return `FROM ${released.from} WHERE g.user_id = ${user} AND g.course_id = ${course} AND ${released.where}
    ORDER BY g.percentage_grade DESC, g.id LIMIT 1`;
}

/** What the update needs, as one json value: the best final grade and the best released exam grade. */
export function combinedFinalGradeFact(userId: number, courseId: number, now: Date): SqlFragment {
  return {
    sql: `SELECT json_build_object(
      'bestFinal', (SELECT json_build_object('id', f.id, 'grade', f.grade, 'courseRunId', f.course_run_id, 'courseKey', r.edx_course_key) ${bestFinalGradeFrom('?', '?')}),
      'bestExam', (SELECT json_build_object('id', g.id, 'score', g.score, 'percentageGrade', g.percentage_grade, 'examRunId', g.exam_run_id) ${bestExamGradeFrom('?', '?')}))`,
    bindings: [userId, courseId, userId, courseId, now],
  };
}

type Decision =
  | { outcome: 'combine'; grade: number; bestFinalGrade: BestFinalGrade; bestExamGrade: BestExamGrade; courseKey: string | null }
  | { outcome: 'skipped'; reason: 'no-passed-final-grade' | 'no-released-passing-exam-grade' };

/** spec 2.11 steps 2–4: both grades present → the formula; else nothing. */
function decide(fact: unknown): Decision {
  const inputs = (fact ?? { bestFinal: null, bestExam: null }) as Inputs;
  if (!inputs.bestFinal) return { outcome: 'skipped', reason: 'no-passed-final-grade' };
  if (!inputs.bestExam) return { outcome: 'skipped', reason: 'no-released-passing-exam-grade' };
  const bestFinalGrade = { id: inputs.bestFinal.id, grade: Number(inputs.bestFinal.grade), courseRunId: inputs.bestFinal.courseRunId };
  const bestExamGrade = {
    id: inputs.bestExam.id,
    score: Number(inputs.bestExam.score),
    percentageGrade: Number(inputs.bestExam.percentageGrade),
    examRunId: inputs.bestExam.examRunId,
  };
  return {
    outcome: 'combine',
    grade: combinedGrade(bestFinalGrade.grade, bestExamGrade.score),
    bestFinalGrade,
    bestExamGrade,
    courseKey: inputs.bestFinal.courseKey ?? null,
  };
}

interface CombinedWrite {
  subject: Omit<AuditSubject, 'courseKey' | 'courseRunId'> & { courseKey: string | null; courseRunId: number | null };
  courseId: number;
  grade: number;
  bestFinalGrade: BestFinalGrade;
  bestExamGrade: BestExamGrade;
}

interface WriteOutcome {
  write: CombinedWrite;
  outcome: 'created' | 'updated' | 'unchanged';
  previousGrade: number | null;
  saved: CombinedFinalGrade;
}

const PAIR_TYPES = 'user_id integer, course_id integer';

/** spec 2.15: a grades_combinedfinalgrade row (alias `c`) in the Django JSON form, as SQL. */
function combinedFinalGradeJsonSql(c: string): string {
  return `jsonb_build_object('created_on', ${djangoTimeSql(`${c}.created_on`)}, 'updated_on', ${djangoTimeSql(`${c}.updated_on`)},
    'user', ${c}.user_id, 'course', ${c}.course_id, 'grade', ${c}.grade, 'id', ${c}.id)`;
}

/**
 * Upserts grades_combinedfinalgrade on (user, course) for every write and, in the same statement,
 * writes the grades_combinedfinalgradeaudit row the reference's save_and_log(None) writes (acting
 * user NULL, data_before = the real previous row, spec 5b) and gradeops' own audit row naming the
 * operator. The existing rows are locked first, so data_before is exact; a row another writer
 * created meanwhile is picked up as an update on the next pass.
 * `rewriteUnchanged`: the reference saves (and audits) even when the grade is the same; gradeops'
 * batch commands leave such rows alone so they stay idempotent.
 */
async function writeCombinedFinalGrades(
  trx: Knex.Transaction,
  operator: string,
  now: Date,
  writes: readonly CombinedWrite[],
  options: { rewriteUnchanged: boolean },
): Promise<WriteOutcome[]> {
  const results: WriteOutcome[] = [];
  let pending = [...writes];
  for (let pass = 0; pending.length > 0; pass++) {
    if (pass > 2) throw new Error('combined final grades kept changing under gradeops; run again');
    const pairs = JSON.stringify(pending.map((w) => ({ user_id: w.subject.userId, course_id: w.courseId })));
    const existing = rawRows<Record<string, unknown>>(
      await trx.raw(
        `SELECT c.* FROM grades_combinedfinalgrade c JOIN jsonb_to_recordset(?::jsonb) AS v(${PAIR_TYPES})
          ON c.user_id = v.user_id AND c.course_id = v.course_id ORDER BY c.id FOR UPDATE OF c`,
        [pairs],
      ),
    ).map(rowToCombinedFinalGrade);
    const byPair = new Map(existing.map((c) => [`${c.userId}:${c.courseId}`, c]));
    const due: Array<{ write: CombinedWrite; existingId: number | null }> = [];
    for (const write of pending) {
      const before = byPair.get(`${write.subject.userId}:${write.courseId}`);
      if (before && before.grade === write.grade && !options.rewriteUnchanged)
        results.push({ write, outcome: 'unchanged', previousGrade: before.grade, saved: before });
      else due.push({ write, existingId: before?.id ?? null });
    }
    pending = [];
    if (due.length === 0) break;
    const record = (w: CombinedWrite, existingId: number | null) => ({
      existing_id: existingId,
      user_id: w.subject.userId,
      course_id: w.courseId,
      grade: w.grade,
      username: w.subject.username,
      course_key: w.subject.courseKey,
      course_run_id: w.subject.courseRunId,
      side_effects_due_id: w.subject.sideEffectsDueId ?? null,
      detail: { courseId: w.courseId, bestFinalGrade: w.bestFinalGrade, bestExamGrade: w.bestExamGrade },
    });
    const WRITE = `existing_id integer, ${PAIR_TYPES}, grade double precision, username text, course_key text, course_run_id integer,
      side_effects_due_id bigint, detail jsonb`;
    // Both audit rows from the RETURNING of the write: the file's rows join tables by primary key
    // only (a self-join gives the row before the update), never one CTE to another.
    const audits = (source: string) => `
        reference AS (
          INSERT INTO grades_combinedfinalgradeaudit (created_on, updated_on, acting_user_id, combined_final_grade_id, data_before, data_after)
            SELECT ?, ?, NULL, w.id, w.before, w.after FROM ${source} w),
        audited AS (
          INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS}, side_effects_due_id)
            SELECT ?::text, 'combined-final-grade', w.course_key, w.course_run_id, w.user_id, w.username, w.before, w.after, w.detail,
              w.side_effects_due_id
            FROM ${source} w)`;
    // The outbox row a FinalGrade side effect serves goes into its audit row, so it never runs twice.
    const returned = `c.id, c.user_id, c.course_id, c.grade, c.created_on, c.updated_on, v.username, v.course_key, v.course_run_id,
      v.side_effects_due_id, v.detail`;
    const rows: Array<Record<string, unknown>> = [];
    const updates = due.filter((d) => d.existingId !== null);
    if (updates.length > 0) {
      rows.push(
        ...rawRows<Record<string, unknown>>(
          await trx.raw(
            `WITH upd AS (
              UPDATE grades_combinedfinalgrade c SET grade = v.grade, updated_on = ?
                FROM jsonb_to_recordset(?::jsonb) AS v(${WRITE}) JOIN grades_combinedfinalgrade o ON o.id = v.existing_id
                WHERE c.id = v.existing_id
                RETURNING ${returned}, o.grade AS previous_grade, ${combinedFinalGradeJsonSql('o')} AS before, ${combinedFinalGradeJsonSql('c')} AS after),
            ${audits('upd')}
            SELECT 'updated' AS outcome, * FROM upd`,
            [now, JSON.stringify(updates.map((d) => record(d.write, d.existingId))), now, now, operator],
          ),
        ),
      );
    }
    const creates = due.filter((d) => d.existingId === null);
    if (creates.length > 0) {
      const inserted = rawRows<{ id: number; user_id: number; course_id: number }>(
        await trx.raw(
          `INSERT INTO grades_combinedfinalgrade (created_on, updated_on, user_id, course_id, grade)
            SELECT ?, ?, v.user_id, v.course_id, v.grade FROM jsonb_to_recordset(?::jsonb) AS v(${WRITE})
            ON CONFLICT (user_id, course_id) DO NOTHING RETURNING id, user_id, course_id`,
          [now, now, JSON.stringify(creates.map((d) => record(d.write, null)))],
        ),
      );
      const ids = new Map(inserted.map((r) => [`${r.user_id}:${r.course_id}`, r.id]));
      const written = creates
        .filter((d) => ids.has(`${d.write.subject.userId}:${d.write.courseId}`))
        .map((d) => ({ ...record(d.write, null), existing_id: ids.get(`${d.write.subject.userId}:${d.write.courseId}`) }));
      if (written.length > 0) {
        rows.push(
          ...rawRows<Record<string, unknown>>(
            await trx.raw(
              `WITH ins AS (
                SELECT ${returned}, NULL::double precision AS previous_grade, NULL::jsonb AS before, ${combinedFinalGradeJsonSql('c')} AS after
                FROM jsonb_to_recordset(?::jsonb) AS v(${WRITE}) JOIN grades_combinedfinalgrade c ON c.id = v.existing_id),
              ${audits('ins')}
              SELECT 'created' AS outcome, * FROM ins`,
              [JSON.stringify(written), now, now, operator],
            ),
          ),
        );
      }
    }
    const saved = new Map(rows.map((r) => [`${r.user_id as number}:${r.course_id as number}`, r]));
    for (const { write } of due) {
      const row = saved.get(`${write.subject.userId}:${write.courseId}`);
      // Created by someone else since the lock: update it on the next pass.
      if (!row) pending.push(write);
      else
        results.push({
          write,
          outcome: row.outcome as 'created' | 'updated',
          previousGrade: row.previous_grade === null ? null : Number(row.previous_grade),
          saved: rowToCombinedFinalGrade(row),
        });
    }
  }
  return results;
}

/** What the combined final grade would be from today's data, or why there would be none. */
export type CombinedFinalGradeProjection =
  | { outcome: 'computed'; grade: number; bestFinalGrade: BestFinalGrade; bestExamGrade: BestExamGrade }
  | { outcome: 'skipped'; reason: 'no-passed-final-grade' | 'no-released-passing-exam-grade' };

/** spec 2.11 on today's data, without writing: what `updateOrCreateCombinedFinalGrade` would store. */
export async function projectCombinedFinalGrade(
  ctx: DomainContext,
  userId: number,
  courseId: number,
): Promise<CombinedFinalGradeProjection> {
  const { combined } = await readFacts(ctx.db, { combined: combinedFinalGradeFact(userId, courseId, nowOf(ctx)) });
  const decision = decide(combined);
  if (decision.outcome === 'skipped') return decision;
  return { outcome: 'computed', grade: decision.grade, bestFinalGrade: decision.bestFinalGrade, bestExamGrade: decision.bestExamGrade };
}

/** The stored grades_combinedfinalgrade row of (user, course), or null. */
export async function findCombinedFinalGrade(db: Db, userId: number, courseId: number): Promise<CombinedFinalGrade | null> {
  const row = await db('grades_combinedfinalgrade').where({ user_id: userId, course_id: courseId }).first();
  return row ? rowToCombinedFinalGrade(row) : null;
}

/**
 * The FinalGrade side effect (spec 2.8): one learner, one course, from the facts read by
 * `combinedFinalGradeFact`. Like the reference it saves even when the grade is unchanged.
 */
export async function updateOrCreateCombinedFinalGrade(
  ctx: DomainContext,
  subject: AuditSubject,
  courseId: number,
  fact: unknown,
): Promise<CombinedFinalGradeOutcome> {
  const decision = decide(fact);
  if (decision.outcome === 'skipped') return decision;
  return ctx.db.transaction(async (trx) => {
    const [result] = await writeCombinedFinalGrades(
      trx,
      ctx.operator,
      nowOf(ctx),
      [{ subject, courseId, grade: decision.grade, bestFinalGrade: decision.bestFinalGrade, bestExamGrade: decision.bestExamGrade }],
      { rewriteUnchanged: true },
    );
    return {
      outcome: result.outcome === 'created' ? ('created' as const) : ('updated' as const),
      combinedFinalGrade: result.saved,
      previousGrade: result.previousGrade,
      bestFinalGrade: decision.bestFinalGrade,
      bestExamGrade: decision.bestExamGrade,
    };
  });
}

export interface CombinedFinalGradeCounts {
  created: number;
  updated: number;
  unchanged: number;
  /** Learners with a released passing exam grade but no complete passed FinalGrade in the course. */
  skipped: number;
}

export interface CombinedFinalGradeChange {
  userId: number;
  username: string;
  courseId: number;
  outcome: 'created' | 'updated';
  previousGrade: number | null;
  grade: number;
}

export interface CombinedFinalGradesResult extends CombinedFinalGradeCounts {
  changes: CombinedFinalGradeChange[];
  /** The same counts per course id. */
  byCourse: Map<number, CombinedFinalGradeCounts>;
}

/**
 * spec 2.11 for every (user, course) pair the `pairs` query yields (columns user_id, course_id):
 * the facts of all pairs in one statement, the formula, then one audited batch write of the
 * grades that differ. Runs in one transaction (a savepoint inside the caller's).
 */
export async function updateOrCreateCombinedFinalGrades(
  ctx: DomainContext,
  pairs: SqlFragment,
  now: Date,
): Promise<CombinedFinalGradesResult> {
  return ctx.db.transaction(async (trx) => {
    const rows = rawRows<Record<string, unknown>>(
      await trx.raw(
        `SELECT p.user_id, p.course_id, u.username, bf.id AS bf_id, bf.grade AS bf_grade, bf.course_run_id AS bf_run, bf.course_key AS bf_key,
            be.id AS be_id, be.score AS be_score, be.percentage_grade AS be_percentage, be.exam_run_id AS be_run
          FROM (SELECT DISTINCT q.user_id, q.course_id FROM (${pairs.sql}) q) p JOIN auth_user u ON u.id = p.user_id
          LEFT JOIN LATERAL (SELECT ${BEST_FINAL_COLUMNS} ${bestFinalGradeFrom('p.user_id', 'p.course_id')}) bf ON true
          LEFT JOIN LATERAL (SELECT ${BEST_EXAM_COLUMNS} ${bestExamGradeFrom('p.user_id', 'p.course_id')}) be ON true
          ORDER BY p.course_id, p.user_id`,
        [...pairs.bindings, now] as Knex.RawBinding[],
      ),
    );
    const result: CombinedFinalGradesResult = { created: 0, updated: 0, unchanged: 0, skipped: 0, changes: [], byCourse: new Map() };
    const count = (courseId: number, outcome: keyof CombinedFinalGradeCounts) => {
      result[outcome] += 1;
      const counts = result.byCourse.get(courseId) ?? { created: 0, updated: 0, unchanged: 0, skipped: 0 };
      counts[outcome] += 1;
      result.byCourse.set(courseId, counts);
    };
    const writes: CombinedWrite[] = [];
    for (const row of rows) {
      const userId = row.user_id as number;
      const courseId = row.course_id as number;
      const decision = decide({
        bestFinal:
          row.bf_id === null
            ? null
            : { id: row.bf_id as number, grade: Number(row.bf_grade), courseRunId: row.bf_run as number, courseKey: row.bf_key as string },
        bestExam:
          row.be_id === null
            ? null
            : {
                id: row.be_id as number,
                score: Number(row.be_score),
                percentageGrade: Number(row.be_percentage),
                examRunId: row.be_run as number,
              },
      });
      if (decision.outcome === 'skipped') {
        count(courseId, 'skipped');
        continue;
      }
      writes.push({
        subject: {
          userId,
          username: row.username as string,
          courseKey: decision.courseKey,
          courseRunId: decision.bestFinalGrade.courseRunId,
        },
        courseId,
        grade: decision.grade,
        bestFinalGrade: decision.bestFinalGrade,
        bestExamGrade: decision.bestExamGrade,
      });
    }
    for (const r of await writeCombinedFinalGrades(trx, ctx.operator, now, writes, { rewriteUnchanged: false })) {
      count(r.write.courseId, r.outcome);
      if (r.outcome !== 'unchanged') {
        result.changes.push({
          userId: r.write.subject.userId,
          username: r.write.subject.username ?? '',
          courseId: r.write.courseId,
          outcome: r.outcome,
          previousGrade: r.previousGrade,
          grade: r.saved.grade,
        });
      }
    }
    return result;
  });
}
