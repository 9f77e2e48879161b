import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpsError } from '../../src/domain/errors.js';
import { mergeTokenResponse, refreshAccessToken, tokenNeedsRefresh } from '../../src/domain/edx/token-refresh.js';
import { createWorld, startSimulator, type RunningSimulator } from '../../src/simulator/index.js';

// spec 2.3 step 2 and 3.5 (scenario T25): when a token is refreshed and what the refresh sends.

const NOW = Date.UTC(2026, 5, 1, 12, 0, 0);
const SECRET = 'client-secret-do-not-print';
const client = { id: 'gradeops-client', secret: SECRET };
const settings = { timeoutMs: 2_000, retries: 0 };

describe('tokenNeedsRefresh', () => {
  it('follows T25: a week old with expires_in 100 → refresh; a minute old with 31535999 → keep; no timestamps → refresh', () => {
    expect(tokenNeedsRefresh({ updated_at: (NOW - 7 * 86_400_000) / 1000, expires_in: 100 }, NOW)).toBe(true);
    expect(tokenNeedsRefresh({ updated_at: (NOW - 60_000) / 1000, expires_in: 31_535_999 }, NOW)).toBe(false);
    expect(tokenNeedsRefresh({ access_token: 'x' }, NOW)).toBe(true);
  });

  it('refreshes five minutes before expiry and when a value is not a number', () => {
    const hourAgo = (NOW - 3_600_000) / 1000;
    expect(tokenNeedsRefresh({ updated_at: hourAgo, expires_in: 3_600 + 301 }, NOW)).toBe(false);
    expect(tokenNeedsRefresh({ updated_at: hourAgo, expires_in: 3_600 + 300 }, NOW)).toBe(true);
    expect(tokenNeedsRefresh({ updated_at: String(hourAgo), expires_in: 99_999 }, NOW)).toBe(true);
    // MITx Online rows never carry updated_at (spec 1.2, E13).
    expect(tokenNeedsRefresh({ auth_time: NOW / 1000, expires_in: 36_000 }, NOW)).toBe(true);
  });
});

describe('mergeTokenResponse', () => {
  it('keeps the old refresh token and token type when the answer leaves them empty; stamps updated_at for edX only', () => {
    const old = { access_token: 'a', refresh_token: 'r', token_type: 'Bearer', expires_in: 10, custom: 1 };
    const edx = mergeTokenResponse(
      'edxorg',
      old,
      { access_token: 'b', refresh_token: '', token_type: null, expires_in: 36_000, scope: 'read' },
      NOW,
    );
    expect(edx.extraData).toEqual({
      access_token: 'b',
      refresh_token: 'r',
      token_type: 'Bearer',
      expires_in: 36_000,
      scope: 'read',
      custom: 1,
      auth_time: NOW / 1000,
      updated_at: NOW / 1000,
    });
    const mitx = mergeTokenResponse('mitxonline', old, { access_token: 'b', refresh_token: 'r2', expires_in: 36_000 }, NOW + 500);
    expect(mitx.extraData).toMatchObject({ refresh_token: 'r2', auth_time: NOW / 1000 });
    expect(mitx.extraData).not.toHaveProperty('updated_at');
  });
});

describe('refreshAccessToken on the wire', () => {
  let server: http.Server;
  let base = '';
  const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'new-access', expires_in: 36_000, token_type: 'Bearer', scope: 'read write' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/lms/`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );

  it('POSTs the form of spec 3.5 to /oauth2/access_token/, falling back to the access token', async () => {
    const result = await refreshAccessToken({
      provider: 'edxorg',
      baseUrl: base,
      client,
      extraData: { access_token: 'only-access' },
      settings,
      now: new Date(NOW),
    });
    const request = seen.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/oauth2/access_token/');
    expect(request.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request.headers.accept).toBe('application/json');
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      refresh_token: 'only-access',
      grant_type: 'refresh_token',
      client_id: 'gradeops-client',
      client_secret: SECRET,
    });
    expect(result.changes).toEqual({
      access_token: 'new-access',
      expires_in: 36_000,
      token_type: 'Bearer',
      scope: 'read write',
      auth_time: NOW / 1000,
      updated_at: NOW / 1000,
    });
  });
});

describe('refreshAccessToken against the simulator', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    const world = createWorld();
    world.mitxonline.addUser({ username: 'meg', refreshToken: 'meg-refresh-token' });
    world.mitxonline.addUser({ username: 'rev', accessToken: 'rev-access-token', refreshToken: 'revoked-rev-refresh', revoked: true });
    sim = await startSimulator({ world, provider: 'mitxonline' });
  });
  afterAll(() => sim.close());

  it('gets a token the simulator then accepts', async () => {
    const { extraData } = await refreshAccessToken({
      provider: 'mitxonline',
      baseUrl: sim.baseUrl,
      client,
      extraData: { refresh_token: 'meg-refresh-token' },
      settings,
    });
    expect(sim.world.ownerOfAccessToken(String(extraData.access_token), Date.now())?.username).toBe('meg');
  });

  it('turns 401 and 400 into invalid-credentials without printing a token or the client secret', async () => {
    for (const refresh_token of ['revoked-rev-refresh', 'unknown-refresh-token']) {
      const error = await refreshAccessToken({
        provider: 'mitxonline',
        baseUrl: sim.baseUrl,
        client,
        extraData: { access_token: 'rev-access-token', refresh_token },
        settings,
        uid: 'rev',
      }).then(
        () => null,
        (e: unknown) => e as OpsError,
      );
      expect(error).toBeInstanceOf(OpsError);
      expect(error!.code).toBe('invalid-credentials');
      expect(error!.hint).toMatch(/log in/);
      const text = JSON.stringify(error!.toJSON()) + String(error!.stack);
      for (const secret of [refresh_token, 'rev-access-token', SECRET]) expect(text).not.toContain(secret);
    }
  });

  it('turns a 500 into edx-error', async () => {
    sim.knobs.faults.set('meg', 500);
    const error = await refreshAccessToken({
      provider: 'mitxonline',
      baseUrl: sim.baseUrl,
      client,
      extraData: { refresh_token: 'meg-refresh-token' },
      settings,
    }).then(
      () => null,
      (e: unknown) => e as OpsError,
    );
    sim.knobs.faults.clear();
    expect(error?.code).toBe('edx-error');
    expect(error?.message).not.toContain('meg-refresh-token');
  });
});
