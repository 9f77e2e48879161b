import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { gatheredByTurn } from '../turn-batch.js';
import { writeAudits, type AuditSubject } from '../audit/audit-log.js';
import { rawRows } from '../db.js';
import type { SqlFragment } from '../sql-facts.js';
import { passedCoursesFact, toCourseIdSet } from './passed-courses.js';
import { completedProgram, type ProgramRequirements } from './program-requirements.js';

// spec 2.14 generate_program_letter(user, program): an active letter → stop; the program completed
// (core courses and electives sets, with the passing rules of 2.13) → upsert (user, program) with
// is_active = true: a new letter gets a random v4 uuid, an inactive one is reactivated.
// One learner (a FinalGrade side effect) and many (new program certificates) share the decision
// and the audited writer below.

export interface ProgramLetter {
  id: number;
  uuid: string;
  userId: number;
  programId: number;
  isActive: boolean;
  createdOn: Date;
  updatedOn: Date;
}

export type ProgramLetterOutcome =
  | { outcome: 'created' | 'reactivated'; letter: ProgramLetter; passedCourseIds: number[] }
  | { outcome: 'skipped'; reason: 'already-has-letter' | 'program-not-completed'; passedCourseIds: number[] };

/** The learner's letter as read before deciding (null: none). */
interface ExistingLetter {
  id: number;
  uuid: string;
  isActive: boolean;
  createdOn: string | Date;
  updatedOn: string | Date;
}

interface Facts {
  letter: ExistingLetter | null;
  passedCourseIds: unknown;
}

const TABLE = 'grades_micromastersprogramcommendation';

function rowToProgramLetter(r: Record<string, unknown>): ProgramLetter {
  return {
    id: r.id as number,
    uuid: r.uuid as string,
    userId: r.user_id as number,
    programId: r.program_id as number,
    isActive: Boolean(r.is_active),
    createdOn: new Date(r.created_on as string),
    updatedOn: new Date(r.updated_on as string),
  };
}

/** spec 2.15's field names, as for every other audited MicroMasters row. */
export function programLetterForAudit(l: ProgramLetter | null): Record<string, unknown> | null {
  if (!l) return null;
  return {
    created_on: l.createdOn.toISOString(),
    updated_on: l.updatedOn.toISOString(),
    uuid: l.uuid,
    user: l.userId,
    program: l.programId,
    is_active: l.isActive,
    id: l.id,
  };
}

/** The learner's letter for the program (if any) and the program's courses they have passed. */
export function programLetterFact(requirements: ProgramRequirements, userId: number): SqlFragment {
  const passed = passedCoursesFact(requirements, userId);
  return {
    sql: `SELECT json_build_object(
      'letter', (SELECT json_build_object('id', l.id, 'uuid', l.uuid, 'isActive', l.is_active, 'createdOn', l.created_on, 'updatedOn', l.updated_on)
        FROM ${TABLE} l WHERE l.user_id = ? AND l.program_id = ?),
      'passedCourseIds', (${passed.sql}))`,
    bindings: [userId, requirements.programId, ...passed.bindings],
  };
}

interface LetterCandidate {
  subject: AuditSubject | (Omit<AuditSubject, 'courseKey' | 'courseRunId'> & { courseKey: null; courseRunId: null });
  passedCourseIds: number[];
  letter: ExistingLetter | null;
}

/** spec 2.14: who gets a letter written; the others are skipped with the reason. */
function decide(
  requirements: ProgramRequirements,
  candidate: LetterCandidate,
): { outcome: 'write' } | { outcome: 'skipped'; reason: 'already-has-letter' | 'program-not-completed' } {
  if (candidate.letter?.isActive) return { outcome: 'skipped', reason: 'already-has-letter' };
  if (!completedProgram(requirements, new Set(candidate.passedCourseIds))) return { outcome: 'skipped', reason: 'program-not-completed' };
  return { outcome: 'write' };
}

/** Creates or reactivates the letters of `candidates` (already decided) with one audit row each. */
async function writeProgramLetters(
  trx: Knex.Transaction,
  operator: string,
  now: Date,
  requirements: ProgramRequirements,
  candidates: readonly LetterCandidate[],
): Promise<Map<number, ProgramLetterOutcome>> {
  const outcomes = new Map<number, ProgramLetterOutcome>();
  if (candidates.length === 0) return outcomes;
  const uuids = new Map(candidates.map((c) => [c.subject.userId, randomUUID()]));
  // Only an inactive letter is touched: one activated meanwhile stays as it is.
  const rows = rawRows<Record<string, unknown>>(
    await trx.raw(
      `INSERT INTO ${TABLE} AS t (created_on, updated_on, uuid, user_id, program_id, is_active)
        SELECT ?, ?, v.uuid, v.user_id, ?, true FROM jsonb_to_recordset(?::jsonb) AS v(uuid uuid, user_id integer)
        ON CONFLICT (user_id, program_id) DO UPDATE SET is_active = true, updated_on = excluded.updated_on WHERE t.is_active = false
        RETURNING t.*`,
      [
        now,
        now,
        requirements.programId,
        JSON.stringify(candidates.map((c) => ({ uuid: uuids.get(c.subject.userId), user_id: c.subject.userId }))),
      ],
    ),
  ).map(rowToProgramLetter);
  const byUser = new Map(rows.map((l) => [l.userId, l]));
  const audits = [];
  for (const c of candidates) {
    const letter = byUser.get(c.subject.userId);
    if (!letter) {
      outcomes.set(c.subject.userId, { outcome: 'skipped', reason: 'already-has-letter', passedCourseIds: c.passedCourseIds });
      continue;
    }
    const created = letter.uuid === uuids.get(c.subject.userId);
    const before = created || !c.letter ? null : { ...letter, isActive: c.letter.isActive, updatedOn: new Date(c.letter.updatedOn) };
    outcomes.set(c.subject.userId, { outcome: created ? 'created' : 'reactivated', letter, passedCourseIds: c.passedCourseIds });
    audits.push({
      operator,
      action: 'program-letter' as const,
      ...c.subject,
      before: programLetterForAudit(before),
      after: programLetterForAudit(letter),
      detail: { programId: requirements.programId, passedCourseIds: c.passedCourseIds },
    });
  }
  await writeAudits(trx, audits);
  return outcomes;
}

