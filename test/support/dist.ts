// The built program (dist/, made by `npm run build`, which scripts/test.sh runs first), for child
// processes that need one module of ours: Node 20 cannot load the .ts sources directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function distModule(path: string): string {
  const file = fileURLToPath(new URL(`../../dist/${path}`, import.meta.url));
  if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build (npm test does)`);
  return file;
}
