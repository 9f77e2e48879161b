import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { getGradingStatus } from '../course-runs/grading-status.js';
import { findSocialAuth } from '../edx/social-auth-store.js';
import { tokenNeedsRefresh } from '../edx/token-refresh.js';
import { serviceName } from '../edx/providers.js';
import { isOpsError } from '../errors.js';
import { listFailures } from '../freeze/failed-users.js';
import { loadCachedGradeData } from '../final-grades/cached-grade-data.js';
import { computeFinalGrade, type ComputedFinalGrade } from '../final-grades/compute-final-grade.js';
import { findFinalGrade, sameValues } from '../final-grades/final-grade-store.js';
import { maskSecret } from '../secrets.js';
import { findLearnerByUsername, type Learner } from '../users.js';

// spec 2.9: every check of the runbook, in order, each with what it found and why it matters,
// then the one next step an operator should take. Read-only: nothing is refreshed or written.

export type CheckOutcome = 'ok' | 'warn' | 'fail' | 'info';

export interface DiagnosisCheck {
  id:
    | 'account'
    | 'course-run'
    | 'edx-token'
    | 'cached-enrollment'
    | 'cached-current-grade'
    | 'certificate'
    | 'computed-grade'
    | 'final-grade'
    | 'failed-freeze'
    | 'grading-status';
  label: string;
  outcome: CheckOutcome;
  detail: string;
}

export type NextAction =
  | 'none'
  | 'link-account'
  | 'sign-in-again'
  | 'refresh-enrollments'
  | 'refresh-grades'
  | 'freeze-user'
  | 'resync'
  | 'set-freeze-date'
  | 'wait-for-freeze-date';

export interface Diagnosis {
  username: string;
  courseKey: string;
  checks: DiagnosisCheck[];
  computed: ComputedFinalGrade | null;
  nextAction: NextAction;
  nextStep: string;
}

const CURRENT_GRADE_EXPIRY_MS = 60 * 60 * 1000; // spec 2.3: current grades go stale after 1 h

export async function diagnoseLearner(ctx: DomainContext, username: string, courseKey: string): Promise<Diagnosis> {
  const learner = await findLearnerByUsername(ctx.db, username);
  const run = await findCourseRunByKey(ctx.db, courseKey);
  const now = nowOf(ctx);
  const checks: DiagnosisCheck[] = [];
  const add = (check: DiagnosisCheck) => checks.push(check);
  const service = serviceName(run.backend);

  add({
    id: 'account',
    label: 'MicroMasters account',
    outcome: learner.isActive ? 'ok' : 'warn',
    detail: `${learner.username} (id ${learner.id}, ${learner.email})${learner.isActive ? '' : ' is inactive: exams will not be authorized'}`,
  });
  add({
    id: 'course-run',
    label: 'Course run',
    outcome: run.freezeGradeDate ? 'ok' : 'fail',
    detail: `${run.title} on ${service}; freeze date ${run.freezeGradeDate ? run.freezeGradeDate.toISOString() : 'missing'}; ${run.courseHasExam ? 'course has proctored exams' : 'course without exams'}`,
  });

  const social = await findSocialAuth(ctx.db, learner.id, run.backend);
  const extra = social?.extraData ?? {};
  const accessToken = typeof extra.access_token === 'string' ? extra.access_token : null;
  if (!social) {
    add({
      id: 'edx-token',
      label: `${service} account link`,
      outcome: 'fail',
      detail: `no ${run.backend} social-auth row: the learner never linked a ${service} account`,
    });
  } else if (!accessToken) {
    add({
      id: 'edx-token',
      label: `${service} token`,
      outcome: 'fail',
      detail: `linked as "${social.uid}" but the stored token has no access_token`,
    });
  } else {
    const expiresAt =
      typeof extra.updated_at === 'number' && typeof extra.expires_in === 'number'
        ? new Date((extra.updated_at + extra.expires_in) * 1000).toISOString()
        : null;
    const stale = tokenNeedsRefresh(extra, now.getTime());
    add({
      id: 'edx-token',
      label: `${service} token`,
      outcome: stale ? 'warn' : 'ok',
      detail: `linked as "${social.uid}", access token ${maskSecret(accessToken)}, ${stale ? `expired${expiresAt ? ` at ${expiresAt}` : ' (no timestamps)'}: refreshed on next use if edX still accepts the refresh token` : `valid until ${expiresAt}`}`,
    });
  }

  const cached = await loadCachedGradeData(ctx.db, learner.id, run.id);
  add({
    id: 'cached-enrollment',
    label: 'Cached enrollment',
    outcome: cached.enrollment ? 'ok' : 'fail',
    detail: cached.enrollment
      ? `mode "${String(cached.enrollment.mode)}", active ${String(cached.enrollment.is_active)}`
      : 'none: the learner is not a freeze candidate, and a grade refresh skips this run until enrollments are refreshed (spec E10)',
  });

  const refreshTimes = await ctx.db('dashboard_usercacherefreshtime').where('user_id', learner.id).first();
  const refreshedAt = refreshTimes?.[run.backend === 'edxorg' ? 'current_grade' : 'current_grade_mitxonline'] ?? null;
  const gradeFresh = refreshedAt !== null && now.getTime() - new Date(refreshedAt).getTime() < CURRENT_GRADE_EXPIRY_MS;
  add({
    id: 'cached-current-grade',
    label: 'Cached current grade',
    outcome: cached.currentGrade ? (gradeFresh ? 'ok' : 'warn') : 'fail',
    detail: cached.currentGrade
      ? `percent ${JSON.stringify(cached.currentGrade.percent)}, passed ${JSON.stringify(cached.currentGrade.passed)}; refreshed ${refreshedAt ? new Date(refreshedAt).toISOString() : 'never'}${gradeFresh ? '' : ' (stale)'}`
      : 'none: the batch freeze never picks this learner up (spec 2.2)',
  });

  add(certificateCheck(run, cached.certificate));

  let computed: ComputedFinalGrade | null = null;
  let computeProblem: string | null = null;
  try {
    computed = computeFinalGrade(run, cached);
    add({
      id: 'computed-grade',
      label: 'Grade from cached data',
      outcome: 'info',
      detail: `grade ${computed.grade}, passed ${computed.passed}, paid on edX ${computed.paidOnEdx} — ${computed.explanation.slice(1).join('; ')}`,
    });
  } catch (error) {
    computeProblem = isOpsError(error) ? error.message : String(error);
    add({ id: 'computed-grade', label: 'Grade from cached data', outcome: 'fail', detail: `cannot compute: ${computeProblem}` });
  }

  const finalGrade = await findFinalGrade(ctx.db, learner.id, run.id);
  const differs = Boolean(
    finalGrade &&
    computed &&
    !sameValues(finalGrade, { grade: computed.grade, passed: computed.passed, paidOnEdx: computed.paidOnEdx, status: 'complete' }),
  );
  add({
    id: 'final-grade',
    label: 'FinalGrade',
    outcome: !finalGrade ? 'fail' : differs ? 'warn' : 'ok',
    detail: finalGrade
      ? `${finalGrade.status}, grade ${finalGrade.grade}, passed ${finalGrade.passed}, paid ${finalGrade.paidOnEdx}, updated ${finalGrade.updatedOn.toISOString()}${differs ? ' — differs from the cached edX data' : ''}`
      : 'none',
  });

  const failure = (await listFailures(ctx.db, ctx.redis, run)).get(learner.id);
  add({
    id: 'failed-freeze',
    label: 'Failed-freeze record',
    outcome: failure ? 'warn' : 'ok',
    detail: failure
      ? `${failure.reason}: ${failure.message}${failure.failedOn ? ` (${failure.failedOn.toISOString()})` : ''}`
      : 'not on the failed list',
  });

  const status = await getGradingStatus(ctx.db, run.id);
  add({
    id: 'grading-status',
    label: 'Run grading status',
    outcome: status === 'complete' ? 'ok' : 'info',
    detail: status.replace('_', ' '),
  });

  const [nextAction, nextStep] = recommend({
    learner,
    run,
    now,
    social: Boolean(social),
    accessToken,
    cached,
    computeProblem,
    finalGrade: Boolean(finalGrade),
    differs,
    failureReason: failure?.reason,
  });
  return { username, courseKey, checks, computed, nextAction, nextStep };
}

