import type { ProviderWorld, SimCertificate, SimEnrollment, SimGrade, SimUser } from './world.js';

// The JSON shapes of the real APIs (test/fixtures/edx-samples, spec 1.4), built per request.

function courseModes(mode: string) {
  const slug = mode || 'audit';
  return [
    {
      currency: 'usd',
      description: null,
      expiration_datetime: null,
      min_price: 0,
      name: slug.charAt(0).toUpperCase() + slug.slice(1),
      sku: null,
      slug,
      suggested_prices: '',
    },
  ];
}

export function enrollmentPayload(world: ProviderWorld, user: SimUser, courseKey: string, enrollment: SimEnrollment) {
  const course = world.courses.get(courseKey);
  return {
    course_details: {
      course_end: course?.courseEnd ?? null,
      course_id: courseKey,
      course_modes: courseModes(enrollment.mode),
      course_start: course?.courseStart ?? null,
      enrollment_end: course?.enrollmentEnd ?? null,
      enrollment_start: course?.enrollmentStart ?? null,
      invite_only: false,
    },
    created: enrollment.created,
    is_active: enrollment.isActive,
    mode: enrollment.mode,
    user: user.username,
  };
}

export function certificatePayload(user: SimUser, courseKey: string, certificate: SimCertificate) {
  return {
    username: user.username,
    course_id: courseKey,
    certificate_type: certificate.certificateType,
    status: certificate.status,
    download_url: certificate.downloadUrl,
    grade: certificate.grade,
    created: certificate.created,
    modified: certificate.modified,
    is_passing: certificate.isPassing,
  };
}

export function currentGradePayload(user: SimUser, courseKey: string, grade: SimGrade) {
  return {
    course_id: courseKey,
    email: user.email,
    passed: grade.passed,
    percent: grade.percent,
    letter_grade: grade.letterGrade,
    username: user.username,
  };
}

export const ZERO_GRADE: SimGrade = { percent: 0, passed: false, letterGrade: null };
