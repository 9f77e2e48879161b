import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EdxClient } from '../../src/domain/edx/edx-client.js';
import { edxCallCounters, resetEdxCallCounters } from '../../src/domain/edx/edx-http.js';
import { OpsError } from '../../src/domain/errors.js';
import { createWorld, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

// spec 3.1–3.4 and 3.6, seen from the wire: exact paths, the bearer header, and what each kind of
// failure turns into.

const KEY = 'course-v1:MITx+X+1T2020';
const TOKEN = 'bob-access-token-0123456789';
let sim: RunningSimulator;
const settings = { timeoutMs: 2_000, retries: 0 };
const client = (overrides: Partial<typeof settings> & { ratePerSecond?: number } = {}, baseUrl = sim.baseUrl, accessToken = TOKEN) =>
  new EdxClient({ provider: 'edxorg', baseUrl, accessToken, settings: { ...settings, ...overrides } });

async function opsError(promise: Promise<unknown>): Promise<OpsError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(OpsError);
  return error as OpsError;
}

beforeAll(async () => {
  const world = createWorld();
  const w = world.edxorg;
  w.addCourse(KEY);
  w.addUser({ username: 'bob', accessToken: TOKEN, accessTokenExpiresAtMs: Date.now() + 3_600_000, refreshToken: 'bob-refresh' });
  w.enroll('bob', KEY);
  w.setCertificate('bob', KEY, { certificateType: 'verified' });
  w.setGrade('bob', KEY, { percent: 0.72, passed: true });
  sim = await startSimulator({ world, provider: 'edxorg' });
});
afterAll(() => sim.close());
beforeEach(() => {
  sim.stats.reset();
  sim.knobs.faults.clear();
  sim.knobs.latencyMs = 0;
});

describe('EdxClient requests', () => {
  it('builds the absolute paths with the course key unencoded and sends the bearer token', async () => {
    // spec 3.1: any path of the base URL is discarded.
    const c = client({}, `${sim.baseUrl}some/prefix/`);
    expect(await c.getCertificate('bob', KEY)).toMatchObject({ course_id: KEY, certificate_type: 'verified' });
    expect(await c.getCurrentGrade('bob', KEY)).toMatchObject({ course_id: KEY, percent: 0.72 });
    expect((await c.getEnrollments()).map((e) => (e.course_details as { course_id: string }).course_id)).toEqual([KEY]);
    expect(sim.stats.recent.map((r) => [r.method, r.url, r.bearer])).toEqual([
      ['GET', '/api/certificates/v0/certificates/bob/courses/course-v1:MITx+X+1T2020/', TOKEN],
      ['GET', '/api/grades/v1/courses/course-v1:MITx+X+1T2020/?username=bob', TOKEN],
      ['GET', '/api/enrollment/v1/enrollment', TOKEN],
    ]);
    expect(c.calls.requests).toBe(3);
  });

  it('skips a course key edX answers 4xx for', async () => {
    expect(await client().getCertificate('bob', 'course-v1:MITx+Nope+1T2020')).toBeNull();
    expect(await client().getCurrentGrade('bob', 'course-v1:MITx+Nope+1T2020')).toBeNull();
  });

  it('treats a 401 (the token itself refused) as invalid-credentials, not as a skipped key (spec 5b: a 401 on a grade or certificate call)', async () => {
    expect((await opsError(client({}, sim.baseUrl, 'not-a-token').getCurrentGrade('bob', KEY))).code).toBe('invalid-credentials');
    expect((await opsError(client({}, sim.baseUrl, 'not-a-token').getCertificate('bob', KEY))).code).toBe('invalid-credentials');
  });

  it('turns a 5xx into edx-error naming the status and path but not the token', async () => {
    sim.knobs.faults.set('bob', 500);
    const error = await opsError(client().getCurrentGrade('bob', KEY));
    expect(error.code).toBe('edx-error');
    expect(error.message).toContain('500');
    expect(error.message).toContain(`/api/grades/v1/courses/${KEY}/?username=bob`);
    expect(JSON.stringify({ m: error.message, h: error.hint })).not.toContain(TOKEN);
  });

  it('repeats a failing call at most `retries` times', async () => {
    sim.knobs.faults.set('bob', 500);
    resetEdxCallCounters();
    await opsError(client({ retries: 2 }).getCertificate('bob', KEY));
    expect(sim.stats.byEndpoint.certificate).toBe(3);
    expect(edxCallCounters()).toMatchObject({ requests: 3, retries: 2 });
    sim.knobs.faults.clear();
    sim.stats.reset();
    await client({ retries: 2 }).getCertificate('bob', KEY);
    expect(sim.stats.byEndpoint.certificate).toBe(1);
  });

  it('gives up with edx-timeout after timeoutMs', async () => {
    sim.knobs.faults.set('bob', 'timeout');
    const error = await opsError(client({ timeoutMs: 150, retries: 1 }).getCurrentGrade('bob', KEY));
    expect(error.code).toBe('edx-timeout');
    expect(error.message).toContain('150 ms');
    expect(sim.stats.byEndpoint['current-grade']).toBe(2);
  });

  it('reports a refused connection as edx-unreachable naming the setting to check', async () => {
    const world = createWorld();
    const dead = await startSimulator({ world, provider: 'edxorg' });
    await dead.close();
    const error = await opsError(client({}, dead.baseUrl).getCertificate('bob', KEY));
    expect(error.code).toBe('edx-unreachable');
    expect(error.hint).toContain('EDXORG_CALLBACK_URL');
  });

  it('turns a refused token on the enrollment list into invalid-credentials (spec 2.3)', async () => {
    const error = await opsError(client({}, sim.baseUrl, 'stale-token-abcdef').getEnrollments());
    expect(error.code).toBe('invalid-credentials');
    expect(error.message).not.toContain('stale-token-abcdef');
  });

  it('refuses to build a client without an access token (spec 3.1)', () => {
    expect(() => client({}, sim.baseUrl, '')).toThrow(OpsError);
  });

  it('holds every call to ratePerSecond when a rate is set', async () => {
    const c = client({ ratePerSecond: 3 });
    const started = Date.now();
    await Promise.all(Array.from({ length: 5 }, () => c.getCurrentGrade('bob', KEY)));
    // 3 in the first second, the other 2 in the next one.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});

describe('EdxClient on odd answers', () => {
  let server: http.Server;
  let base = '';
  let answer = '[]';
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(answer);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  it('turns an empty grade list into invalid-edx-data (spec 3.4, 5b)', async () => {
    answer = '[]';
    expect((await opsError(client({}, base).getCurrentGrade('bob', KEY))).code).toBe('invalid-edx-data');
  });

  it('turns a body that is not JSON into invalid-edx-data', async () => {
    answer = '<html>maintenance</html>';
    expect((await opsError(client({}, base).getCertificate('bob', KEY))).code).toBe('invalid-edx-data');
  });
});
