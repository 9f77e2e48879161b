// Request counters of one simulator, by endpoint and by answer: what benchmarks and tests read.

export type SimEndpoint = 'enrollments' | 'certificate' | 'current-grade' | 'token-refresh' | 'other';

export interface RecordedRequest {
  method: string;
  /** The raw request target, exactly as sent (no decoding). */
  url: string;
  /** The bearer token sent, if any (a test double; nothing real is ever stored here). */
  bearer: string | null;
  endpoint: SimEndpoint;
}

const RECENT_LIMIT = 200;

export class SimulatorStats {
  requests = 0;
  byEndpoint: Record<SimEndpoint, number> = zeroByEndpoint();
  /** Answers by HTTP status; `timeout` counts requests deliberately left unanswered. */
  byStatus: Record<string, number> = {};
  /** The last requests received, oldest first. */
  recent: RecordedRequest[] = [];

  record(request: RecordedRequest): void {
    this.requests += 1;
    this.byEndpoint[request.endpoint] += 1;
    this.recent.push(request);
    if (this.recent.length > RECENT_LIMIT) this.recent.shift();
  }

  answered(status: number | 'timeout'): void {
    const key = String(status);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
  }

  reset(): void {
    this.requests = 0;
    this.byEndpoint = zeroByEndpoint();
    this.byStatus = {};
    this.recent = [];
  }
}

function zeroByEndpoint(): Record<SimEndpoint, number> {
  return { enrollments: 0, certificate: 0, 'current-grade': 0, 'token-refresh': 0, other: 0 };
}
