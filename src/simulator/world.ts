import { randomBytes } from 'node:crypto';
import type { Provider } from '../domain/edx/edx-settings.js';

// What one simulated edX / MITx Online knows: learners by remote username with their tokens,
// and enrollments, certificates and current grades by (username, course key). Records are kept
// compact (no repeated keys or usernames) so a 100k-learner world fits in memory; the payloads
// are built per request (payloads.ts).

export interface CourseDetails {
  courseStart: string | null;
  courseEnd: string | null;
  enrollmentStart: string | null;
  enrollmentEnd: string | null;
}

export interface SimEnrollment {
  mode: string;
  isActive: boolean;
  created: string;
}

export interface SimCertificate {
  certificateType: string;
  status: string;
  grade: string;
  downloadUrl: string;
  created: string;
  modified: string;
  isPassing: boolean;
}

export interface SimGrade {
  /** As edX sends it: usually a 0–1 number, but the world may hold odd values (spec E12). */
  percent: unknown;
  passed: unknown;
  letterGrade: string | null;
}

export interface SimUser {
  username: string;
  email: string;
  refreshToken: string | null;
  /** The learner revoked the grant: 401 on refresh and on every API call. */
  revoked: boolean;
  /** Newest last; older ones are forgotten past MAX_TOKENS_PER_USER. */
  accessTokens: string[];
}

export interface NewUser {
  username: string;
  email?: string;
  accessToken?: string;
  /** Epoch ms; 0 (the default) means the token is already expired but the grant is refreshable. */
  accessTokenExpiresAtMs?: number;
  refreshToken?: string | null;
  revoked?: boolean;
}

/** Seconds of validity of a refreshed token, as edX issues them. */
export const ISSUED_EXPIRES_IN = 36_000;

// Old tokens stay valid until they expire, so a request already in flight while the same learner's
// token is refreshed (MITx Online refreshes on every use, spec E13) is not refused; a few suffice.
const MAX_TOKENS_PER_USER = 4;

export function newOpaqueToken(): string {
  return randomBytes(20).toString('hex');
}

export class ProviderWorld {
  readonly provider: Provider;
  readonly courses = new Map<string, CourseDetails>();
  readonly users = new Map<string, SimUser>();
  readonly enrollments = new Map<string, Map<string, SimEnrollment>>();
  readonly certificates = new Map<string, Map<string, SimCertificate>>();
  readonly grades = new Map<string, Map<string, SimGrade>>();
  /**
   * What the grades API answers for an enrolled learner with no grade record: edX computes a
   * grade on the fly (0 %, not passed); 'not-found' answers 404 instead.
   */
  ungradedEnrolled: 'zero-grade' | 'not-found' = 'zero-grade';
  readonly #accessTokens = new Map<string, { username: string; expiresAtMs: number }>();
  readonly #refreshTokens = new Map<string, string>();

  constructor(provider: Provider) {
    this.provider = provider;
  }

  addCourse(courseKey: string, details: Partial<CourseDetails> = {}): void {
    this.courses.set(courseKey, {
      courseStart: details.courseStart ?? null,
      courseEnd: details.courseEnd ?? null,
      enrollmentStart: details.enrollmentStart ?? null,
      enrollmentEnd: details.enrollmentEnd ?? null,
    });
  }

  addUser(user: NewUser): SimUser {
    const existing = this.users.get(user.username);
    if (existing?.refreshToken) this.#refreshTokens.delete(existing.refreshToken);
    const record: SimUser = {
      username: user.username,
      email: user.email ?? `${user.username}@example.com`,
      refreshToken: user.refreshToken ?? null,
      revoked: user.revoked ?? false,
      accessTokens: existing?.accessTokens ?? [],
    };
    this.users.set(user.username, record);
    if (record.refreshToken) this.#refreshTokens.set(record.refreshToken, user.username);
    if (user.accessToken) this.grantAccessToken(user.username, user.accessToken, user.accessTokenExpiresAtMs ?? 0);
    return record;
  }

  grantAccessToken(username: string, token: string, expiresAtMs: number): void {
    const user = this.users.get(username);
    if (!user) throw new Error(`simulator: no user ${username}`);
    this.#accessTokens.set(token, { username, expiresAtMs });
    user.accessTokens.push(token);
    while (user.accessTokens.length > MAX_TOKENS_PER_USER) this.#accessTokens.delete(user.accessTokens.shift()!);
  }

  /** A new random access token for the user (the refresh grant). */
  issueAccessToken(username: string, nowMs: number, expiresIn = ISSUED_EXPIRES_IN): string {
    const token = newOpaqueToken();
    this.grantAccessToken(username, token, nowMs + expiresIn * 1000);
    return token;
  }

  /** The owner of a valid, unexpired access token (revocation is the server's concern). */
  ownerOfAccessToken(token: string, nowMs: number): SimUser | null {
    const grant = this.#accessTokens.get(token);
    if (!grant || grant.expiresAtMs <= nowMs) return null;
    return this.users.get(grant.username) ?? null;
  }

  ownerOfRefreshToken(token: string): SimUser | null {
    const username = this.#refreshTokens.get(token);
    return username === undefined ? null : (this.users.get(username) ?? null);
  }

  revoke(username: string, revoked = true): void {
    const user = this.users.get(username);
    if (user) user.revoked = revoked;
  }

  enroll(username: string, courseKey: string, enrollment: Partial<SimEnrollment> = {}): void {
    inner(this.enrollments, username).set(courseKey, {
      mode: enrollment.mode ?? 'verified',
      isActive: enrollment.isActive ?? true,
      created: enrollment.created ?? '2020-01-01T00:00:00Z',
    });
  }

  unenroll(username: string, courseKey: string): void {
    this.enrollments.get(username)?.delete(courseKey);
  }

  setCertificate(username: string, courseKey: string, certificate: Partial<SimCertificate> | null): void {
    if (certificate === null) {
      this.certificates.get(username)?.delete(courseKey);
      return;
    }
    const at = certificate.created ?? '2020-06-01T00:00:00Z';
    inner(this.certificates, username).set(courseKey, {
      certificateType: certificate.certificateType ?? 'verified',
      status: certificate.status ?? 'downloadable',
      grade: certificate.grade ?? '0.9',
      downloadUrl: certificate.downloadUrl ?? '',
      created: at,
      modified: certificate.modified ?? at,
      isPassing: certificate.isPassing ?? true,
    });
  }

  setGrade(username: string, courseKey: string, grade: Partial<SimGrade> | null): void {
    if (grade === null) {
      this.grades.get(username)?.delete(courseKey);
      return;
    }
    inner(this.grades, username).set(courseKey, {
      percent: 'percent' in grade ? grade.percent : 0,
      passed: 'passed' in grade ? grade.passed : false,
      letterGrade: grade.letterGrade ?? null,
    });
  }
}

function inner<T>(outer: Map<string, Map<string, T>>, username: string): Map<string, T> {
  let map = outer.get(username);
  if (!map) {
    map = new Map();
    outer.set(username, map);
  }
  return map;
}

export type World = Record<Provider, ProviderWorld>;

export function createWorld(): World {
  return { edxorg: new ProviderWorld('edxorg'), mitxonline: new ProviderWorld('mitxonline') };
}
