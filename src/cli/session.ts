/** Runs a command body with a Session that is always closed, however the body ends. */
import { Session } from '../core/session.js';
import type { CliContext } from './context.js';

export async function withSession<T>(ctx: CliContext, body: (session: Session) => Promise<T>): Promise<T> {
  const session = new Session({
    home: ctx.home,
    env: ctx.env,
    runtime: ctx.runtime(),
    redactor: ctx.redactor,
    passphraseFile: ctx.flags.passphraseFile,
    signal: ctx.signal,
  });
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}
