import type { Provider } from '../domain/edx/edx-settings.js';
import type { SeedRun } from './catalogue.js';
import { addDays, edxIso } from './dates.js';
import type { Rng } from './prng.js';

// The `data` of the three edX cache tables, shaped like the API payloads in
// test/fixtures/edx-samples (spec 1.4, 3.2–3.4), and social-auth `extra_data` (spec 1.2).

export type EnrollmentMode = 'verified' | 'audit' | 'honor';

export interface EdxAccount {
  /** The remote username (social_auth uid), not the MicroMasters one. */
  uid: string;
  email: string;
}

function courseMode(slug: 'audit' | 'verified') {
  return {
    currency: 'usd',
    description: null,
    expiration_datetime: null,
    min_price: slug === 'verified' ? 300 : 0,
    name: slug === 'verified' ? 'Verified Certificate' : 'Audit',
    sku: null,
    slug,
    suggested_prices: '',
  };
}

const courseDetailsByRun = new WeakMap<SeedRun, object>();

function courseDetails(run: SeedRun): object {
  let details = courseDetailsByRun.get(run);
  if (!details) {
    details = {
      course_end: edxIso(run.end),
      course_id: run.key,
      course_modes: [courseMode('audit'), courseMode('verified')],
      course_start: edxIso(run.start),
      enrollment_end: edxIso(addDays(run.start, 30)),
      enrollment_start: edxIso(run.enrollmentStart),
      invite_only: false,
    };
    courseDetailsByRun.set(run, details);
  }
  return details;
}

export function enrollmentData(run: SeedRun, account: EdxAccount, mode: EnrollmentMode, created: Date): object {
  return { course_details: courseDetails(run), created: edxIso(created), is_active: true, mode, user: account.uid };
}

export function currentGradeData(run: SeedRun, account: EdxAccount, percent: number, passed: boolean): object {
  return {
    course_id: run.key,
    email: account.email,
    passed,
    percent,
    // edX sends a letter only for graded-and-passing learners in these courses (see the samples).
    letter_grade: passed ? 'Pass' : null,
    username: account.uid,
  };
}

/**
 * Certificate payload: the sample keys plus created/modified/is_passing, which spec 1.4 lists and
 * the app reads (is_passing); only verified certificates are ever cached (spec 3.3).
 */
export function certificateData(run: SeedRun, account: EdxAccount, percent: number, passing: boolean, created: Date, rng: Rng): object {
  return {
    username: account.uid,
    course_id: run.key,
    certificate_type: 'verified',
    status: passing ? 'downloadable' : 'notpassing',
    download_url: passing ? `https://courses.edx.org/certificates/${rng.hex(32)}` : '',
    grade: percent.toFixed(2),
    created: edxIso(created),
    modified: edxIso(created),
    is_passing: passing,
  };
}

export type TokenState = 'valid' | 'expired' | 'revoked';

/** The prefix the edX simulator uses to recognise a refresh token it must reject (400 invalid_grant). */
export const REVOKED_TOKEN_PREFIX = 'revoked-';

/**
 * spec 1.2 / E13: a token is refreshed when now − updated_at ≥ expires_in − 5 min. Valid tokens were
 * refreshed within the last few hours of `now`, expired ones days ago; revoked ones are also stale,
 * so the next use tries a refresh and the simulator refuses it.
 * MITx Online rows carry no updated_at (only edxorg stores it, spec 1.2), so they refresh on every use.
 */
export function extraData(provider: Provider, state: TokenState, now: Date, rng: Rng): object {
  const ageSeconds = state === 'valid' ? rng.int(60, 4 * 3600) : rng.int(2 * 86_400, 60 * 86_400);
  const updatedAt = now.getTime() / 1000 - ageSeconds + rng.int(0, 999) / 1000;
  const data: Record<string, unknown> = {
    access_token: rng.token(30),
    refresh_token: state === 'revoked' ? `${REVOKED_TOKEN_PREFIX}${rng.token(22)}` : rng.token(30),
    expires_in: 36000,
    token_type: 'Bearer',
    scope: 'read write',
    auth_time: Math.floor(updatedAt),
  };
  if (provider === 'edxorg') data.updated_at = updatedAt;
  return data;
}
