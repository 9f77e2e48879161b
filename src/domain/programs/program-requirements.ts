import type { Db } from '../db.js';

// spec 1.3 and 2.14: what completing a program takes. A core course is a course of the program
// with no courses_electivecourse row; each electives set needs `required_number` of its courses
// passed; `num_required_courses` is display only and never consulted.

export interface ElectivesSet {
  id: number;
  requiredNumber: number;
  courseIds: number[];
}

export interface ProgramRequirements {
  programId: number;
  /** spec 2.13 `has_exams`: some course of the program has an exam run; it switches the passing rules. */
  hasExams: boolean;
  coreCourseIds: number[];
  electivesSets: ElectivesSet[];
}

export async function loadProgramRequirements(db: Db, programId: number): Promise<ProgramRequirements> {
  const courses: Array<Record<string, unknown>> = await db('courses_course as c')
    .where('c.program_id', programId)
    .orderBy('c.id')
    .select(
      'c.id',
      db.raw('EXISTS (SELECT 1 FROM courses_electivecourse ec WHERE ec.course_id = c.id) AS is_elective'),
      db.raw('EXISTS (SELECT 1 FROM exams_examrun e WHERE e.course_id = c.id) AS has_exam'),
    );
  // The set's courses are read from the set itself, as the reference does (electivecourse_set).
  const sets: Array<Record<string, unknown>> = await db('courses_electivesset as s')
    .leftJoin('courses_electivecourse as ec', 'ec.electives_set_id', 's.id')
    .where('s.program_id', programId)
    .orderBy(['s.id', 'ec.course_id'])
    .select('s.id', 's.required_number', 'ec.course_id');
  const byId = new Map<number, ElectivesSet>();
  for (const r of sets) {
    const id = r.id as number;
    const set = byId.get(id) ?? { id, requiredNumber: Number(r.required_number), courseIds: [] };
    if (r.course_id !== null && r.course_id !== undefined) set.courseIds.push(r.course_id as number);
    byId.set(id, set);
  }
  return {
    programId,
    hasExams: courses.some((c) => Boolean(c.has_exam)),
    coreCourseIds: courses.filter((c) => !c.is_elective).map((c) => c.id as number),
    electivesSets: [...byId.values()],
  };
}

/** Every course whose passing can matter for completing the program. */
export function coursesOfRequirements(requirements: ProgramRequirements): number[] {
  return [...new Set([...requirements.coreCourseIds, ...requirements.electivesSets.flatMap((s) => s.courseIds)])];
}

/**
 * spec 2.14 `completed_program`: every electives set has at least `required_number` passed
 * courses and every core course is passed. A program with no courses is vacuously complete.
 * `passedCourseIds` follows spec 2.13 (`passed-courses.ts`).
 */
export function completedProgram(requirements: ProgramRequirements, passedCourseIds: ReadonlySet<number>): boolean {
  for (const set of requirements.electivesSets) {
    if (set.courseIds.filter((id) => passedCourseIds.has(id)).length < set.requiredNumber) return false;
  }
  return requirements.coreCourseIds.every((id) => passedCourseIds.has(id));
}
