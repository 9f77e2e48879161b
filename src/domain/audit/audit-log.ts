import type { Db } from '../db.js';

// spec 5b: gradeops audits every write in its own table and never in grades_finalgradeaudit,
// whose protection rules would make every audited FinalGrade impossible to revert.

export type AuditAction =
  | 'freeze-user'
  | 'freeze-started'
  | 'freeze-finished'
  | 'freeze-completed'
  | 'complete-freeze'
  | 'revert-freeze'
  | 'restore-freeze'
  | 'resync'
  | 'refresh-edx-data'
  | 'seed-demo'
  // An operator opened a console allowed to write (`gradeops repl --write`), with the reason given.
  | 'console-write-session'
  // spec 2.8: the side effects of a FinalGrade save, which gradeops runs itself.
  | 'combined-final-grade'
  | 'program-letter'
  | 'exam-profile'
  | 'exam-authorization'
  // issue 9: the proctored exam grade workflow (import, adjustment, release, certificates).
  | 'proctored-exam-grade'
  | 'exam-run-release'
  | 'course-certificate'
  | 'program-certificate';

export interface AuditEntry {
  operator: string;
  action: AuditAction;
  courseKey?: string | null;
  courseRunId?: number | null;
  userId?: number | null;
  username?: string | null;
  before?: unknown;
  after?: unknown;
  detail?: unknown;
  /** The outbox row (gradeops_side_effects_due) a side effect's write served (issue 12 §3). */
  sideEffectsDueId?: number | null;
}

/** Whom an audit row is about: the learner and the course run whose FinalGrade caused the write. */
export interface AuditSubject {
  userId: number;
  username: string | null;
  courseKey: string;
  courseRunId: number;
  /** Set when the write serves a side-effects-due row: recorded so the effect never runs twice. */
  sideEffectsDueId?: number | null;
}

const asJson = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

/** The gradeops_audit_log row of an entry (for stores that write it inside a larger statement). */
export function auditRow(entry: AuditEntry): Record<string, string | number | null> {
  return {
    operator: entry.operator,
    action: entry.action,
    course_key: entry.courseKey ?? null,
    course_run_id: entry.courseRunId ?? null,
    user_id: entry.userId ?? null,
    username: entry.username ?? null,
    data_before: asJson(entry.before),
    data_after: asJson(entry.after),
    detail: asJson(entry.detail),
    side_effects_due_id: entry.sideEffectsDueId ?? null,
  };
}

export async function writeAudit(db: Db, entry: AuditEntry): Promise<void> {
  await db('gradeops_audit_log').insert(auditRow(entry));
}

const AUDIT_RECORD_TYPES =
  'operator text, action text, course_key text, course_run_id integer, user_id integer, username text, data_before jsonb, data_after jsonb, detail jsonb, side_effects_due_id bigint';

/**
 * Many audit rows in one statement: the rows travel as one json parameter (no bind-parameter
 * limit, and pg and PGlite agree on a text parameter, not on arrays).
 */
export async function writeAudits(db: Db, entries: readonly AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    operator: e.operator,
    action: e.action,
    course_key: e.courseKey ?? null,
    course_run_id: e.courseRunId ?? null,
    user_id: e.userId ?? null,
    username: e.username ?? null,
    data_before: e.before ?? null,
    data_after: e.after ?? null,
    detail: e.detail ?? null,
    side_effects_due_id: e.sideEffectsDueId ?? null,
  }));
  const columns = 'operator, action, course_key, course_run_id, user_id, username, data_before, data_after, detail, side_effects_due_id';
  await db.raw(
    `INSERT INTO gradeops_audit_log (${columns}) SELECT ${columns} FROM jsonb_to_recordset(?::jsonb) AS v(${AUDIT_RECORD_TYPES})`,
    [JSON.stringify(rows)],
  );
}

export interface AuditRow {
  id: number;
  createdOn: Date;
  operator: string;
  action: string;
  courseKey: string | null;
  userId: number | null;
  username: string | null;
  before: unknown;
  after: unknown;
  detail: unknown;
}

export async function listAudit(db: Db, filter: { courseRunId?: number; action?: AuditAction; limit?: number } = {}): Promise<AuditRow[]> {
  const query = db('gradeops_audit_log').orderBy('id', 'asc');
  if (filter.courseRunId !== undefined) query.where('course_run_id', filter.courseRunId);
  if (filter.action) query.where('action', filter.action);
  if (filter.limit) query.limit(filter.limit);
  const rows = await query;
  return rows.map(rowToAudit);
}

/** The newest audit row of an action, for a face to show what a write it just made recorded. */
export async function latestAudit(
  db: Db,
  filter: { action: AuditAction; courseKey?: string; userId?: number; operator?: string },
): Promise<AuditRow | null> {
  const query = db('gradeops_audit_log').where('action', filter.action).orderBy('id', 'desc').first();
  if (filter.courseKey !== undefined) query.where('course_key', filter.courseKey);
  if (filter.userId !== undefined) query.where('user_id', filter.userId);
  if (filter.operator !== undefined) query.where('operator', filter.operator);
  const row = await query;
  return row ? rowToAudit(row) : null;
}

function rowToAudit(r: Record<string, unknown>): AuditRow {
  return {
    id: Number(r.id),
    createdOn: new Date(r.created_on as string),
    operator: r.operator as string,
    action: r.action as string,
    courseKey: (r.course_key as string) ?? null,
    userId: (r.user_id as number) ?? null,
    username: (r.username as string) ?? null,
    before: r.data_before,
    after: r.data_after,
    detail: r.detail,
  };
}
