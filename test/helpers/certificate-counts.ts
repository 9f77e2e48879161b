import type { Knex } from 'knex';
import { rawRows } from '../../src/domain/db.js';

/**
 * What a program's certificates look like in the database, counted with the tests' own SQL (not
 * with the projection under test): learners by number of course certificates held ("1" … "N"),
 * program certificates, and the "username course" pairs of the course certificates.
 */
export async function certificatesInDatabase(
  db: Knex,
  programId: number,
): Promise<{ counts: { courseCertificates: Record<string, number>; programCertificates: number }; pairs: Set<string> }> {
  const histogram = rawRows<{ n: number; learners: number }>(
    await db.raw(
      `SELECT n, count(*)::integer AS learners FROM (
        SELECT cc.user_id, count(DISTINCT cc.course_id)::integer AS n FROM grades_micromasterscoursecertificate cc
        JOIN courses_course c ON c.id = cc.course_id WHERE c.program_id = ? GROUP BY cc.user_id) t GROUP BY n`,
      [programId],
    ),
  );
  const courses = Number((await db('courses_course').where({ program_id: programId }).count({ n: '*' }))[0].n);
  const courseCertificates: Record<string, number> = {};
  for (let n = 1; n <= courses; n++) courseCertificates[String(n)] = histogram.find((h) => h.n === n)?.learners ?? 0;
  const programCertificates = Number(
    (await db('grades_micromastersprogramcertificate').where({ program_id: programId }).count({ n: '*' }))[0].n,
  );
  const pairs = rawRows<{ username: string; course: string }>(
    await db.raw(
      `SELECT DISTINCT u.username, COALESCE(c.course_number, c.title) AS course FROM grades_micromasterscoursecertificate cc
        JOIN courses_course c ON c.id = cc.course_id JOIN auth_user u ON u.id = cc.user_id WHERE c.program_id = ?`,
      [programId],
    ),
  ).map((p) => `${p.username} ${p.course}`);
  return { counts: { courseCertificates, programCertificates }, pairs: new Set(pairs) };
}
