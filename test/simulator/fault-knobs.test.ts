import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWorld, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

// The knobs are what a demo or a benchmark turns to make edX misbehave; each must be visible
// from the outside exactly as described.

const KEY = 'course-v1:MITx+X+1T2020';
let sim: RunningSimulator;

beforeAll(async () => {
  const world = createWorld();
  const w = world.edxorg;
  w.addCourse(KEY);
  for (const name of ['alice', 'bob', 'carol']) {
    w.addUser({
      username: name,
      accessToken: `token-${name}`,
      accessTokenExpiresAtMs: Date.now() + 3_600_000,
      refreshToken: `refresh-${name}`,
    });
    w.enroll(name, KEY);
    w.setGrade(name, KEY, { percent: 0.8, passed: true });
  }
  w.addUser({ username: 'expired', accessToken: 'token-expired', accessTokenExpiresAtMs: 0, refreshToken: 'refresh-expired' });
  w.addUser({
    username: 'gone',
    accessToken: 'token-gone',
    accessTokenExpiresAtMs: Date.now() + 3_600_000,
    refreshToken: 'revoked-gone',
    revoked: true,
  });
  sim = await startSimulator({ world, provider: 'edxorg' });
});
afterAll(() => sim.close());
beforeEach(() => {
  Object.assign(sim.knobs, { latencyMs: 0, errorRate: 0, timeoutRate: 0 });
  sim.knobs.unauthorizedUsers.clear();
  sim.knobs.faults.clear();
  sim.stats.reset();
});

const grade = (user: string) =>
  fetch(new URL(`/api/grades/v1/courses/${KEY}/?username=${user}`, sim.baseUrl), { headers: { Authorization: `Bearer token-${user}` } });
const enrollments = (user: string) =>
  fetch(new URL('/api/enrollment/v1/enrollment', sim.baseUrl), { headers: { Authorization: `Bearer token-${user}` } });
const refresh = (refreshToken: string) =>
  fetch(new URL('/oauth2/access_token/', sim.baseUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'id', client_secret: 's' }).toString(),
  });

describe('simulator answers', () => {
  it('refuses unknown and expired tokens with 401 and answers 404 for a missing certificate or an unenrolled course', async () => {
    const unknown = await fetch(new URL('/api/enrollment/v1/enrollment', sim.baseUrl), { headers: { Authorization: 'Bearer nope' } });
    expect(unknown.status).toBe(401);
    expect((await enrollments('expired')).status).toBe(401);
    const noCertificate = await fetch(new URL(`/api/certificates/v0/certificates/alice/courses/${KEY}/`, sim.baseUrl), {
      headers: { Authorization: 'Bearer token-alice' },
    });
    expect(noCertificate.status).toBe(404);
    const unenrolled = await fetch(new URL('/api/grades/v1/courses/course-v1:MITx+Y+1T2020/?username=alice', sim.baseUrl), {
      headers: { Authorization: 'Bearer token-alice' },
    });
    expect(unenrolled.status).toBe(404);
  });

  it('issues a new opaque token on refresh that the API then accepts, and refuses a revoked grant with 401', async () => {
    const res = await refresh('refresh-expired');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 36000, refresh_token: 'refresh-expired' });
    expect(body.access_token).toMatch(/^[0-9a-f]{40}$/);
    const ok = await fetch(new URL('/api/enrollment/v1/enrollment', sim.baseUrl), {
      headers: { Authorization: `Bearer ${body.access_token}` },
    });
    expect(ok.status).toBe(200);
    expect((await refresh('revoked-gone')).status).toBe(401);
    expect((await enrollments('gone')).status).toBe(401);
    expect((await refresh('never-issued')).status).toBe(400);
  });
});

describe('fault knobs', () => {
  it('errorRate 1 answers every call with 500, token refresh included', async () => {
    sim.knobs.errorRate = 1;
    const statuses = await Promise.all(
      [grade('alice'), enrollments('bob'), refresh('refresh-carol'), grade('carol')].map(async (p) => (await p).status),
    );
    expect(statuses).toEqual([500, 500, 500, 500]);
    expect(sim.stats.byStatus['500']).toBe(4);
  });

  it('unauthorizedUsers get 401 on everything while others are served', async () => {
    sim.knobs.unauthorizedUsers.add('bob');
    expect((await grade('bob')).status).toBe(401);
    expect((await enrollments('bob')).status).toBe(401);
    expect((await refresh('refresh-bob')).status).toBe(401);
    expect((await grade('alice')).status).toBe(200);
  });

  it('latencyMs delays every answer', async () => {
    sim.knobs.latencyMs = 150;
    const started = Date.now();
    await Promise.all([grade('alice'), refresh('refresh-alice')]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('per-user faults: 500, 401 and a request that is never answered', async () => {
    sim.knobs.faults.set('alice', 500).set('bob', 401).set('carol', 'timeout');
    expect((await grade('alice')).status).toBe(500);
    expect((await grade('bob')).status).toBe(401);
    await expect(
      fetch(new URL(`/api/grades/v1/courses/${KEY}/?username=carol`, sim.baseUrl), {
        headers: { Authorization: 'Bearer token-carol' },
        signal: AbortSignal.timeout(200),
      }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(sim.stats.byStatus.timeout).toBe(1);
  });

  it('a seeded errorRate replays the same pattern', async () => {
    sim.knobs.errorRate = 0.5;
    const pattern = async () => {
      const out: number[] = [];
      for (let i = 0; i < 12; i += 1) out.push((await grade('alice')).status);
      return out;
    };
    sim.reseed(42);
    const first = await pattern();
    sim.reseed(42);
    expect(await pattern()).toEqual(first);
    expect(first).toContain(500);
    expect(first).toContain(200);
  });

  it('counts requests by endpoint', async () => {
    await grade('alice');
    await enrollments('alice');
    await refresh('refresh-alice');
    expect(sim.stats.byEndpoint).toMatchObject({ 'current-grade': 1, enrollments: 1, 'token-refresh': 1, certificate: 0 });
    expect(sim.stats.requests).toBe(3);
  });
});

describe('closing', () => {
  it('closes promptly with a request still hanging and keep-alive sockets open', async () => {
    const world = createWorld();
    world.mitxonline.addUser({ username: 'zed', accessToken: 'tz', accessTokenExpiresAtMs: Date.now() + 60_000 });
    const other = await startSimulator({ world, provider: 'mitxonline', knobs: { timeoutRate: 1 } });
    const pending = fetch(new URL('/api/enrollment/v1/enrollment', other.baseUrl), { headers: { Authorization: 'Bearer tz' } }).catch(
      (e: Error) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    // A close that waited for the hanging request would never resolve (the test would time out).
    await other.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});
