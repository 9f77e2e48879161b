import type { Knex } from 'knex';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudits, type AuditEntry, type AuditSubject } from '../audit/audit-log.js';
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

/** spec 2.15: the model's Django JSON form (FKs as ids, datetimes ISO-8601 with milliseconds and Z). */
export function combinedFinalGradeForAudit(c: CombinedFinalGrade | null): Record<string, unknown> | null {
  if (!c) return null;
  return {
    created_on: c.createdOn.toISOString(),
    updated_on: c.updatedOn.toISOString(),
    user: c.userId,
    course: c.courseId,
    grade: c.grade,
    id: c.id,
  };
}

/** The best final grade of (user, course), as one json value; `user` and `course` are SQL expressions. */
function bestFinalGradeSql(user: string, course: string): string {
  return `SELECT json_build_object('id', f.id, 'grade', f.grade, 'courseRunId', f.course_run_id, 'courseKey', r.edx_course_key)
    FROM grades_finalgrade f JOIN courses_courserun r ON r.id = f.course_run_id
    WHERE f.user_id = ${user} AND r.course_id = ${course} AND f.status = 'complete' AND f.passed AND f.grade IS NOT NULL
    ORDER BY f.grade DESC, f.id LIMIT 1`;
}

/** The best released passing exam grade of (user, course), as one json value; one `?` binding: now. */
function bestExamGradeSql(user: string, course: string): string {
  const released = releasedPassingExamGrades('g', 'e');
  return `SELECT json_build_object('id', g.id, 'score', g.score, 'percentageGrade', g.percentage_grade, 'examRunId', g.exam_run_id)
    FROM ${released.from}
    WHERE g.user_id = ${user} AND g.course_id = ${course} AND ${released.where}
    ORDER BY g.percentage_grade DESC, g.id LIMIT 1`;
}

