import { OpsError } from '../errors.js';
import type { OAuthClient, Provider } from './edx-settings.js';
import { describeRequest, edxRequest, invalidData, parseJsonBody, type EdxHttpSettings, type EdxRequest } from './edx-http.js';
import { serviceName } from './providers.js';

// spec 2.3 step 2 and 3.5: when a stored OAuth token is refreshed, and how the answer is merged.

/** `social_auth_usersocialauth.extra_data` (spec 1.2); other keys are kept untouched. */
export type ExtraData = Record<string, unknown>;

/** spec 2.3: refresh when less than five minutes of validity are left. */
const REFRESH_MARGIN_SECONDS = 5 * 60;

function isNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * spec 2.3 step 2: a missing or non-numeric `updated_at` or `expires_in` means "refresh now" —
 * which is every time for MITx Online rows, that never store `updated_at` (spec 1.2, E13).
 */
export function tokenNeedsRefresh(extraData: ExtraData, nowMs: number): boolean {
  const updatedAt = extraData.updated_at;
  const expiresIn = extraData.expires_in;
  if (!isNumber(updatedAt) || !isNumber(expiresIn)) return true;
  return nowMs / 1000 - updatedAt >= expiresIn - REFRESH_MARGIN_SECONDS;
}

export interface RefreshAccessTokenOptions {
  provider: Provider;
  baseUrl: string;
  client: OAuthClient;
  extraData: ExtraData;
  settings: EdxHttpSettings;
  /** The remote username, for messages only. */
  uid?: string;
  now?: Date;
}

export interface RefreshedToken {
  /** The whole merged extra_data. */
  extraData: ExtraData;
  /** Only the keys the refresh set: what has to be written back. */
  changes: ExtraData;
}

const nonEmpty = (value: unknown) => value !== undefined && value !== null && value !== '';

/** spec 3.5: the refresh answer merged into extra_data. */
export function mergeTokenResponse(provider: Provider, extraData: ExtraData, response: ExtraData, nowMs: number): RefreshedToken {
  const changes: ExtraData = { access_token: response.access_token };
  if ('expires_in' in response) changes.expires_in = response.expires_in;
  if ('scope' in response) changes.scope = response.scope;
  if (nonEmpty(response.refresh_token)) changes.refresh_token = response.refresh_token;
  if (nonEmpty(response.token_type)) changes.token_type = response.token_type;
  changes.auth_time = Math.floor(nowMs / 1000);
  // spec 1.2: SOCIAL_AUTH_EDXORG_EXTRA_DATA = ['updated_at']; MITx Online has no such setting.
  if (provider === 'edxorg') changes.updated_at = nowMs / 1000;
  return { extraData: { ...extraData, ...changes }, changes };
}

function relinkHint(provider: Provider): string {
  return `the learner must log in to MicroMasters with ${serviceName(provider)} again (relink the account)`;
}

/** spec 3.5: POST /oauth2/access_token/ with the refresh token (else the access token). */
export async function refreshAccessToken(options: RefreshAccessTokenOptions): Promise<RefreshedToken> {
  const { provider, extraData } = options;
  const who = options.uid ? ` of ${options.uid}` : '';
  const accessToken = typeof extraData.access_token === 'string' ? extraData.access_token : '';
  const refreshToken = typeof extraData.refresh_token === 'string' && extraData.refresh_token ? extraData.refresh_token : accessToken;
  if (!refreshToken) {
    throw new OpsError(
      'invalid-credentials',
      `no ${serviceName(provider)} token is stored${who}, so it cannot be refreshed`,
      relinkHint(provider),
    );
  }
  const request: EdxRequest = {
    provider,
    endpoint: 'token-refresh',
    method: 'POST',
    url: new URL('/oauth2/access_token/', options.baseUrl),
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
    body: new URLSearchParams({
      refresh_token: refreshToken,
      grant_type: 'refresh_token',
      client_id: options.client.id,
      client_secret: options.client.secret,
    }).toString(),
    secrets: [refreshToken, accessToken, options.client.secret],
    retryOnTimeout: false,
  };
  const response = await edxRequest(request, options.settings);
  if (response.status === 400 || response.status === 401) {
    // spec 2.3: InvalidCredentialStored — the stored grant is dead; only the learner can fix it.
    throw new OpsError(
      'invalid-credentials',
      `${serviceName(provider)} refused to refresh the access token${who} (HTTP ${response.status} to ${describeRequest(request)})`,
      relinkHint(provider),
    );
  }
  if (response.status >= 300) {
    throw new OpsError(
      'edx-error',
      `${serviceName(provider)} answered HTTP ${response.status} to ${describeRequest(request)}`,
      `retry later; if it persists, check the ${serviceName(provider)} OAuth client settings`,
    );
  }
  const body = parseJsonBody(request, response);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidData(request, 'something other than a token object');
  const answer = body as ExtraData;
  if (typeof answer.access_token !== 'string' || !answer.access_token) throw invalidData(request, 'no access_token');
  return mergeTokenResponse(provider, extraData, answer, (options.now ?? new Date()).getTime());
}