/** One learner, from the facts read by `programLetterFact` (the FinalGrade side effect, spec 2.8). */
export async function generateProgramLetter(
  ctx: DomainContext,
  subject: AuditSubject,
  requirements: ProgramRequirements,
  fact: unknown,
): Promise<ProgramLetterOutcome> {
  const facts = (fact ?? { letter: null, passedCourseIds: [] }) as Facts;
  const passedCourseIds = [...toCourseIdSet(facts.passedCourseIds)].sort((a, b) => a - b);
  const candidate: LetterCandidate = { subject, passedCourseIds, letter: facts.letter };
  const decision = decide(requirements, candidate);
  if (decision.outcome === 'skipped') return { ...decision, passedCourseIds };
  const write: LetterWrite = { ctx, requirements, candidate };
  // The letters of one freeze write batch (issue 10 §2) are written in one transaction.
  if (ctx.db.isTransaction) return writeOneLetter(write);
  return gatheredLetterWrites(letterKey(ctx, requirements.programId), write);
}

interface LetterWrite {
  ctx: DomainContext;
  requirements: ProgramRequirements;
  candidate: LetterCandidate;
}

function writeOneLetter({ ctx, requirements, candidate }: LetterWrite): Promise<ProgramLetterOutcome> {
  return ctx.db.transaction(async (trx) => {
    const outcomes = await writeProgramLetters(trx, ctx.operator, nowOf(ctx), requirements, [candidate]);
    return outcomes.get(candidate.subject.userId)!;
  });
}

const gatheredLetterWrites = gatheredByTurn<LetterWrite, ProgramLetterOutcome>(async (writes) => {
  const { ctx, requirements } = writes[0];
  const outcomes = await ctx.db.transaction((trx) =>
    writeProgramLetters(
      trx,
      ctx.operator,
      nowOf(ctx),
      requirements,
      writes.map((w) => w.candidate),
    ),
  );
  return writes.map((w) => outcomes.get(w.candidate.subject.userId)!);
}, writeOneLetter);

// Gathered only with the same database, program and operator.
const letterKeys = new WeakMap<object, Map<string, object>>();
function letterKey(ctx: DomainContext, programId: number): object {
  let byProgram = letterKeys.get(ctx.db);
  if (!byProgram) letterKeys.set(ctx.db, (byProgram = new Map()));
  const name = `${programId} ${ctx.operator}`;
  let key = byProgram.get(name);
  if (!key) byProgram.set(name, (key = {}));
  return key;
}

export interface ProgramLettersResult {
  created: number;
  reactivated: number;
  /** Learners who already had an active letter. */
  alreadyActive: number;
  notCompleted: number;
}

/**
 * Many learners of one program (spec 2.8: a program certificate was created for each), whose
 * passed courses the caller already knows. Their letters are read (and locked) here.
 */
export async function generateProgramLetters(
  ctx: DomainContext,
  requirements: ProgramRequirements,
  learners: ReadonlyArray<{ userId: number; username: string; passedCourseIds: ReadonlySet<number> }>,
): Promise<ProgramLettersResult> {
  const result: ProgramLettersResult = { created: 0, reactivated: 0, alreadyActive: 0, notCompleted: 0 };
  if (learners.length === 0) return result;
  return ctx.db.transaction(async (trx) => {
    const letters = rawRows<Record<string, unknown>>(
      await trx.raw(
        `SELECT l.* FROM ${TABLE} l WHERE l.program_id = ? AND l.user_id IN (SELECT value::integer FROM json_array_elements_text(?::json)) FOR UPDATE`,
        [requirements.programId, JSON.stringify(learners.map((l) => l.userId))],
      ),
    ).map(rowToProgramLetter);
    const byUser = new Map(letters.map((l) => [l.userId, l]));
    const due: LetterCandidate[] = [];
    for (const l of learners) {
      const candidate: LetterCandidate = {
        subject: { userId: l.userId, username: l.username, courseKey: null, courseRunId: null },
        passedCourseIds: [...l.passedCourseIds].sort((a, b) => a - b),
        letter: byUser.get(l.userId) ?? null,
      };
      const decision = decide(requirements, candidate);
      if (decision.outcome === 'write') due.push(candidate);
      else if (decision.reason === 'already-has-letter') result.alreadyActive += 1;
      else result.notCompleted += 1;
    }
    for (const outcome of (await writeProgramLetters(trx, ctx.operator, nowOf(ctx), requirements, due)).values()) {
      if (outcome.outcome === 'created') result.created += 1;
      else if (outcome.outcome === 'reactivated') result.reactivated += 1;
      else result.alreadyActive += 1;
    }
    return result;
  });
}
