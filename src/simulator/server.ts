import http from 'node:http';
import type { SimulatorKnobs } from './knobs.js';
import { certificatePayload, currentGradePayload, enrollmentPayload, ZERO_GRADE } from './payloads.js';
import type { SimEndpoint, SimulatorStats } from './stats.js';
import { ISSUED_EXPIRES_IN, type ProviderWorld, type SimUser } from './world.js';

// The HTTP face of one simulated backend: the four endpoints of spec 3.2–3.5 at their absolute
// paths, with the fault knobs applied in the order a real outage would show them: latency, then
// server-wide failures, then the caller's credentials, then per-learner faults.

interface Route {
  endpoint: SimEndpoint;
  method: 'GET' | 'POST';
  params: string[];
}

const CERTIFICATE_PATH = /^\/api\/certificates\/v0\/certificates\/([^/]+)\/courses\/([^/]+)\/$/;
const GRADE_PATH = /^\/api\/grades\/v1\/courses\/([^/]+)\/$/;

// Paths are matched raw, never %-decoded: a client that encodes `+` or `:` in a course key
// (spec 3.1 says they go raw) gets a 404, as it would find no course.
function route(pathname: string): Route {
  if (pathname === '/api/enrollment/v1/enrollment') return { endpoint: 'enrollments', method: 'GET', params: [] };
  if (pathname === '/oauth2/access_token/') return { endpoint: 'token-refresh', method: 'POST', params: [] };
  const certificate = CERTIFICATE_PATH.exec(pathname);
  if (certificate) return { endpoint: 'certificate', method: 'GET', params: [certificate[1], certificate[2]] };
  const grade = GRADE_PATH.exec(pathname);
  if (grade) return { endpoint: 'current-grade', method: 'GET', params: [grade[1]] };
  return { endpoint: 'other', method: 'GET', params: [] };
}

export interface SimulatorServerParts {
  world: ProviderWorld;
  knobs: SimulatorKnobs;
  stats: SimulatorStats;
  random: () => number;
}

export interface SimulatorServer {
  server: http.Server;
  close: () => Promise<void>;
}

const MAX_BODY_BYTES = 64 * 1024;

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function createSimulatorServer(parts: SimulatorServerParts): SimulatorServer {
  const { world, knobs, stats } = parts;
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  const send = (res: http.ServerResponse, status: number, body: unknown) => {
    stats.answered(status);
    if (res.destroyed || res.headersSent) return;
    const text = JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  };
  // The client's own timeout ends the exchange; close() destroys whatever is still open.
  const hang = () => stats.answered('timeout');

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /** A forced fault for this learner, if any: returns true when the request was dealt with. */
  const faulted = (res: http.ServerResponse, user: SimUser): boolean => {
    if (user.revoked || knobs.unauthorizedUsers.has(user.username)) {
      send(res, 401, { detail: 'Authentication credentials were revoked.' });
      return true;
    }
    const fault = knobs.faults.get(user.username);
    if (fault === undefined) return false;
    if (fault === 'timeout') hang();
    else send(res, fault, { detail: fault === 401 ? 'Invalid token.' : 'Internal Server Error' });
    return true;
  };

  const refreshToken = (res: http.ServerResponse, body: string) => {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'refresh_token') return send(res, 400, { error: 'unsupported_grant_type' });
    const token = form.get('refresh_token');
    if (!token) return send(res, 400, { error: 'invalid_request' });
    const user = world.ownerOfRefreshToken(token);
    if (!user) return send(res, 400, { error: 'invalid_grant' });
    if (faulted(res, user)) return;
    // The refresh token is kept, not rotated, so concurrent refreshes of one learner never race.
    send(res, 200, {
      access_token: world.issueAccessToken(user.username, Date.now()),
      token_type: 'Bearer',
      expires_in: ISSUED_EXPIRES_IN,
      refresh_token: token,
      scope: 'read write',
    });
  };

  const api = (res: http.ServerResponse, found: Route, query: URLSearchParams, user: SimUser) => {
    if (found.endpoint === 'enrollments') {
      const list = [...(world.enrollments.get(user.username) ?? [])].map(([key, e]) => enrollmentPayload(world, user, key, e));
      return send(res, 200, list);
    }
    if (found.endpoint === 'certificate') {
      const [username, courseKey] = found.params;
      if (username !== user.username) return send(res, 403, { detail: 'You do not have permission to perform this action.' });
      const certificate = world.certificates.get(username)?.get(courseKey);
      if (!certificate) return send(res, 404, { error_code: 'no_certificate_for_user' });
      return send(res, 200, certificatePayload(user, courseKey, certificate));
    }
    const [courseKey] = found.params;
    const username = query.get('username') ?? user.username;
    if (username !== user.username) return send(res, 403, { detail: 'You do not have permission to perform this action.' });
    if (!world.enrollments.get(username)?.has(courseKey)) return send(res, 404, { error_code: 'user_not_enrolled' });
    const grade = world.grades.get(username)?.get(courseKey) ?? (world.ungradedEnrolled === 'zero-grade' ? ZERO_GRADE : null);
    if (!grade) return send(res, 404, { error_code: 'grade_not_found' });
    return send(res, 200, [currentGradePayload(user, courseKey, grade)]);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    const found = route(pathname);
    const authorization = req.headers.authorization ?? '';
    const bearer = /^Bearer (.+)$/.exec(authorization)?.[1] ?? null;
    stats.record({ method: req.method ?? 'GET', url: target, bearer, endpoint: found.endpoint });
    const body = req.method === 'POST' ? await readBody(req) : '';
    if (knobs.latencyMs > 0) await delay(knobs.latencyMs);
    if (closed || res.destroyed) return;
    if (found.endpoint === 'other') return send(res, 404, { detail: 'Not found.' });
    if (req.method !== found.method) return send(res, 405, { detail: `Method "${req.method}" not allowed.` });
    const roll = parts.random();
    if (roll < knobs.errorRate) return send(res, 500, { detail: 'Internal Server Error' });
    if (roll < knobs.errorRate + knobs.timeoutRate) return hang();
    if (found.endpoint === 'token-refresh') return refreshToken(res, body);
    const user = bearer ? world.ownerOfAccessToken(bearer, Date.now()) : null;
    if (!user) return send(res, 401, { detail: 'Invalid token.' });
    if (faulted(res, user)) return;
    api(res, found, query, user);
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => send(res, 500, { detail: 'simulator error' }));
  });

  return {
    server,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close(() => resolve());
        // Keep-alive sockets and deliberately unanswered requests would otherwise hold the process.
        server.closeAllConnections();
      }),
  };
}
