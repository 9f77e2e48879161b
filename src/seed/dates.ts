// Date helpers for the seeder. Every instant is UTC (spec 0) and derived from one `now`, so the
// world is reproducible for a given `now` while "past" and "future" stay true for the real clock.

const DAY_MS = 86_400_000;

export function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

export function addDays(date: Date, days: number): Date {
  return new Date(date.getTime() + days * DAY_MS);
}

export function addHours(date: Date, hours: number): Date {
  return new Date(date.getTime() + hours * 3_600_000);
}

export function addMinutes(date: Date, minutes: number): Date {
  return new Date(date.getTime() + minutes * 60_000);
}

/** timestamptz as sent to the database and to edX-shaped payloads. */
export function iso(date: Date): string {
  return date.toISOString();
}

/** edX payloads use second precision with a Z, like the samples ("2015-12-22T02:47:17Z"). */
export function edxIso(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** A `date` column value. */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

export function epochSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/** The MITx term code of a start date, as used in course keys: 1T (Jan–Apr), 2T (May–Aug), 3T (Sep–Dec). */
export function termCode(date: Date): string {
  return `${Math.floor(date.getUTCMonth() / 4) + 1}T${date.getUTCFullYear()}`;
}
