import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/app/config.js';
import { isStaleRunId, newTestRunId } from './helpers/redis-claims.js';
import { PRODUCTION_SERVICE_VARIABLES, assertLoopback } from './helpers/services.js';

// issue #12 §1: the suite never reaches an operator's services. .ci/run proves it for the whole
// suite with canaries behind DATABASE_URL / REDIS_URL; these pin the mechanisms it relies on.

describe('the test processes', () => {
  it('see none of the production service variables, so the app under test starts embedded', () => {
    for (const name of PRODUCTION_SERVICE_VARIABLES) expect(process.env[name], name).toBeUndefined();
    expect(loadConfig(process.env).mode).toBe('embedded');
  });

  it('accept only loopback test services', () => {
    expect(() => assertLoopback('postgres://postgres@127.0.0.1:5432/test', 'GRADEOPS_TEST_DATABASE_URL')).not.toThrow();
    expect(() => assertLoopback('redis://localhost:6379/0', 'GRADEOPS_TEST_REDIS_URL')).not.toThrow();
    expect(() => assertLoopback('redis://[::1]:6379/0', 'GRADEOPS_TEST_REDIS_URL')).not.toThrow();
    expect(() => assertLoopback('postgres://ops@db.prod.example.org:5432/micromasters', 'GRADEOPS_TEST_DATABASE_URL')).toThrow(
      /db\.prod\.example\.org, which is not this machine.*GRADEOPS_TEST_ALLOW_REMOTE=1/,
    );
  });

  it('name what they create after a run id that says when the run started', () => {
    const id = newTestRunId();
    expect(id).toMatch(/^r[0-9a-z]{8}[0-9a-f]{6}$/);
    expect(isStaleRunId(id, 60_000)).toBe(false);
    const sevenHoursAgo = `r${(Date.now() - 7 * 3600 * 1000).toString(36).padStart(8, '0')}abcdef`;
    expect(isStaleRunId(sevenHoursAgo, 6 * 3600 * 1000)).toBe(true);
    expect(isStaleRunId('someone_elses_db', 0)).toBe(false);
  });
});
