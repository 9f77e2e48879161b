// spec 1.12 and 5b: the reference's keys keep their exact names so a MicroMasters deployment and
// gradeops see the same failed users; gradeops' own keys live under the gradeops: prefix.

/** Redis LIST of decimal user ids, LPUSHed by the reference (and by us). */
export const failedUsersKey = (courseKey: string) => `failed_users_${courseKey}`;

/** django-redis' physical key of the pickled Celery group id; read for existence only, never decoded. */
export const micromastersGroupKey = (courseKey: string) => `:1:freeze_grade_${courseKey}`;

export const freezeLockKey = (courseKey: string) => `gradeops:freeze:lock:${courseKey}`;
export const freezeProgressKey = (courseKey: string) => `gradeops:freeze:progress:${courseKey}`;

/** Every gradeops key of one run, for cleanup after completion or revert. */
export const gradeopsKeysOf = (courseKey: string) => [freezeProgressKey(courseKey)];
