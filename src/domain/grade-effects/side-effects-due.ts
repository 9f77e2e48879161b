import type { Db } from '../db.js';
import type { SideEffectName } from './final-grade-side-effects.js';

// Issue 12 §3: the outbox of FinalGrade side effects (spec 2.8). A row is written in the same
// transaction (or statement) as the FinalGrade and deleted once its side effects have run.

export type SideEffectsSource = 'freeze' | 'freeze-user' | 'resync';

export interface SideEffectsDue {
  id: number;
  finalGradeId: number;
  userId: number;
  courseRunId: number;
  courseKey: string;
  username: string | null;
  created: boolean;
  source: SideEffectsSource;
  operator: string;
  freezeRunId: number | null;
  dueOn: Date;
  attempts: number;
  lastError: string | null;
}

/** What a writer records about the FinalGrade it writes, for the due row beside it. */
export interface DueRowInput {
  courseKey: string;
  username: string | null;
  source: SideEffectsSource;
  operator: string;
  freezeRunId: number | null;
}

function rowToDue(r: Record<string, unknown>): SideEffectsDue {
  return {
    id: Number(r.id),
    finalGradeId: r.final_grade_id as number,
    userId: r.user_id as number,
    courseRunId: r.course_run_id as number,
    courseKey: r.course_key as string,
    username: (r.username as string | null) ?? null,
    created: Boolean(r.created),
    source: r.source as SideEffectsSource,
    operator: r.operator as string,
    freezeRunId: r.freeze_run_id === null || r.freeze_run_id === undefined ? null : Number(r.freeze_run_id),
    dueOn: new Date(r.due_on as string),
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
  };
}

/**
 * Records (inside the FinalGrade's transaction) that a FinalGrade's side effects are due. One row
 * per FinalGrade: a second save before the first's effects ran keeps one row, a create kept a create.
 */
export async function recordDue(
  db: Db,
  finalGrade: { id: number; userId: number; courseRunId: number },
  created: boolean,
  input: DueRowInput,
  now: Date,
): Promise<number> {
  const [row] = await db('gradeops_side_effects_due')
    .insert({
      final_grade_id: finalGrade.id,
      user_id: finalGrade.userId,
      course_run_id: finalGrade.courseRunId,
      course_key: input.courseKey,
      username: input.username,
      created,
      source: input.source,
      operator: input.operator,
      freeze_run_id: input.freezeRunId,
      due_on: now,
    })
    .onConflict('final_grade_id')
    .merge({ created: db.raw('gradeops_side_effects_due.created OR excluded.created'), due_on: now, source: input.source })
    .returning('id');
  return Number(row.id ?? row);
}

export async function listDue(db: Db, courseRunId?: number): Promise<SideEffectsDue[]> {
  const query = db('gradeops_side_effects_due').orderBy('id');
  if (courseRunId !== undefined) query.where('course_run_id', courseRunId);
  return (await query).map(rowToDue);
}

/** The course runs with side effects due, for `gradeops side-effects` without a course key. */
export async function runsWithDue(db: Db): Promise<Array<{ courseRunId: number; courseKey: string; due: number }>> {
  const rows = await db('gradeops_side_effects_due')
    .select('course_run_id', 'course_key')
    .count('* as due')
    .groupBy('course_run_id', 'course_key')
    .orderBy('course_key');
  return rows.map((r: Record<string, unknown>) => ({
    courseRunId: r.course_run_id as number,
    courseKey: r.course_key as string,
    due: Number(r.due),
  }));
}

export async function deleteDue(db: Db, ids: readonly number[]): Promise<void> {
  if (ids.length > 0)
    await db('gradeops_side_effects_due')
      .whereRaw('id = ANY(?::bigint[])', [[...ids]])
      .del();
}

/** A side effect failed: the row stays due, with what went wrong, for the next attempt. */
export async function noteDueFailure(db: Db, id: number, error: string): Promise<void> {
  await db('gradeops_side_effects_due')
    .where('id', id)
    .update({ attempts: db.raw('attempts + 1'), last_error: error });
}

/** The side effects whose writes already served these rows (their audit rows name the row). */
export async function effectsDoneFor(db: Db, ids: readonly number[]): Promise<Map<number, Set<SideEffectName>>> {
  const done = new Map<number, Set<SideEffectName>>();
  if (ids.length === 0) return done;
  const rows = await db('gradeops_audit_log')
    .whereRaw('side_effects_due_id = ANY(?::bigint[])', [[...ids]])
    .distinct('side_effects_due_id', 'action');
  for (const r of rows as Array<{ side_effects_due_id: unknown; action: string }>) {
    const effect: SideEffectName | null =
      r.action === 'combined-final-grade'
        ? 'combined-final-grade'
        : r.action === 'program-letter'
          ? 'program-letter'
          : r.action === 'exam-authorization' || r.action === 'exam-profile'
            ? 'exam-authorization'
            : null;
    if (!effect) continue;
    const id = Number(r.side_effects_due_id);
    if (!done.has(id)) done.set(id, new Set());
    done.get(id)!.add(effect);
  }
  return done;
}

/**
 * Where a finished row goes. A one-learner command deletes it at once; the freeze job deletes in
 * batches, which keeps the hot path at its statement count (bench/RESULTS.md). A row finished but
 * not yet deleted when the process dies is run again: its effects that wrote something are known
 * by their audit rows and skipped, the others only read.
 */
export interface DueSink {
  done(id: number): Promise<void>;
  flush(): Promise<void>;
}

export function immediateDueSink(db: Db): DueSink {
  return {
    done: (id) => deleteDue(db, [id]),
    flush: async () => {},
  };
}

export function batchedDueSink(db: Db, options: { size?: number; everyMs?: number } = {}): DueSink {
  const size = options.size ?? 200;
  const everyMs = options.everyMs ?? 1_000;
  let pending: number[] = [];
  let last = Date.now();
  const flush = async () => {
    const ids = pending;
    pending = [];
    last = Date.now();
    await deleteDue(db, ids);
  };
  return {
    async done(id) {
      pending.push(id);
      if (pending.length >= size || Date.now() - last >= everyMs) await flush();
    },
    flush,
  };
}
