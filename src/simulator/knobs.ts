// Fault knobs of a running simulator: plain mutable fields, read on every request, so a test or
// the demo can change them while requests are in flight.

export type ForcedFault = 500 | 'timeout' | 401;

export interface SimulatorKnobs {
  /** Delay before every answer, token refresh included. */
  latencyMs: number;
  /** These remote usernames get 401 on everything. */
  unauthorizedUsers: Set<string>;
  /** Fraction (0–1) of requests answered 500. */
  errorRate: number;
  /** Fraction (0–1) of requests never answered until the client gives up. */
  timeoutRate: number;
  /** Deterministic per-user faults, checked once the caller is known. */
  faults: Map<string, ForcedFault>;
}

export function defaultKnobs(overrides: Partial<SimulatorKnobs> = {}): SimulatorKnobs {
  return {
    latencyMs: 0,
    unauthorizedUsers: new Set(),
    errorRate: 0,
    timeoutRate: 0,
    faults: new Map(),
    ...overrides,
  };
}

/** mulberry32: a small seeded generator, so a seeded fault pattern replays the same way. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
