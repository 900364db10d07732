// Loader hooks: append every module URL the program loads to $MAILOPS_MODULE_LOG.
import { appendFileSync } from 'node:fs';

export async function load(url, context, nextLoad) {
  if (process.env.MAILOPS_MODULE_LOG) appendFileSync(process.env.MAILOPS_MODULE_LOG, url + '\n');
  return nextLoad(url, context);
}
