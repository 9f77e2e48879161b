import type { DomainContext } from '../context.js';
import { nowOf } from '../context.js';
import { findCourseRunByKey, type CourseRun } from '../course-runs/course-run-store.js';
import { getGradingStatus } from '../course-runs/grading-status.js';
import { findSocialAuth } from '../edx/social-auth-store.js';
import { tokenNeedsRefresh } from '../edx/token-refresh.js';
import { serviceName } from '../edx/providers.js';
import { isOpsError } from '../errors.js';
import { findFailure } from '../freeze/failed-users.js';
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

// spec 2.3: how long each cached type counts as fresh. Older (or never refreshed) data is what a
// refresh could change, so that is when diagnose names `gradeops refresh`.
const EXPIRY_MS = { enrollment: 5 * 60 * 1000, certificate: 6 * 60 * 60 * 1000, currentGrade: 60 * 60 * 1000 };

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
  const edx = run.backend === 'edxorg';
  const refreshedAt = refreshTimes?.[edx ? 'current_grade' : 'current_grade_mitxonline'] ?? null;
  const fresh = (at: unknown, expiryMs: number) =>
    at !== null && at !== undefined && now.getTime() - new Date(at as string).getTime() < expiryMs;
  const gradeFresh = fresh(refreshedAt, EXPIRY_MS.currentGrade);
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

  // spec 5b: the failed list decides; a failure row of a learner no longer on it is history.
  const { onList, failure: lastFailure } = await findFailure(ctx.db, ctx.redis, run, learner.id);
  const failure = onList ? lastFailure : null;
  const when = (f: NonNullable<typeof lastFailure>) => (f.failedOn ? ` (${f.failedOn.toISOString()})` : '');
  const dropped = onList && finalGrade?.status !== 'complete' && (!cached.enrollment || !cached.currentGrade);
  add({
    id: 'failed-freeze',
    label: 'Failed-freeze record',
    outcome: failure ? 'warn' : lastFailure ? 'info' : 'ok',
    detail: failure
      ? `${dropped ? `dropped (${cached.enrollment ? 'no-current-grade' : 'no-enrollment'}): on the failed list but no longer eligible, so not counted as failed; ` : ''}${failure.reason}: ${failure.message}${when(failure)}`
      : lastFailure
        ? `not on the failed list (history: the last attempt failed with ${lastFailure.reason}: ${lastFailure.message}${when(lastFailure)}; the next freeze retries the learner)`
        : 'not on the failed list',
  });

  const status = await getGradingStatus(ctx.db, run.id);
  add({
    id: 'grading-status',
    label: 'Run grading status',
    outcome: status === 'complete' ? 'ok' : 'info',
    detail: status.replace('_', ' '),
  });

  const enrollmentsRefreshedAt = refreshTimes?.[edx ? 'enrollment' : 'enrollment_mitxonline'] ?? null;
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
    // The last attempt's reason guides the next step even once the list was cleared (history).
    failureReason: lastFailure?.reason,
    enrollmentsRefreshedAt: fresh(enrollmentsRefreshedAt, EXPIRY_MS.enrollment) ? new Date(enrollmentsRefreshedAt as string) : null,
    gradeStaleSince: cached.currentGrade && !gradeFresh ? (refreshedAt ? new Date(refreshedAt as string) : 'never') : null,
    // spec 2.4: only an edX course without exams reads the certificate; none cached means "not passed".
    certificateMissing:
      edx && !run.courseHasExam && !cached.certificate && !fresh(refreshTimes?.certificate ?? null, EXPIRY_MS.certificate),
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
  /** When enrollments were refreshed, if recently enough that another refresh would find the same. */
  enrollmentsRefreshedAt: Date | null;
  /** The cached current grade is past its expiry: since when it was refreshed (or never). */
  gradeStaleSince: Date | 'never' | null;
  /** No verified certificate is cached for a course that needs one, and certificates are not fresh. */
  certificateMissing: boolean;
}

function recommend(i: RecommendInput): [NextAction, string] {
  const { username } = i.learner;
  const key = i.run.courseKey;
  const service = serviceName(i.run.backend);
  if (!i.social) return ['link-account', `ask ${username} to link their ${service} account from the MicroMasters dashboard`];
  if (!i.accessToken || i.failureReason === 'invalid-credentials')
    return ['sign-in-again', `ask ${username} to sign in to ${service} through MicroMasters again (the stored token is unusable)`];
  const refresh = `gradeops refresh ${username} ${key}`;
  if (!i.cached.enrollment) {
    // spec 2.9 step 3 / E10: the grade refresh only asks about runs with a cached enrollment.
    if (i.enrollmentsRefreshedAt)
      return [
        'refresh-enrollments',
        `${service} listed no enrollment of ${username} in ${key} at ${i.enrollmentsRefreshedAt.toISOString()}: the learner must enroll there first, then run ${refresh}`,
      ];
    return [
      'refresh-enrollments',
      `refresh ${username}'s ${service} data: ${refresh} (caches the enrollment if ${service} lists it), then diagnose again`,
    ];
  }
  if (i.finalGrade && i.differs) return ['resync', `review and apply the difference: gradeops resync ${username} ${key} --apply`];
  if (i.finalGrade) return ['none', 'the learner has a complete FinalGrade matching the cached edX data'];
  if (!i.run.freezeGradeDate) return ['set-freeze-date', `set the freeze date of ${key} before freezing anything`];
  if (i.now.getTime() <= i.run.freezeGradeDate.getTime())
    return ['wait-for-freeze-date', `the run freezes after ${i.run.freezeGradeDate.toISOString()}`];
  const why = !i.cached.currentGrade
    ? 'no current grade is cached'
    : i.computeProblem
      ? 'the cached data gives no grade'
      : i.gradeStaleSince
        ? `the cached current grade is stale (refreshed ${i.gradeStaleSince === 'never' ? 'never' : i.gradeStaleSince.toISOString()})`
        : i.certificateMissing
          ? 'no verified certificate is cached, so the learner would freeze as not passed'
          : null;
  if (why) return ['refresh-grades', `${why}: ${refresh}, then freeze: gradeops freeze-user ${username} ${key}`];
  return ['freeze-user', `freeze the learner: gradeops freeze-user ${username} ${key}`];
}
