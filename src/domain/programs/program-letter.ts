import { randomUUID } from 'node:crypto';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudit, type AuditSubject } from '../audit/audit-log.js';
import type { SqlFragment } from '../sql-facts.js';
import { passedCoursesFact, toCourseIdSet } from './passed-courses.js';
import { completedProgram, type ProgramRequirements } from './program-requirements.js';

// spec 2.14 generate_program_letter(user, program): an active letter → stop; the program completed
// (core courses and electives sets, with the passing rules of 2.13) → upsert (user, program) with
// is_active = true: a new letter gets a random v4 uuid, an inactive one is reactivated.

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

interface Facts {
  letter: { id: number; uuid: string; isActive: boolean; createdOn: string; updatedOn: string } | null;
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

export async function generateProgramLetter(
  ctx: DomainContext,
  subject: AuditSubject,
  requirements: ProgramRequirements,
  fact: unknown,
): Promise<ProgramLetterOutcome> {
  const facts = (fact ?? { letter: null, passedCourseIds: [] }) as Facts;
  const passed = toCourseIdSet(facts.passedCourseIds);
  const passedCourseIds = [...passed].sort((a, b) => a - b);
  if (facts.letter?.isActive) return { outcome: 'skipped', reason: 'already-has-letter', passedCourseIds };
  if (!completedProgram(requirements, passed)) return { outcome: 'skipped', reason: 'program-not-completed', passedCourseIds };

  return ctx.db.transaction(async (trx) => {
    const now = nowOf(ctx);
    const uuid = randomUUID();
    // Only an inactive letter is touched: one activated meanwhile stays as it is.
    const [row] = await trx(TABLE)
      .insert({ created_on: now, updated_on: now, uuid, user_id: subject.userId, program_id: requirements.programId, is_active: true })
      .onConflict(['user_id', 'program_id'])
      .merge({ is_active: true, updated_on: now })
      .where(`${TABLE}.is_active`, false)
      .returning('*');
    if (!row) return { outcome: 'skipped' as const, reason: 'already-has-letter' as const, passedCourseIds };
    const letter = rowToProgramLetter(row);
    const created = letter.uuid === uuid;
    const before =
      created || !facts.letter
        ? null
        : {
            ...letter,
            isActive: facts.letter.isActive,
            updatedOn: new Date(facts.letter.updatedOn),
          };
    await writeAudit(trx, {
      operator: ctx.operator,
      action: 'program-letter',
      ...subject,
      before: programLetterForAudit(before),
      after: programLetterForAudit(letter),
      detail: { programId: requirements.programId, passedCourseIds },
    });
    return { outcome: created ? ('created' as const) : ('reactivated' as const), letter, passedCourseIds };
  });
}
