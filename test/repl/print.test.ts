import { describe, expect, it } from 'vitest';
import { formatValue } from '../../src/repl/print.js';

describe('formatValue', () => {
  const rows = Array.from({ length: 3 }, (_, i) => ({
    id: i,
    username: `learner-${i}`,
    course_key: 'course-v1:MITx+14.100x+2T2026',
    data: { percent: 0.81, letter_grade: 'Pass', explanation: 'a long explanation of why this grade is what it is' },
    created_on: new Date(Date.UTC(2026, 0, 2)),
  }));

  it('prints rows as a table that fits the terminal', () => {
    const text = formatValue(rows, { colors: false, width: 80 });
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    expect(text).toContain('username');
    expect(text).toContain('2026-01-02T00:00:00.000Z');
    expect(text).toContain('(3 rows)');
  });

  it('never shows an OAuth token, in a table or an object', () => {
    const token = 'b6f3a2c1d4e5f60718293a4b5c6d7e8f';
    const social = { id: 7, provider: 'edxorg', extra_data: { access_token: token, refresh_token: `r-${token}`, token_type: 'Bearer' } };
    for (const value of [[social], social]) {
      const text = formatValue(value, { colors: false });
      expect(text).not.toContain(token.slice(0, 8));
      expect(text).toContain('****7e8f');
    }
  });
});
