// spec 0: MicroMasters rounds with Python's round(), which is correctly rounded on the exact binary
// value with ties to even (round(68.15, 1) = 68.2 because 68.15 is stored slightly above). Seeded
// combined grades must equal what `populate_combined_final_grades` would store, so we do the same.

/** Python's `round(x, digits)` for finite doubles and small non-negative `digits`. */
export function pythonRound(x: number, digits = 0): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const negative = x < 0;
  const { mantissa, exponent } = decompose(Math.abs(x)); // |x| = mantissa * 2^exponent, exactly
  if (exponent >= 0) return x; // an integer already
  const scaled = mantissa * 10n ** BigInt(digits);
  const denominator = 1n << BigInt(-exponent);
  let quotient = scaled / denominator;
  const twiceRemainder = 2n * (scaled % denominator);
  if (twiceRemainder > denominator || (twiceRemainder === denominator && quotient % 2n === 1n)) quotient += 1n;
  // Dividing a small integer by 10^digits is correctly rounded in JS, like Python's float(str).
  const result = Number(quotient) / 10 ** digits;
  return negative ? -result : result;
}

function decompose(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 }; // subnormal
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
