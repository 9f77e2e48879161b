// spec 2.15: audit rows hold the model's Django JSON form — field names, FKs as ids, datetimes
// ISO-8601 with milliseconds and Z. The batch writers of the exam workflow build that form in the
// statement that writes the rows, so thousands of rows never travel to Node and back.

/** A timestamptz column as Django serializes it (e.g. 2024-05-01T16:00:03.123Z). */
export function djangoTimeSql(expr: string): string {
  return `to_char(${expr} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/** gradeops_audit_log's columns, in the order the INSERT … SELECT statements give them. */
export const AUDIT_LOG_COLUMNS = 'operator, action, course_key, course_run_id, user_id, username, data_before, data_after, detail';

/** spec 1.10: the hash of a new certificate, 32 lowercase hex characters of a random UUID4. */
export const CERTIFICATE_HASH_SQL = `replace(gen_random_uuid()::text, '-', '')`;
