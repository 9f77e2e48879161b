import http from 'node:http';
import https from 'node:https';
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

// Transport: node:http(s) with keep-alive agents shared by every client of the process, not the
// global fetch. Per call it costs about a quarter of fetch's CPU (156 → 77 µs vs 444 → 322 µs per
// call, client and in-process simulator together, bench/RESULTS.md), and a freeze at concurrency
// 32 is CPU-bound. What fetch did for us is kept: redirects are followed (at most 20; 303, and
// 301/302 after a POST, become a GET; Authorization is dropped when the origin changes), one
// timeout covers the whole exchange body included, and the body is read as UTF-8 without a BOM.
// Idle sockets close after 4 s, before a Node server's default 5 s keep-alive would close them.
const agents = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4_000 }),
};

const MAX_REDIRECTS = 20;

class TransportError extends Error {
  constructor(
    name: string,
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = name;
  }
}

interface Exchange {
  status: number;
  location: string | undefined;
  text: string;
}

function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  deadline: number,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const agent = url.protocol === 'https:' ? agents['https:'] : url.protocol === 'http:' ? agents['http:'] : null;
    if (!agent) {
      reject(new TransportError('TypeError', `unsupported protocol ${url.protocol}`, 'ERR_INVALID_PROTOCOL'));
      return;
    }
    const send = url.protocol === 'https:' ? https.request : http.request;
    const outgoing = body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) };
    let req: http.ClientRequest;
    const timer = setTimeout(
      () => req.destroy(new TransportError('TimeoutError', 'the operation timed out')),
      Math.max(0, deadline - Date.now()),
    );
    const fail = (error: Error) => {
      clearTimeout(timer);
      reject(error);
    };
    try {
      req = send(url, { method, headers: outgoing, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          let text = Buffer.concat(chunks).toString('utf8');
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
          const location = res.headers.location;
          resolve({ status: res.statusCode ?? 0, location: typeof location === 'string' ? location : undefined, text });
        });
      });
    } catch (error) {
      fail(error as Error);
      return;
    }
    req.on('error', fail);
    req.end(body);
  });
}

async function transport(request: EdxRequest, timeoutMs: number): Promise<EdxResponse> {
  const deadline = Date.now() + timeoutMs;
  let url = request.url;
  let method: string = request.method;
  let body = request.body;
  let headers = request.headers;
  for (let hops = 0; ; hops += 1) {
    const answer = await exchange(url, method, headers, body, deadline);
    if (![301, 302, 303, 307, 308].includes(answer.status) || answer.location === undefined)
      return { status: answer.status, text: answer.text };
    if (hops >= MAX_REDIRECTS) throw new TransportError('TypeError', 'redirect count exceeded', 'ERR_TOO_MANY_REDIRECTS');
    const next = new URL(answer.location, url);
    if (answer.status === 303 || ((answer.status === 301 || answer.status === 302) && method === 'POST')) {
      method = 'GET';
      body = undefined;
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'content-type'));
    }
    if (next.origin !== url.origin)
      headers = Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
    url = next;
  }
}

async function attempt(request: EdxRequest, settings: EdxHttpSettings): Promise<Attempt> {
  const name = serviceName(request.provider);
  try {
    const response = await throughRateLimit(settings.ratePerSecond, () => transport(request, settings.timeoutMs));
    if (response.status >= 500) {
      const failure = new OpsError(
        'edx-error',
        safe(request, `${name} answered HTTP ${response.status} to ${describeRequest(request)}`),
        `${name} is failing; retry later (the learner stays on the failed list until then)`,
      );
      return { failure, retryable: true };
    }
    return { response };
  } catch (error) {
    const err = error as { name?: string; message?: string; code?: string; cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError' || err.name === 'AbortError') {
      const failure = new OpsError(
        'edx-timeout',
        safe(request, `${name} did not answer ${describeRequest(request)} within ${settings.timeoutMs} ms`),
        `retry later, or raise GRADEOPS_EDX_TIMEOUT_MS if ${name} is just slow`,
      );
      return { failure, retryable: request.retryOnTimeout };
    }
    const reason = err.code ?? err.cause?.code ?? err.cause?.message ?? err.message ?? 'network error';
    const failure = new OpsError(
      'edx-unreachable',
      safe(request, `cannot reach ${name} for ${describeRequest(request)} (${reason})`),
      `check ${callbackUrlVariable(request.provider)} and the network`,
    );
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
  return new OpsError(
    'invalid-edx-data',
    safe(request, `${name} answered ${describeRequest(request)} with ${what}`),
    `check that ${callbackUrlVariable(request.provider)} points at the ${name} LMS; the learner goes on the failed list`,
  );
}
