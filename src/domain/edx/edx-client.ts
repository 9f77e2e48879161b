import { OpsError } from '../errors.js';
import type { Provider } from './edx-settings.js';
import {
  describeRequest,
  edxRequest,
  invalidData,
  parseJsonBody,
  type EdxEndpoint,
  type EdxHttpSettings,
  type EdxRequest,
  type EdxResponse,
} from './edx-http.js';
import { serviceName } from './providers.js';

// The three reads MicroMasters makes with a learner's own token (spec 3.1–3.4).

/** One raw edX JSON object, stored as-is in a cache table's `data` (spec 1.4). */
export type EdxObject = Record<string, unknown>;

export interface EdxClientOptions {
  provider: Provider;
  baseUrl: string;
  accessToken: string;
  settings: EdxHttpSettings;
}

function isObject(value: unknown): value is EdxObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export class EdxClient {
  readonly provider: Provider;
  readonly baseUrl: string;
  /** Requests this client sent, retries included. */
  readonly calls = { requests: 0 };
  readonly #accessToken: string;
  readonly #settings: EdxHttpSettings;

  constructor(options: EdxClientOptions) {
    if (!options.accessToken) {
      // spec 3.1 / 3.6: the reference fails at client construction; the learner must relink.
      throw new OpsError(
        'invalid-credentials',
        `no ${serviceName(options.provider)} access token is stored for this learner`,
        `the learner must log in to MicroMasters with ${serviceName(options.provider)} again`,
      );
    }
    this.provider = options.provider;
    this.baseUrl = options.baseUrl;
    this.#accessToken = options.accessToken;
    this.#settings = options.settings;
  }

  /** spec 3.2: the token owner's enrollments. 400/401 means the stored token is no good (spec 2.3). */
  async getEnrollments(): Promise<EdxObject[]> {
    const request = this.#request('enrollments', '/api/enrollment/v1/enrollment');
    const response = await this.#send(request);
    if (response.status === 400 || response.status === 401) throw this.#refusedToken(request, response.status);
    if (response.status >= 300) {
      throw new OpsError(
        'edx-error',
        `${serviceName(this.provider)} answered HTTP ${response.status} to ${describeRequest(request)}`,
        'retry later; if it persists, check the learner on the LMS',
      );
    }
    const body = parseJsonBody(request, response);
    if (!Array.isArray(body) || !body.every(isObject)) throw invalidData(request, 'something other than a list of enrollments');
    return body;
  }

  /** spec 3.3: one certificate, or null when edX answers 4xx for this course key (skipped). */
  async getCertificate(username: string, courseKey: string): Promise<EdxObject | null> {
    // spec 3.1: path parameters go in raw: `course-v1:MITx+X+1T2020`, never %-encoded.
    const request = this.#request('certificate', `/api/certificates/v0/certificates/${username}/courses/${courseKey}/`);
    const response = await this.#send(request);
    if (response.status === 401) throw this.#refusedToken(request, response.status);
    if (response.status >= 300) return null;
    const body = parseJsonBody(request, response);
    if (!isObject(body)) throw invalidData(request, 'something other than a certificate object');
    return body;
  }

  /** spec 3.4: element 0 of the grade list, or null when edX answers 4xx for this course key. */
  async getCurrentGrade(username: string, courseKey: string): Promise<EdxObject | null> {
    const request = this.#request('current-grade', `/api/grades/v1/courses/${courseKey}/?username=${username}`);
    const response = await this.#send(request);
    if (response.status === 401) throw this.#refusedToken(request, response.status);
    if (response.status >= 300) return null;
    const body = parseJsonBody(request, response);
    if (!Array.isArray(body)) throw invalidData(request, 'something other than a list of grades');
    // spec 3.4: the reference crashes on an empty list (IndexError); spec 5b names it.
    if (body.length === 0) throw invalidData(request, 'an empty list of grades');
    if (!isObject(body[0])) throw invalidData(request, 'a grade that is not an object');
    return body[0];
  }

  // spec 5b "a 401 on a grade or certificate call", deviating from 3.3/3.4 (which skip every 4xx
  // per course key): a 401 means edX refused the token itself. Skipping it would delete the learner's cached grade and silently drop them
  // from the freeze; failing as invalid-credentials keeps them on the failed list instead.
  #refusedToken(request: EdxRequest, status: number): OpsError {
    return new OpsError(
      'invalid-credentials',
      `${serviceName(this.provider)} refused the stored token (HTTP ${status} to ${describeRequest(request)})`,
      `the learner must log in to MicroMasters with ${serviceName(this.provider)} again`,
    );
  }

  #request(endpoint: EdxEndpoint, path: string): EdxRequest {
    return {
      provider: this.provider,
      endpoint,
      method: 'GET',
      // spec 3.1: absolute paths, so any path of the base URL is dropped (URL resolution does that).
      url: new URL(path, this.baseUrl),
      headers: { Authorization: `Bearer ${this.#accessToken}`, Accept: 'application/json' },
      secrets: [this.#accessToken],
      retryOnTimeout: true,
    };
  }

  #send(request: EdxRequest): Promise<EdxResponse> {
    return edxRequest(request, this.#settings, () => {
      this.calls.requests += 1;
    });
  }
}
