// Semantic colour tokens: screens say what a thing is (ok, warn, error), never which colour.
// With NO_COLOR set the console runs with colour off (cli.ts), so every state also has a mark
// that reads without colour.
export const theme = {
  ok: 'green',
  warn: 'yellow',
  error: 'red',
  dim: 'gray',
  accent: 'cyan',
} as const;

export const marks = {
  ok: '✓',
  fail: '✗',
  warn: '!',
  info: '·',
  live: '●',
  selected: '›',
  differs: '≠',
  next: '→',
} as const;

export type Tone = 'ok' | 'warn' | 'error' | 'info';

export function toneColor(tone: Tone): string | undefined {
  return tone === 'info' ? undefined : theme[tone];
}
