// spec 2.4 / T7: the grade is Python's float(percent); a value float() rejects ('' , ' ', 'foo',
// None) becomes 0.0. Python's float() also accepts surrounding whitespace, inf/nan and booleans.

const FLOAT_TEXT = /^[+-]?((\d(_?\d)*)?\.?\d(_?\d)*([eE][+-]?\d(_?\d)*)?|\d(_?\d)*\.)$/;
const SPECIAL = /^[+-]?(inf|infinity|nan)$/i;

export function pythonFloat(value: unknown): number | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (FLOAT_TEXT.test(text)) return Number(text.replace(/_/g, ''));
  if (SPECIAL.test(text)) {
    if (/nan/i.test(text)) return Number.NaN;
    return text.startsWith('-') ? -Infinity : Infinity;
  }
  return null;
}

/** The grade as the reference computes it: float(percent), or 0.0 when that raises. */
export function gradeFromPercent(percent: unknown): number {
  return pythonFloat(percent) ?? 0.0;
}
