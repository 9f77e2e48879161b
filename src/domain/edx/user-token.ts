import { OpsError } from '../errors.js';
import type { Db } from '../db.js';
import type { EdxSettings, Provider } from './edx-settings.js';
import { EdxClient } from './edx-client.js';
import { baseUrlFor, serviceName } from './providers.js';
import { findSocialAuth, saveRefreshedToken, type SocialAuth } from './social-auth-store.js';
import { refreshAccessToken, tokenNeedsRefresh } from './token-refresh.js';

// spec 2.3 steps 1–3: the learner's social-auth row, a fresh token, and a client built on it.

export interface UserEdxSession {
  social: SocialAuth;
  client: EdxClient;
  tokenRefreshed: boolean;
}

/** `preloaded`: the social-auth row when the caller read it already (null: the learner has none). */
export async function openUserSession(
  db: Db,
  settings: EdxSettings,
  userId: number,
  provider: Provider,
  now: Date,
  preloaded?: { social: SocialAuth | null },
): Promise<UserEdxSession> {
  const baseUrl = baseUrlFor(settings, provider);
  const social = preloaded ? preloaded.social : await findSocialAuth(db, userId, provider);
  if (!social) {
    throw new OpsError(
      'no-social-auth',
      `user ${userId} has no ${serviceName(provider)} account linked (no ${provider} social-auth row)`,
      `the learner must log in to MicroMasters with ${serviceName(provider)} once, then refresh again`,
    );
  }
  let tokenRefreshed = false;
  if (tokenNeedsRefresh(social.extraData, now.getTime())) {
    const refreshed = await refreshAccessToken({
      provider,
      baseUrl,
      client: settings.clients[provider],
      extraData: social.extraData,
      settings,
      uid: social.uid,
      now,
    });
    await saveRefreshedToken(db, social.id, refreshed.changes, refreshed.extraData, now);
    social.extraData = refreshed.extraData;
    tokenRefreshed = true;
  }
  const accessToken = typeof social.extraData.access_token === 'string' ? social.extraData.access_token : '';
  const client = new EdxClient({ provider, baseUrl, accessToken, settings });
  return { social, client, tokenRefreshed };
}
