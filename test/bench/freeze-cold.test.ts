import { describe, expect, it } from 'vitest';
import { callsOnDemo } from '../../bench/freeze-cold.js';

// bench/RESULTS.md's cold phase compares the edX calls of the two refresh modes (spec 5b) from the
// same starting world; the second mode must not inherit the first one's failed lists.

describe('bench cold phase: edX calls per learner on the demo world', () => {
  it('both refresh modes start from the same world: the same token refreshes, the refused ones included', async () => {
    const targeted = await callsOnDemo(120, false);
    const full = await callsOnDemo(120, true);
    expect(targeted.runs).toBe(full.runs);
    expect(targeted.tokenRefresh).toBeGreaterThan(0);
    expect(full.tokenRefresh).toBe(targeted.tokenRefresh);
  }, 120_000);
});
