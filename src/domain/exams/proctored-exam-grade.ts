// spec 1.8: grades_proctoredexamgrade, mapped once.

export interface ProctoredExamGrade {
  id: number;
  userId: number;
  courseId: number;
  examRunId: number | null;
  examDate: Date;
  passingScore: number;
  score: number;
  grade: string;
  clientAuthorizationId: string | null;
  rowData: unknown;
  passed: boolean;
  percentageGrade: number;
  createdOn: Date;
  updatedOn: Date;
}

export function rowToProctoredExamGrade(r: Record<string, unknown>): ProctoredExamGrade {
  return {
    id: r.id as number,
    userId: r.user_id as number,
    courseId: r.course_id as number,
    examRunId: (r.exam_run_id as number | null) ?? null,
    examDate: new Date(r.exam_date as string),
    passingScore: Number(r.passing_score),
    score: Number(r.score),
    grade: r.grade as string,
    clientAuthorizationId: (r.client_authorization_id as string | null) ?? null,
    rowData: typeof r.row_data === 'string' ? JSON.parse(r.row_data) : r.row_data,
    passed: Boolean(r.passed),
    percentageGrade: Number(r.percentage_grade),
    createdOn: new Date(r.created_on as string),
    updatedOn: new Date(r.updated_on as string),
  };
}

/** spec 2.15: the model's Django JSON form (FKs as ids, datetimes ISO-8601 with milliseconds and Z). */
export function proctoredExamGradeForAudit(g: ProctoredExamGrade | null): Record<string, unknown> | null {
  if (!g) return null;
  return {
    created_on: g.createdOn.toISOString(),
    updated_on: g.updatedOn.toISOString(),
    user: g.userId,
    course: g.courseId,
    exam_run: g.examRunId,
    exam_date: g.examDate.toISOString(),
    passing_score: g.passingScore,
    score: g.score,
    grade: g.grade,
    client_authorization_id: g.clientAuthorizationId,
    row_data: g.rowData,
    passed: g.passed,
    percentage_grade: g.percentageGrade,
    id: g.id,
  };
}

/** JSON with object keys sorted, so two row_data values compare equal whatever their key order (jsonb reorders keys). */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
