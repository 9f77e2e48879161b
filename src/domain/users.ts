import type { Db } from './db.js';
import { OpsError } from './errors.js';

export interface Learner {
  id: number;
  username: string;
  email: string;
  isActive: boolean;
}

export async function findLearnerByUsername(db: Db, username: string): Promise<Learner> {
  const row = await db('auth_user').where('username', username).first('id', 'username', 'email', 'is_active');
  if (!row) {
    throw new OpsError(
      'unknown-user',
      `no user has the MicroMasters username "${username}"`,
      'use the MicroMasters username (not the edX or MITx Online one); check its spelling',
    );
  }
  return { id: row.id, username: row.username, email: row.email, isActive: row.is_active };
}

const rowToLearner = (row: { id: number; username: string; email: string; is_active: boolean }): Learner => ({
  id: row.id,
  username: row.username,
  email: row.email,
  isActive: row.is_active,
});

/**
 * A learner by user id (a number), else by username, else by email (case-insensitive): the ways
 * an operator knows a learner from a support ticket. Django does not make emails unique, so an
 * email shared by several accounts is refused rather than guessed.
 */
export async function findLearner(db: Db, usernameOrEmailOrId: string | number): Promise<Learner> {
  const columns = ['id', 'username', 'email', 'is_active'];
  if (typeof usernameOrEmailOrId === 'number') {
    const row = await db('auth_user').where('id', usernameOrEmailOrId).first(columns);
    if (!row) throw new OpsError('unknown-user', `no user has the id ${usernameOrEmailOrId}`, 'check the id, or pass the username');
    return rowToLearner(row);
  }
  const byName = await db('auth_user').where('username', usernameOrEmailOrId).first(columns);
  if (byName) return rowToLearner(byName);
  if (usernameOrEmailOrId.includes('@')) {
    const byEmail = await db('auth_user').whereRaw('lower(email) = lower(?)', [usernameOrEmailOrId]).orderBy('id').limit(2).select(columns);
    if (byEmail.length === 1) return rowToLearner(byEmail[0]);
    if (byEmail.length > 1) {
      throw new OpsError(
        'unknown-user',
        `several users have the email ${usernameOrEmailOrId}`,
        'pass the MicroMasters username or the user id instead',
      );
    }
  }
  throw new OpsError(
    'unknown-user',
    `no user has the MicroMasters username or email "${usernameOrEmailOrId}"`,
    'use the MicroMasters username (not the edX or MITx Online one), the email or the user id; check its spelling',
  );
}

export async function usernamesById(db: Db, ids: number[]): Promise<Map<number, string>> {
  const map = new Map<number, string>();
  for (let i = 0; i < ids.length; i += 5000) {
    const rows = await db('auth_user')
      .whereIn('id', ids.slice(i, i + 5000))
      .select('id', 'username');
    for (const r of rows) map.set(r.id, r.username);
  }
  return map;
}