/** What the update needs, as one json value: the best final grade and the best released exam grade. */
export function combinedFinalGradeFact(userId: number, courseId: number, now: Date): SqlFragment {
  return {
    sql: `SELECT json_build_object('bestFinal', (${bestFinalGradeSql('?', '?')}), 'bestExam', (${bestExamGradeSql('?', '?')}))`,
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
  before: CombinedFinalGrade | null;
  saved: CombinedFinalGrade;
}

const PAIR_TYPES = 'user_id integer, course_id integer';

/**
 * Upserts grades_combinedfinalgrade on (user, course) for every write and, in the same
 * transaction, writes the grades_combinedfinalgradeaudit row the reference's save_and_log(None)
 * writes (acting user NULL, data_before = the real previous row, spec 5b) and gradeops' own audit
 * row naming the operator. The existing rows are locked first, so data_before is exact; a row
 * another writer created meanwhile is picked up as an update on the next pass.
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
    const creates: CombinedWrite[] = [];
    const updates: Array<{ write: CombinedWrite; before: CombinedFinalGrade }> = [];
    for (const write of pending) {
      const before = byPair.get(`${write.subject.userId}:${write.courseId}`);
      if (!before) creates.push(write);
      else if (before.grade === write.grade && !options.rewriteUnchanged)
        results.push({ write, outcome: 'unchanged', before, saved: before });
      else updates.push({ write, before });
    }
    if (updates.length > 0) {
      const rows = rawRows<Record<string, unknown>>(
        await trx.raw(
          `UPDATE grades_combinedfinalgrade c SET grade = v.grade, updated_on = ?
            FROM jsonb_to_recordset(?::jsonb) AS v(id integer, grade double precision) WHERE c.id = v.id RETURNING c.*`,
          [now, JSON.stringify(updates.map((u) => ({ id: u.before.id, grade: u.write.grade })))],
        ),
      ).map(rowToCombinedFinalGrade);
      const saved = new Map(rows.map((c) => [c.id, c]));
      for (const u of updates) results.push({ write: u.write, outcome: 'updated', before: u.before, saved: saved.get(u.before.id)! });
    }
    pending = [];
    if (creates.length > 0) {
      const rows = rawRows<Record<string, unknown>>(
        await trx.raw(
          `INSERT INTO grades_combinedfinalgrade (created_on, updated_on, user_id, course_id, grade)
            SELECT ?, ?, v.user_id, v.course_id, v.grade FROM jsonb_to_recordset(?::jsonb) AS v(${PAIR_TYPES}, grade double precision)
            ON CONFLICT (user_id, course_id) DO NOTHING RETURNING *`,
          [now, now, JSON.stringify(creates.map((w) => ({ user_id: w.subject.userId, course_id: w.courseId, grade: w.grade })))],
        ),
      ).map(rowToCombinedFinalGrade);
      const saved = new Map(rows.map((c) => [`${c.userId}:${c.courseId}`, c]));
      for (const write of creates) {
        const row = saved.get(`${write.subject.userId}:${write.courseId}`);
        if (row) results.push({ write, outcome: 'created', before: null, saved: row });
        else pending.push(write); // created by someone else since the lock: update it on the next pass
      }
    }
  }

  const written = results.filter((r) => r.outcome !== 'unchanged');
  if (written.length > 0) {
    // spec 1.9: no protection rules on this audit table, so gradeops writes it as the reference does (5b).
    await trx.raw(
      `INSERT INTO grades_combinedfinalgradeaudit (created_on, updated_on, acting_user_id, combined_final_grade_id, data_before, data_after)
        SELECT ?, ?, NULL, v.id, v.data_before, v.data_after FROM jsonb_to_recordset(?::jsonb) AS v(id integer, data_before jsonb, data_after jsonb)`,
      [
        now,
        now,
        JSON.stringify(
          written.map((r) => ({
            id: r.saved.id,
            data_before: combinedFinalGradeForAudit(r.before),
            data_after: combinedFinalGradeForAudit(r.saved),
          })),
        ),
      ],
    );
    await writeAudits(
      trx,
      written.map((r): AuditEntry => ({
        operator,
        action: 'combined-final-grade',
        ...r.write.subject,
        before: combinedFinalGradeForAudit(r.before),
        after: combinedFinalGradeForAudit(r.saved),
        detail: { courseId: r.write.courseId, bestFinalGrade: r.write.bestFinalGrade, bestExamGrade: r.write.bestExamGrade },
      })),
    );
  }
  return results;
}

/** What the combined final grade would be from today's data, or why there would be none. */
export type CombinedFinalGradeProjection =
  | { outcome: 'computed'; grade: number; bestFinalGrade: BestFinalGrade; bestExamGrade: BestExamGrade }
  | { outcome: 'skipped'; reason: 'no-passed-final-grade' | 'no-released-passing-exam-grade' };

/** spec 2.11 on today's data, without writing: what `updateOrCreateCombinedFinalGrade` would store. */
export async function projectCombinedFinalGrade(ctx: DomainContext, userId: number, courseId: number): Promise<CombinedFinalGradeProjection> {
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
      previousGrade: result.before?.grade ?? null,
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
    const rows = rawRows<{ user_id: number; course_id: number; username: string; fact: unknown }>(
      await trx.raw(
        `SELECT p.user_id, p.course_id, u.username,
            json_build_object('bestFinal', (${bestFinalGradeSql('p.user_id', 'p.course_id')}),
                              'bestExam', (${bestExamGradeSql('p.user_id', 'p.course_id')})) AS fact
          FROM (SELECT DISTINCT q.user_id, q.course_id FROM (${pairs.sql}) q) p JOIN auth_user u ON u.id = p.user_id
          ORDER BY p.course_id, p.user_id`,
        [now, ...pairs.bindings] as Knex.RawBinding[],
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
      const decision = decide(typeof row.fact === 'string' ? JSON.parse(row.fact) : row.fact);
      if (decision.outcome === 'skipped') {
        count(row.course_id, 'skipped');
        continue;
      }
      writes.push({
        subject: {
          userId: row.user_id,
          username: row.username,
          courseKey: decision.courseKey,
          courseRunId: decision.bestFinalGrade.courseRunId,
        },
        courseId: row.course_id,
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
          previousGrade: r.before?.grade ?? null,
          grade: r.saved.grade,
        });
      }
    }
    return result;
  });
}
