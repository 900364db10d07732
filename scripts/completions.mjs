// Writes completions/ from the built command definitions (run `npm run build` first).
import { writeFileSync } from 'node:fs';
import { buildProgram } from '../dist/cli/program.js';
import { COMPLETION_FILES } from '../dist/cli/completions.js';

const program = buildProgram(async () => {});
for (const [file, generate] of Object.entries(COMPLETION_FILES)) {
  writeFileSync(new URL(`../completions/${file}`, import.meta.url), generate(program));
  console.error(`wrote completions/${file}`);
}
