import { preparedRows, type Db } from '../db.js';
import type { Provider } from './edx-settings.js';
import type { ExtraData } from './token-refresh.js';

// `social_auth_usersocialauth` (spec 1.2): at most one row per (user, provider).

export interface SocialAuth {
  id: number;
  userId: number;
  provider: Provider;
  /** The remote edX / MITx Online username (spec 1.2, 3.5). */
  uid: string;
  extraData: ExtraData;
}

export interface SocialAuthRow {
  id: number | string;
  user_id: number;
  provider: Provider;
  uid: string;
  extra_data: unknown;
}

export function rowToSocialAuth(row: SocialAuthRow): SocialAuth {
  // Very old social_django rows may hold the JSON as a jsonb string rather than an object.
  let extra = row.extra_data;
  if (typeof extra === 'string') {
    try {
      extra = JSON.parse(extra);
    } catch {
      extra = {};
    }
  }
  const extraData = typeof extra === 'object' && extra !== null && !Array.isArray(extra) ? (extra as ExtraData) : {};
  return { id: Number(row.id), userId: row.user_id, provider: row.provider, uid: row.uid, extraData };
}

export async function findSocialAuth(db: Db, userId: number, provider: Provider): Promise<SocialAuth | null> {
  // Once per learner in every freeze: a prepared statement (see preparedRows).
  const [row] = await preparedRows<SocialAuthRow>(
    db,
    'SELECT id, user_id, provider, uid, extra_data FROM social_auth_usersocialauth WHERE user_id = ? AND provider = ? LIMIT 1',
    [userId, provider],
  );
  return row ? rowToSocialAuth(row) : null;
}

/**
 * Writes the refreshed keys back in a transaction of their own, before any other edX call, so a
 * later failure cannot lose a token edX may already have rotated. `||` merges only those keys,
 * so a concurrent write of another key is kept; a row whose extra_data is not a JSON object
 * (see rowToSocialAuth) gets the whole merged object instead.
 */
export async function saveRefreshedToken(db: Db, id: number, changes: ExtraData, merged: ExtraData, now: Date): Promise<void> {
  await db.transaction(async (trx) => {
    await trx('social_auth_usersocialauth')
      .where({ id })
      .update({
        extra_data: trx.raw(`CASE WHEN jsonb_typeof(extra_data) = 'object' THEN extra_data || ?::jsonb ELSE ?::jsonb END`, [
          JSON.stringify(changes),
          JSON.stringify(merged),
        ]),
        modified: now,
      });
  });
}
