import { z } from 'zod';

const isoDate = z.iso.date();
const isoDateTime = z.iso.datetime({ offset: true, local: true });

/**
 * An ISO-8601 date (`2026-12-01`, midnight UTC) or date-time (`2026-12-01T16:00:00Z`, an offset,
 * or none = UTC, spec 0) as an instant; null when it does not parse or names no real day.
 */
export function parseIsoInstant(text: string): Date | null {
  const t = text.trim();
  if (isoDate.safeParse(t).success) return new Date(`${t}T00:00:00Z`);
  if (!isoDateTime.safeParse(t).success) return null;
  const zoned = /(z|[+-]\d{2}(:?\d{2})?)$/i.test(t);
  const at = new Date(zoned ? t : `${t}Z`);
  return Number.isNaN(at.getTime()) ? null : at;
}
