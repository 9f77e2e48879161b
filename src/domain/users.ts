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
