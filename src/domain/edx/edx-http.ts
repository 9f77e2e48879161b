import PQueue from 'p-queue';
import { OpsError } from '../errors.js';
import { scrub } from '../secrets.js';
import type { EdxSettings, Provider } from './edx-settings.js';
import { callbackUrlVariable, serviceName } from './providers.js';

// One HTTP call to edX / MITx Online with the policy every caller shares: the per-request
// timeout, bounded retries, the optional process-wide rate limit, and errors that name the
// status and path but never a token or client secret.

export type EdxEndpoint = 'enrollments' | 'certificate' | 'current-grade' | 'token-refresh';

export interface EdxCallCounters {
  /** HTTP requests sent, retries included. */
  requests: number;
  /** Of which repeated attempts after a 5xx, timeout or network error. */
  retries: number;
  byEndpoint: Record<EdxEndpoint, number>;
}

function zeroCounters(): EdxCallCounters {
  return { requests: 0, retries: 0, byEndpoint: { enrollments: 0, certificate: 0, 'current-grade': 0, 'token-refresh': 0 } };
}

const processCounters = zeroCounters();

/** Calls made by this process so far (a copy), for benchmarks and status lines. */
export function edxCallCounters(): EdxCallCounters {
  return { ...processCounters, byEndpoint: { ...processCounters.byEndpoint } };
}

export function resetEdxCallCounters(): void {
  Object.assign(processCounters, zeroCounters());
}

// One queue per rate, shared by every client of the process: the cap is on what edX sees.
const rateQueues = new Map<number, PQueue>();

function throughRateLimit<T>(ratePerSecond: number | undefined, call: () => Promise<T>): Promise<T> {
  if (!ratePerSecond || ratePerSecond <= 0) return call();
  let queue = rateQueues.get(ratePerSecond);
  if (!queue) {
    queue = new PQueue({ intervalCap: ratePerSecond, interval: 1000 });
    rateQueues.set(ratePerSecond, queue);
  }
  return queue.add(call);
}

export interface EdxRequest {
  provider: Provider;
  endpoint: EdxEndpoint;
  method: 'GET' | 'POST';
  url: URL;
  headers: Record<string, string>;
  body?: string;
  /** Values that must never appear in a message built from this request. */
  secrets: ReadonlyArray<string | null | undefined>;
  /** A POST that timed out may have been applied upstream, so only idempotent calls repeat it. */
  retryOnTimeout: boolean;
}

export interface EdxResponse {
  status: number;
  text: string;
}

export type EdxHttpSettings = Pick<EdxSettings, 'timeoutMs' | 'retries' | 'ratePerSecond'>;

/** `GET https://host/path?query`: what messages name (origin only, so no userinfo leaks). */
export function describeRequest(request: EdxRequest): string {
  return `${request.method} ${request.url.origin}${request.url.pathname}${request.url.search}`;
}

function safe(request: EdxRequest, text: string): string {
  return scrub(text, request.secrets);
}

type Attempt = { response: EdxResponse } | { failure: OpsError; retryable: boolean };

async function attempt(request: EdxRequest, settings: EdxHttpSettings): Promise<Attempt> {
  const name = serviceName(request.provider);
  try {
    const response = await throughRateLimit(settings.ratePerSecond, async () => {
      const res = await fetch(request.url, {
        method: request.method,
        headers: request.headers,
        body: request.body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      // The body is read under the same timeout; reading it also frees the keep-alive socket.
      return { status: res.status, text: await res.text() };
    });
    if (response.status >= 500) {
      const failure = new OpsError('edx-error', safe(request, `${name} answered HTTP ${response.status} to ${describeRequest(request)}`),
        `${name} is failing; retry later (the learner stays on the failed list until then)`);
      return { failure, retryable: true };
    }
    return { response };
  } catch (error) {
    const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      const failure = new OpsError('edx-timeout',
        safe(request, `${name} did not answer ${describeRequest(request)} within ${settings.timeoutMs} ms`),
        `retry later, or raise GRADEOPS_EDX_TIMEOUT_MS if ${name} is just slow`);
      return { failure, retryable: request.retryOnTimeout };
    }
    const reason = err.cause?.code ?? err.cause?.message ?? err.message ?? 'network error';
    const failure = new OpsError('edx-unreachable', safe(request, `cannot reach ${name} for ${describeRequest(request)} (${reason})`),
      `check ${callbackUrlVariable(request.provider)} and the network`);
    return { failure, retryable: true };
  }
}

/**
 * Sends the request, repeating it up to `settings.retries` times after a 5xx, a timeout or a
 * network error. Returns any 2xx–4xx response; callers decide what a 4xx means (spec 3.6).
 */
export async function edxRequest(request: EdxRequest, settings: EdxHttpSettings, onSend?: () => void): Promise<EdxResponse> {
  const extraAttempts = Math.max(0, settings.retries);
  for (let n = 0; ; n += 1) {
    processCounters.requests += 1;
    processCounters.byEndpoint[request.endpoint] += 1;
    if (n > 0) processCounters.retries += 1;
    onSend?.();
    const result = await attempt(request, settings);
    if ('response' in result) return result.response;
    if (!result.retryable || n >= extraAttempts) throw result.failure;
    // A short, bounded pause: long backoffs would stall the freeze queue behind one learner.
    await new Promise((resolve) => setTimeout(resolve, Math.min(50 * (n + 1), 500)));
  }
}

/** The JSON body of a 2xx answer; anything unparsable is edX data we cannot use (spec 5b). */
export function parseJsonBody(request: EdxRequest, response: EdxResponse): unknown {
  try {
    return JSON.parse(response.text);
  } catch {
    throw invalidData(request, 'a body that is not JSON');
  }
}

export function invalidData(request: EdxRequest, what: string): OpsError {
  const name = serviceName(request.provider);
  return new OpsError('invalid-edx-data', safe(request, `${name} answered ${describeRequest(request)} with ${what}`),
    `check that ${callbackUrlVariable(request.provider)} points at the ${name} LMS; the learner goes on the failed list`);
}
