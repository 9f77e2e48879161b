import { describe, expect, it } from 'vitest';
import { combinedGrade } from '../../src/domain/combined-grades/combined-grade-formula.js';
import { pythonRound } from '../../src/domain/combined-grades/python-round.js';

describe('pythonRound', () => {
  it('rounds the exact binary value with ties to even, like Python (spec 0)', () => {
    expect(pythonRound(0.25, 1)).toBe(0.2);
    expect(pythonRound(0.35, 1)).toBe(0.3); // 0.35 is stored slightly below
    expect(pythonRound(68.15, 1)).toBe(68.2); // stored slightly above
    expect(pythonRound(72.5)).toBe(72);
    expect(pythonRound(73.5)).toBe(74);
    expect(pythonRound(-2.5)).toBe(-2);
    expect(pythonRound(80, 1)).toBe(80);
  });

  it('gives the worked combined grades of spec 2.11', () => {
    expect(combinedGrade(0.8, 80)).toBe(80);
    expect(combinedGrade(0.57, 62.5)).toBe(60.3);
    expect(combinedGrade(0.65, 70.25)).toBe(68.2);
    expect(combinedGrade(0.705, 61.0)).toBe(64.8);
  });
});
