/** Which backing services the suite runs against; set by CI (DATABASE_URL, REDIS_URL). */
export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;
export const USE_REAL_SERVICES = Boolean(DATABASE_URL && REDIS_URL);
/** CI's flag: a test that needs a service fails instead of skipping when it is absent. */
export const REQUIRE_SERVICES = /^(1|true)$/i.test(process.env.GRADEOPS_REQUIRE_SERVICES ?? '');

export const TEMPLATE_DB = 'gradeops_test_template';

/** The same server as DATABASE_URL, another database name. */
export function databaseUrlFor(name: string): string {
  const url = new URL(DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}
