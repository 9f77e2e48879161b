// Which backing services the suite runs against. Tests read their OWN names only
// (GRADEOPS_TEST_DATABASE_URL, GRADEOPS_TEST_REDIS_URL): an operator's shell holds production in
// DATABASE_URL / REDIS_URL / REDISCLOUD_URL / CELERY_BROKER_URL, and the suite must never touch it
// (issue #12 §1). test/setup.ts and global-setup.ts remove those names from the test processes.

export const TEST_DATABASE_URL = process.env.GRADEOPS_TEST_DATABASE_URL || undefined;
export const TEST_REDIS_URL = process.env.GRADEOPS_TEST_REDIS_URL || undefined;
export const USE_REAL_SERVICES = Boolean(TEST_DATABASE_URL && TEST_REDIS_URL);
/** CI's flag: a test that needs a service fails instead of skipping when it is absent. */
export const REQUIRE_SERVICES = /^(1|true)$/i.test(process.env.GRADEOPS_REQUIRE_SERVICES ?? '');
/** CI's other flag: nothing may skip, so a missing tool (tmux) fails the test that needs it. */
export const NO_SKIP = REQUIRE_SERVICES || /^(1|true)$/i.test(process.env.GRADEOPS_TEST_NO_SKIP ?? '');
const ALLOW_REMOTE = /^(1|true)$/i.test(process.env.GRADEOPS_TEST_ALLOW_REMOTE ?? '');

/** The names an operator's production settings live under; no test process may see them. */
export const PRODUCTION_SERVICE_VARIABLES = ['DATABASE_URL', 'REDIS_URL', 'REDISCLOUD_URL', 'CELERY_BROKER_URL'] as const;

export function forgetProductionServices(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of PRODUCTION_SERVICE_VARIABLES) delete env[name];
}

/**
 * Everything this run creates carries this id (database names, Redis claims), so the run removes
 * exactly what it made and two runs on one server never meet. Set once by global-setup.ts; the
 * workers inherit it.
 */
export function testRunId(): string {
  const id = process.env.GRADEOPS_TEST_RUN_ID;
  if (!id) throw new Error('GRADEOPS_TEST_RUN_ID is not set: run the tests through vitest (test/global-setup.ts sets it)');
  return id;
}

/** Database names of this run start with this; nothing else is ever dropped. */
export const runDatabasePrefix = (runId = testRunId()) => `gradeops_test_${runId}_`;
export const templateDatabase = (runId = testRunId()) => `${runDatabasePrefix(runId)}template`;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]', '']);

/** Refuses a test service that is not on this machine, unless GRADEOPS_TEST_ALLOW_REMOTE=1. */
export function assertLoopback(url: string, variable: string): void {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host) && !host.startsWith('/') && !ALLOW_REMOTE) {
    throw new Error(
      `${variable} points at ${host}, which is not this machine: tests create and drop databases and clear Redis databases there. ` +
        'Use a loopback service, or set GRADEOPS_TEST_ALLOW_REMOTE=1 if that server is only for tests',
    );
  }
}

/** The same PostgreSQL server as GRADEOPS_TEST_DATABASE_URL, another database name. */
export function databaseUrlFor(name: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}
