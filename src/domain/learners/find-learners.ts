import type { Db } from '../db.js';
import type { Provider } from '../edx/edx-settings.js';

// Finding a learner without knowing the exact MicroMasters username (issue #7): a prefix of the
// username, the email or the edX / MITx Online username, case-insensitive, as the operator types.

export interface LearnerMatch {
  id: number;
  username: string;
  email: string;
  isActive: boolean;
  /** The learner's linked edX / MITx Online usernames. */
  accounts: Array<{ provider: Provider; uid: string }>;
  /** What the text matched first: the username, the email or a linked account's username. */
  matchedOn: 'username' | 'email' | 'edx-username';
}

const likePrefix = (text: string) => `${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

export async function findLearners(db: Db, text: string, limit = 20): Promise<LearnerMatch[]> {
  const query = text.trim();
  if (query === '') return [];
  const pattern = likePrefix(query);
  const rows: Array<{ id: number; username: string; email: string; is_active: boolean; matched_on: LearnerMatch['matchedOn'] }> = await db
    .select('u.id', 'u.username', 'u.email', 'u.is_active')
    .select(
      db.raw(
        `CASE WHEN lower(u.username) LIKE ? THEN 'username' WHEN lower(u.email) LIKE ? THEN 'email' ELSE 'edx-username' END AS matched_on`,
        [pattern, pattern],
      ),
    )
    .from('auth_user as u')
    .where(
      (q) =>
        void q
          .whereRaw('lower(u.username) LIKE ?', [pattern])
          .orWhereRaw('lower(u.email) LIKE ?', [pattern])
          .orWhereExists(
            (s) =>
              void s
                .select(db.raw('1'))
                .from('social_auth_usersocialauth as s')
                .whereRaw('s.user_id = u.id')
                .whereRaw('lower(s.uid) LIKE ?', [pattern]),
          ),
    )
    // An exact username first, then username matches, then the rest, each alphabetically.
    .orderByRaw(`lower(u.username) = ? DESC, lower(u.username) LIKE ? DESC, u.username`, [query.toLowerCase(), pattern])
    .limit(limit);
  if (rows.length === 0) return [];
  const accounts = await db('social_auth_usersocialauth')
    .whereIn(
      'user_id',
      rows.map((r) => r.id),
    )
    .orderBy(['user_id', 'provider'])
    .select('user_id', 'provider', 'uid');
  return rows.map((r) => ({
    id: r.id,
    username: r.username,
    email: r.email,
    isActive: Boolean(r.is_active),
    accounts: accounts
      .filter((a: { user_id: number }) => a.user_id === r.id)
      .map((a: { provider: Provider; uid: string }) => ({ provider: a.provider, uid: a.uid })),
    matchedOn: r.matched_on,
  }));
}
