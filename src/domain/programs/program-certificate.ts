import { randomUUID } from 'node:crypto';
import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { writeAudits } from '../audit/audit-log.js';
import { rawRows } from '../db.js';
import { passedCoursesOfLearners } from './passed-courses.js';
import { generateProgramLetters, type ProgramLettersResult } from './program-letter.js';
import { completedProgram, type ProgramRequirements } from './program-requirements.js';

// spec 2.14 generate_program_certificate(user, program): a certificate for (user, program) exists →
// stop (one per learner and program, spec 5 item 9); the program completed (core courses and
// electives sets, passing rules of 2.13) → create it with a fresh hash; then (spec 2.8, the
// certificate's post-save signal) generate_program_letter.

export interface ProgramCertificateCreated {
  id: number;
  userId: number;
  username: string;
  programId: number;
  hash: string;
}

export interface ProgramCertificatesResult {
  created: ProgramCertificateCreated[];
  alreadyCertified: number;
  notCompleted: number;
  letters: ProgramLettersResult;
}

const TABLE = 'grades_micromastersprogramcertificate';

/** spec 1.10: 32 lowercase hex characters of a random UUID4. */
export function certificateHash(): string {
  return randomUUID().replace(/-/g, '');
}

/** spec 2.15's field names, as for every other audited MicroMasters row. */
function programCertificateForAudit(r: Record<string, unknown>): Record<string, unknown> {
  return {
    created_on: new Date(r.created_on as string).toISOString(),
    updated_on: new Date(r.updated_on as string).toISOString(),
    hash: r.hash,
    user: r.user_id,
    program: r.program_id,
    id: r.id,
  };
}

/** generate_program_certificate for each learner of one program, in one transaction. */
export async function generateProgramCertificates(
  ctx: DomainContext,
  requirements: ProgramRequirements,
  learners: ReadonlyArray<{ userId: number; username: string }>,
): Promise<ProgramCertificatesResult> {
  const result: ProgramCertificatesResult = {
    created: [],
    alreadyCertified: 0,
    notCompleted: 0,
    letters: { created: 0, reactivated: 0, alreadyActive: 0, notCompleted: 0 },
  };
  const unique = [...new Map(learners.map((l) => [l.userId, l])).values()];
  if (unique.length === 0) return result;
  return ctx.db.transaction(async (trx) => {
    const c = { ...ctx, db: trx };
    const now = nowOf(ctx);
    const certified = new Set(
      rawRows<{ user_id: number }>(
        await trx.raw(
          `SELECT user_id FROM ${TABLE} WHERE program_id = ? AND user_id IN (SELECT value::integer FROM json_array_elements_text(?::json))`,
          [requirements.programId, JSON.stringify(unique.map((l) => l.userId))],
        ),
      ).map((r) => r.user_id),
    );
    result.alreadyCertified = certified.size;
    const others = unique.filter((l) => !certified.has(l.userId));
    const passed = await passedCoursesOfLearners(
      trx,
      requirements,
      others.map((l) => l.userId),
    );
    const completed = others.filter((l) => completedProgram(requirements, passed.get(l.userId) ?? new Set()));
    result.notCompleted = others.length - completed.length;
    if (completed.length === 0) return result;

    const rows = rawRows<Record<string, unknown>>(
      await trx.raw(
        `INSERT INTO ${TABLE} (created_on, updated_on, hash, user_id, program_id)
          SELECT ?, ?, v.hash, v.user_id, ? FROM jsonb_to_recordset(?::jsonb) AS v(hash text, user_id integer)
          ON CONFLICT (user_id, program_id) DO NOTHING RETURNING *`,
        [now, now, requirements.programId, JSON.stringify(completed.map((l) => ({ hash: certificateHash(), user_id: l.userId })))],
      ),
    );
    const byUser = new Map(completed.map((l) => [l.userId, l]));
    result.alreadyCertified += completed.length - rows.length; // certified by someone else meanwhile
    result.created = rows.map((r) => ({
      id: r.id as number,
      userId: r.user_id as number,
      username: byUser.get(r.user_id as number)!.username,
      programId: requirements.programId,
      hash: r.hash as string,
    }));
    await writeAudits(
      trx,
      rows.map((r) => ({
        operator: ctx.operator,
        action: 'program-certificate' as const,
        userId: r.user_id as number,
        username: byUser.get(r.user_id as number)!.username,
        before: null,
        after: programCertificateForAudit(r),
        detail: { programId: requirements.programId, passedCourseIds: [...(passed.get(r.user_id as number) ?? [])].sort((a, b) => a - b) },
      })),
    );
    result.letters = await generateProgramLetters(
      c,
      requirements,
      result.created.map((cert) => ({
        userId: cert.userId,
        username: cert.username,
        passedCourseIds: passed.get(cert.userId) ?? new Set(),
      })),
    );
    return result;
  });
}
