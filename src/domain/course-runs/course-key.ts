import { OpsError } from '../errors.js';

// edX course keys: the current form `course-v1:ORG+COURSE+RUN` and the legacy `ORG/COURSE/RUN`.
const CURRENT = /^course-v1:[A-Za-z0-9_.~-]+\+[A-Za-z0-9_.~-]+\+[A-Za-z0-9_.~-]+$/;
const LEGACY = /^[A-Za-z0-9_.~-]+\/[A-Za-z0-9_.~-]+\/[A-Za-z0-9_.~-]+$/;

export function isWellFormedCourseKey(key: string): boolean {
  return CURRENT.test(key) || LEGACY.test(key);
}

export function assertWellFormedCourseKey(key: string): void {
  if (!isWellFormedCourseKey(key)) {
    throw new OpsError(
      'malformed-course-key',
      `"${key}" is not an edX course key`,
      'write it as course-v1:ORG+COURSE+RUN (e.g. course-v1:MITx+14.100x+3T2025); `gradeops runs` lists them',
    );
  }
}
