/**
 * libmime, required as the CommonJS module it is (mailparser requires the same copy). Imported
 * as an ES module, Node first reads and parses its source for the exports of a wrapper.
 */
import { createRequire } from 'node:module';
import type Libmime from 'libmime';

export const libmime = createRequire(import.meta.url)('libmime') as typeof Libmime;
