import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { AUDIT_LOG_COLUMNS, CERTIFICATE_HASH_SQL, djangoTimeSql } from '../audit/django-json-sql.js';
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

    // ON CONFLICT: certified by someone else meanwhile.
    const rows = rawRows<{ id: number; user_id: number; hash: string }>(
      await trx.raw(
        `INSERT INTO ${TABLE} (created_on, updated_on, hash, user_id, program_id)
          SELECT ?, ?, ${CERTIFICATE_HASH_SQL}, v.user_id, ? FROM jsonb_to_recordset(?::jsonb) AS v(user_id integer) ORDER BY v.user_id
          ON CONFLICT (user_id, program_id) DO NOTHING RETURNING id, user_id, hash`,
        [now, now, requirements.programId, JSON.stringify(completed.map((l) => ({ user_id: l.userId })))],
      ),
    );
    const byUserForAudit = new Map(completed.map((l) => [l.userId, l]));
    await trx.raw(
      `INSERT INTO gradeops_audit_log (${AUDIT_LOG_COLUMNS})
        SELECT ?::text, 'program-certificate', NULL, NULL::integer, i.user_id, v.username, NULL::jsonb,
          jsonb_build_object('created_on', ${djangoTimeSql('i.created_on')}, 'updated_on', ${djangoTimeSql('i.updated_on')}, 'hash', i.hash,
            'user', i.user_id, 'program', i.program_id, 'id', i.id),
          jsonb_build_object('programId', i.program_id, 'passedCourseIds', v.passed)
        FROM jsonb_to_recordset(?::jsonb) AS v(id integer, username text, passed jsonb) JOIN ${TABLE} i ON i.id = v.id`,
      [
        ctx.operator,
        JSON.stringify(
          rows.map((r) => ({
            id: r.id,
            username: byUserForAudit.get(r.user_id)!.username,
            passed: [...(passed.get(r.user_id) ?? [])].sort((a, b) => a - b),
          })),
        ),
      ],
    );
    const byUser = new Map(completed.map((l) => [l.userId, l]));
    result.alreadyCertified += completed.length - rows.length;
    result.created = rows.map((r) => ({
      id: r.id,
      userId: r.user_id,
      username: byUser.get(r.user_id)!.username,
      programId: requirements.programId,
      hash: r.hash,
    }));
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
