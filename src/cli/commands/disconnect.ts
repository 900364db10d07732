/** `mailops disconnect NAME`: the account, its secrets and its cache, gone. */
import type { CliContext } from '../context.js';
import { withSession } from '../session.js';
import { printJson } from '../output.js';
import type { Options } from './disconnect.spec.js';

export async function run(ctx: CliContext, args: unknown[], options: Options): Promise<number> {
  const name = (args[0] as string | undefined) ?? options.account;
  return withSession(ctx, async (session) => {
    const account = session.resolveAccount(name);
    const config = account.config;
    // OAuth: end the grant at the provider while its tokens are still at hand.
    let revoked: boolean | null = null;
    if (config.provider !== 'imap' && config.oauth) {
      const { revokeOAuthGrant } = await import('../../core/oauth.js');
      try {
        const outcome = await revokeOAuthGrant(session, config);
        revoked = outcome.revoked;
        ctx.note(outcome.note);
      } catch (error) {
        revoked = false;
        ctx.warn(`could not revoke the grant of ${config.name} (${(error as Error).message}); remove the app at https://myaccount.google.com/permissions`);
      }
    }
    let secretsRemoved = true;
    if (!config.passwordCommand) {
      try {
        const store = await session.secretStore(config.secretStore);
        await store.deleteAccount(config.name);
      } catch (error) {
        // The account goes anyway: a keychain that is gone must not keep it alive forever.
        secretsRemoved = false;
        ctx.warn(`could not delete the stored password of ${config.name}: ${(error as Error).message}`);
      }
    }
    session.accounts.delete(config.name);
    if (ctx.isMachineOutput) printJson(ctx, { disconnected: config.name, secrets_removed: secretsRemoved, ...(config.oauth ? { revoked } : {}) });
    else ctx.note(`Disconnected ${config.name}`);
    return secretsRemoved && revoked !== false ? 0 : 1;
  });
}