function certificateCheck(run: CourseRun, certificate: Record<string, unknown> | null): DiagnosisCheck {
  if (run.backend === 'mitxonline') {
    return {
      id: 'certificate',
      label: 'Certificate',
      outcome: 'info',
      detail: run.courseHasExam
        ? 'not used: the course has exams, passing comes from the current grade'
        : 'MITx Online certificates are never fetched, so this course without exams always freezes as not passed (spec 5b / E18)',
    };
  }
  if (!certificate) {
    return {
      id: 'certificate',
      label: 'Certificate',
      outcome: run.courseHasExam ? 'info' : 'warn',
      detail: run.courseHasExam
        ? 'none (not used: the course has exams)'
        : 'no verified certificate cached: the learner freezes as not passed',
    };
  }
  return {
    id: 'certificate',
    label: 'Certificate',
    outcome: certificate.status === 'downloadable' ? 'ok' : 'warn',
    detail: `${String(certificate.certificate_type)}, status "${String(certificate.status)}"${run.courseHasExam ? ' (not used: the course has exams)' : ''}`,
  };
}

interface RecommendInput {
  learner: Learner;
  run: CourseRun;
  now: Date;
  social: boolean;
  accessToken: string | null;
  cached: { enrollment: unknown; currentGrade: unknown };
  computeProblem: string | null;
  finalGrade: boolean;
  differs: boolean;
  failureReason?: string;
}

function recommend(i: RecommendInput): [NextAction, string] {
  const { username } = i.learner;
  const key = i.run.courseKey;
  const service = serviceName(i.run.backend);
  if (!i.social) return ['link-account', `ask ${username} to link their ${service} account from the MicroMasters dashboard`];
  if (!i.accessToken || i.failureReason === 'invalid-credentials')
    return ['sign-in-again', `ask ${username} to sign in to ${service} through MicroMasters again (the stored token is unusable)`];
  if (!i.cached.enrollment)
    return [
      'refresh-enrollments',
      `refresh ${username}'s enrollments from ${service}; if the learner is enrolled the enrollment gets cached, then freeze them`,
    ];
  if (i.finalGrade && i.differs) return ['resync', `review and apply the difference: gradeops resync ${username} ${key} --apply`];
  if (i.finalGrade) return ['none', 'the learner has a complete FinalGrade matching the cached edX data'];
  if (!i.run.freezeGradeDate) return ['set-freeze-date', `set the freeze date of ${key} before freezing anything`];
  if (i.now.getTime() <= i.run.freezeGradeDate.getTime())
    return ['wait-for-freeze-date', `the run freezes after ${i.run.freezeGradeDate.toISOString()}`];
  if (!i.cached.currentGrade || i.computeProblem)
    return ['refresh-grades', `refresh and freeze in one step: gradeops freeze-user ${username} ${key}`];
  return ['freeze-user', `freeze the learner: gradeops freeze-user ${username} ${key}`];
}
