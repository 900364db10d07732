// --import this file to record loaded modules: ESM through loader hooks, CommonJS from require.cache at exit.
import { register, createRequire } from 'node:module';
import { appendFileSync } from 'node:fs';

register('./module-log-hooks.mjs', import.meta.url);
const require = createRequire(import.meta.url);
process.on('exit', () => {
  if (process.env.MAILOPS_MODULE_LOG) appendFileSync(process.env.MAILOPS_MODULE_LOG, Object.keys(require.cache).join('\n') + '\n');
});
