// Writes dist/cli/help-texts.json from the built program (part of `npm run build`); see src/cli/help-texts.ts.
import { writeFileSync } from 'node:fs';
import { buildProgram } from '../dist/cli/program.js';
import { helpTexts } from '../dist/cli/help-texts.js';

writeFileSync(new URL('../dist/cli/help-texts.json', import.meta.url), JSON.stringify(helpTexts(buildProgram(async () => {}))));
