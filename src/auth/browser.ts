/**
 * Opening the sign-in page in the user's browser. $BROWSER wins, as with xdg-open and most
 * command-line tools (a colon-separated list of commands; `%s` stands for the URL, else it is
 * appended); otherwise the `open` package picks the platform's opener. The caller prints the URL
 * as well, since neither can tell whether a browser really appeared.
 */
import { spawn } from 'node:child_process';

/** Resolves true when an opener was started, false when none could be. */
export async function openBrowser(url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  const browser = env.BROWSER?.split(':').map((c) => c.trim()).find(Boolean);
  if (browser) return runBrowserCommand(browser, url, env);
  try {
    const { default: open } = await import('open');
    const child = await open(url, { wait: false });
    child.on('error', () => {});
    return true;
  } catch {
    return false;
  }
}

function runBrowserCommand(command: string, url: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  // The URL travels as a positional parameter, never through the shell's parser.
  const script = command.includes('%s') ? command.replaceAll('%s', '"$1"') : `${command} "$1"`;
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', script, 'browser', url], { env, stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('spawn', () => {
      // A browser may run for hours; the sign-in does not wait for it.
      child.unref();
      resolve(true);
    });
  });
}
