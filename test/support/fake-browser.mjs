// A stand-in for the person at the browser, reached the way a real browser is: mailops runs it
// through $BROWSER with the sign-in URL. It loads the consent page of the test authorization
// server (oauth-server.ts), submits its form (allow or deny, possibly with a scope unticked) and
// follows the answer back to mailops's loopback listener: a 302 to the redirect URI, or the
// auto-submitting form of response_mode=form_post. Tests also import it to act as the person in
// the --no-browser and --device-code flows.
//
// As $BROWSER:  fake-browser.mjs URL     (plain JavaScript: the child process runs without a transpiler)
//   FAKE_BROWSER_ACTION  consent (default) | deny | untick:SCOPE | tamper-state | stay
//   FAKE_BROWSER_USER    who signs in (default: the login_hint mailops sent)
//   FAKE_BROWSER_LOG     a file to append one JSON line per page to
import { appendFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * @param {string} url the authorization URL
 * @param {{action?: string, user?: string, log?: string, follow?: boolean}} [options]
 * @returns {Promise<{finalUrl: string | null, status: number, page: string}>}
 */
export async function browse(url, options = {}) {
  const action = options.action ?? 'consent';
  const note = (entry) => options.log && appendFileSync(options.log, JSON.stringify(entry) + '\n');

  const consentPage = await fetch(url, { redirect: 'manual' });
  const consentHtml = await consentPage.text();
  note({ step: 'authorize', status: consentPage.status, text: textOf(consentHtml) });
  if (consentPage.status !== 200) return { finalUrl: null, status: consentPage.status, page: textOf(consentHtml) };

  const form = parseForm(consentHtml);
  const body = new URLSearchParams(form.hidden);
  if (options.user) body.set('user', options.user);
  const untick = action.startsWith('untick:') ? action.slice('untick:'.length) : null;
  for (const scope of form.checkboxes.scope ?? []) if (scope !== untick) body.append('scope', scope);
  body.set('decision', action === 'deny' ? 'deny' : 'allow');
  const answer = await fetch(new URL(form.action, url), {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });

  if (answer.status === 302) {
    const target = new URL(answer.headers.get('location'));
    if (action === 'tamper-state') target.searchParams.set('state', 'forged-state');
    note({ step: 'redirect', status: 302 });
    if (options.follow === false || action === 'stay') return { finalUrl: target.href, status: 302, page: '' };
    const page = await fetchLoopback(target.href, { redirect: 'manual' });
    const text = textOf(await page.text());
    note({ step: 'loopback', status: page.status, text });
    return { finalUrl: target.href, status: page.status, page: text };
  }

  // response_mode=form_post: a page whose form posts the answer to the redirect URI.
  const postHtml = await answer.text();
  const post = parseForm(postHtml);
  const fields = new URLSearchParams(post.hidden);
  if (action === 'tamper-state') fields.set('state', 'forged-state');
  note({ step: 'form_post', status: answer.status });
  if (options.follow === false || action === 'stay') return { finalUrl: `${post.action}?${fields}`, status: answer.status, page: '' };
  const page = await fetchLoopback(post.action, {
    method: 'POST',
    body: fields,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    redirect: 'manual',
  });
  const text = textOf(await page.text());
  note({ step: 'loopback', status: page.status, text });
  return { finalUrl: post.action, status: page.status, page: text };
}

/**
 * The person enters a device code on the verification page and allows (or denies) access.
 * @returns {Promise<string>} the text of the page they end on
 */
export async function enterDeviceCode(verificationUri, userCode, options = {}) {
  const pageHtml = await (await fetch(verificationUri)).text();
  const form = parseForm(pageHtml);
  const body = new URLSearchParams({ user_code: userCode, user: options.user ?? '', decision: options.action === 'deny' ? 'deny' : 'allow' });
  const answer = await fetch(new URL(form.action, verificationUri), { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  return textOf(await answer.text());
}

/** A browser tries every address of `localhost`; Node's fetch may stop at ::1 while the listener is on 127.0.0.1. */
async function fetchLoopback(url, init) {
  try {
    return await fetch(url, init);
  } catch (error) {
    const target = new URL(url);
    if (target.hostname !== 'localhost') throw error;
    target.hostname = '127.0.0.1';
    return fetch(target, init);
  }
}

function parseForm(html) {
  const action = /<form[^>]*action="([^"]*)"/i.exec(html)?.[1] ?? '';
  const hidden = [];
  const checkboxes = {};
  for (const m of html.matchAll(/<input([^>]*)>/gi)) {
    const attr = (name) => new RegExp(`${name}="([^"]*)"`, 'i').exec(m[1])?.[1];
    const type = attr('type');
    const name = decode(attr('name') ?? '');
    const value = decode(attr('value') ?? '');
    if (type === 'hidden') hidden.push([name, value]);
    if (type === 'checkbox') (checkboxes[name] ??= []).push(value);
  }
  return { action: decode(action), hidden, checkboxes };
}

function decode(text) {
  return text.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}

function textOf(html) {
  return html.replace(/<script[\s\S]*?<\/script>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

// Run as $BROWSER (the URL is the last argument), or by a test as the person on another machine:
//   fake-browser.mjs --stay URL                 print the address the browser ends on (not loaded)
//   fake-browser.mjs --device-code URI CODE     enter a device code; print the page it ends on
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const env = { action: process.env.FAKE_BROWSER_ACTION, user: process.env.FAKE_BROWSER_USER || undefined, log: process.env.FAKE_BROWSER_LOG };
  const work =
    args[0] === '--device-code'
      ? enterDeviceCode(args[1], args[2], env).then((page) => process.stdout.write(page + '\n'))
      : args[0] === '--stay'
        ? browse(args[1], { ...env, follow: false }).then((r) => process.stdout.write((r.finalUrl ?? '') + '\n'))
        : browse(args[args.length - 1], env);
  work.catch((error) => {
    if (env.log) appendFileSync(env.log, JSON.stringify({ step: 'error', text: String(error) }) + '\n');
    process.stderr.write(String(error) + '\n');
    process.exitCode = 1;
  });
}
