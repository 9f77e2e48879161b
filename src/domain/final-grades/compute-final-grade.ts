import type { CourseRun } from '../course-runs/course-run-store.js';
import { OpsError } from '../errors.js';
import type { CachedGradeData } from './cached-grade-data.js';
import { gradeFromPercent } from './python-float.js';

// spec 2.4: the formula is picked by "the run's course has an exam run"; the result carries the
// rule and the inputs that produced it so a screen can explain a grade, not just show it.

export type GradeRule = 'course-with-exam' | 'course-without-exam-certificate' | 'course-without-exam-no-certificate';

export interface ComputedFinalGrade {
  grade: number;
  passed: boolean;
  paidOnEdx: boolean;
  rule: GradeRule;
  inputs: {
    percent: unknown;
    currentGradePassed: unknown;
    enrollmentMode: string | null;
    certificateType: string | null;
    certificateStatus: string | null;
  };
  explanation: string[];
}

const PAID_MODES = new Set(['verified', 'honor']);

export function computeFinalGrade(run: CourseRun, cached: CachedGradeData): ComputedFinalGrade {
  if (run.courseId === null) {
    // spec E19: a run without a course cannot be graded.
    throw new OpsError(
      'missing-cached-data',
      `course run ${run.courseKey} belongs to no course`,
      'attach the run to its course in the Django admin',
    );
  }
  const { enrollment, certificate, currentGrade } = cached;
  if (!currentGrade) {
    throw new OpsError(
      'missing-cached-data',
      'no cached current grade for this learner and run',
      "refresh the learner's edX cache (`gradeops diagnose`); edX may have no grade for them",
    );
  }
  const percent = currentGrade.percent;
  const grade = gradeFromPercent(percent);
  if (!Number.isFinite(grade) || grade < 0) {
    // spec 1.5: a FinalGrade must be ≥ 0 (and a NaN or infinity is never a grade).
    throw new OpsError(
      'invalid-edx-data',
      `edX reported percent ${JSON.stringify(percent)}, which is not a valid grade`,
      'ask edX support to recompute the grade, then resync',
    );
  }
  const enrollmentMode = typeof enrollment?.mode === 'string' ? enrollment.mode : null;
  const inputs = {
    percent,
    currentGradePassed: currentGrade.passed,
    enrollmentMode,
    certificateType: typeof certificate?.certificate_type === 'string' ? certificate.certificate_type : null,
    certificateStatus: typeof certificate?.status === 'string' ? certificate.status : null,
  };
  const explanation = [`grade = float(percent ${JSON.stringify(percent)}) = ${grade}`];
  const requireEnrollment = () => {
    if (!enrollment) {
      throw new OpsError(
        'missing-cached-data',
        'no cached enrollment for this learner and run',
        "refresh the learner's enrollments (`gradeops diagnose`); they may not be enrolled on edX",
      );
    }
  };

  if (run.courseHasExam) {
    requireEnrollment();
    if (typeof currentGrade.passed !== 'boolean') {
      // spec 5b: passed must be a boolean for a FinalGrade; a null from edX is unusable data.
      throw new OpsError(
        'invalid-edx-data',
        `edX reported passed = ${JSON.stringify(currentGrade.passed)} for this learner`,
        'ask edX to regrade the learner, then freeze or resync again',
      );
    }
    const paidOnEdx = PAID_MODES.has(enrollmentMode ?? '');
    explanation.push(
      'course has proctored exams: passed comes from the edX current grade',
      `passed = ${currentGrade.passed}`,
      `paid on edX = enrollment mode "${enrollmentMode}" is verified or honor → ${paidOnEdx}`,
    );
    return { grade, passed: currentGrade.passed, paidOnEdx, rule: 'course-with-exam', inputs, explanation };
  }

  if (certificate) {
    const passed = inputs.certificateStatus === 'downloadable';
    const paidOnEdx = PAID_MODES.has(inputs.certificateType ?? '');
    explanation.push(
      'course without exams, with a cached certificate',
      `passed = certificate status "${inputs.certificateStatus}" is downloadable → ${passed}`,
      `paid on edX = certificate type "${inputs.certificateType}" is verified or honor → ${paidOnEdx}`,
    );
    return { grade, passed, paidOnEdx, rule: 'course-without-exam-certificate', inputs, explanation };
  }

  requireEnrollment();
  const paidOnEdx = PAID_MODES.has(enrollmentMode ?? '');
  explanation.push(
    run.backend === 'mitxonline'
      ? 'course without exams on MITx Online: certificates are never fetched from MITx Online, so the learner cannot pass (spec E18)'
      : 'course without exams and no cached certificate: not passed',
    'passed = false',
    `paid on edX = enrollment mode "${enrollmentMode}" is verified or honor → ${paidOnEdx}`,
  );
  return { grade, passed: false, paidOnEdx, rule: 'course-without-exam-no-certificate', inputs, explanation };
}
