import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWorld, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

// The simulator must answer with the shapes of the real APIs, or the client is tested against
// something edX never sends.

const sample = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/edx-samples/${name}.json`, import.meta.url), 'utf8')) as Array<Record<string, unknown>>;

const typeOf = (value: unknown) => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/** For each key (nested keys as a.b), the set of value types seen across the sample objects. */
function shape(objects: unknown[], prefix = ''): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const object of objects) {
    for (const [key, value] of Object.entries(object as Record<string, unknown>)) {
      const path = `${prefix}${key}`;
      if (!out.has(path)) out.set(path, new Set());
      out.get(path)!.add(typeOf(value));
      const nested =
        typeOf(value) === 'object' ? [value] : typeOf(value) === 'array' ? (value as unknown[]).filter((v) => typeOf(v) === 'object') : [];
      for (const [p, types] of shape(nested, `${path}.`)) {
        if (!out.has(p)) out.set(p, new Set());
        for (const t of types) out.get(p)!.add(t);
      }
    }
  }
  return out;
}

function expectSameShape(actual: unknown[], expected: unknown[], extraKeys: string[] = []) {
  const want = shape(expected);
  const got = shape(actual);
  expect([...got.keys()].sort()).toEqual([...new Set([...want.keys(), ...extraKeys])].sort());
  for (const [key, types] of got) {
    if (!want.has(key)) continue;
    for (const t of types) expect([...want.get(key)!], `type of ${key}`).toContain(t);
  }
}

let sim: RunningSimulator;
const token = 'access-token-for-staff';
const keys = ['course-v1:edX+DemoX+Demo_Course', 'course-v1:MITx+8.MechCX+2014_T1'];

beforeAll(async () => {
  const world = createWorld();
  const w = world.edxorg;
  for (const key of keys)
    w.addCourse(key, {
      courseStart: '2013-02-05T05:00:00Z',
      courseEnd: '2015-05-10T23:59:00Z',
      enrollmentStart: null,
      enrollmentEnd: '2015-05-10T23:58:00Z',
    });
  w.addUser({
    username: 'staff',
    email: 'staff@example.com',
    accessToken: token,
    accessTokenExpiresAtMs: Date.now() + 3_600_000,
    refreshToken: 'r-staff',
  });
  w.enroll('staff', keys[0], { mode: 'verified' });
  w.enroll('staff', keys[1], { mode: 'audit' });
  w.setCertificate('staff', keys[0], {
    certificateType: 'verified',
    status: 'downloadable',
    grade: '0.98',
    downloadUrl: 'http://www.example.com/demo.pdf',
  });
  w.setCertificate('staff', keys[1], { certificateType: 'honor', status: 'downloadable', grade: '0.88' });
  w.setGrade('staff', keys[0], { percent: 0.77, passed: true, letterGrade: 'Pass' });
  w.setGrade('staff', keys[1], { percent: 0.03, passed: false, letterGrade: null });
  sim = await startSimulator({ world, provider: 'edxorg' });
});
afterAll(() => sim.close());

const get = async (path: string) => {
  const res = await fetch(new URL(path, sim.baseUrl), { headers: { Authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return res.json();
};

describe('simulated edX payloads', () => {
  it('enrollments have the keys and value types of the real enrollment API', async () => {
    const body = await get('/api/enrollment/v1/enrollment');
    expect(body).toHaveLength(2);
    expectSameShape(body, sample('user_enrollments'));
  });

  it('certificates have the sample keys plus created / modified / is_passing (spec 1.4)', async () => {
    const body = await Promise.all(keys.map((key) => get(`/api/certificates/v0/certificates/staff/courses/${key}/`)));
    expectSameShape(body, sample('certificates'), ['created', 'modified', 'is_passing']);
    expect(body.map((c) => c.certificate_type)).toEqual(['verified', 'honor']);
  });

  it('current grades are one-element arrays with the keys and types of the grades API', async () => {
    const body = await Promise.all(keys.map((key) => get(`/api/grades/v1/courses/${key}/?username=staff`)));
    for (const list of body) expect(list).toHaveLength(1);
    expectSameShape(
      body.map((list) => list[0]),
      sample('current_grades'),
    );
    expect(body[0][0]).toMatchObject({ course_id: keys[0], username: 'staff', email: 'staff@example.com', percent: 0.77, passed: true });
  });
});
