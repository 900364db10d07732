/** Kept in step with package.json by test/unit/cli-version.test.ts (reading package.json here would cost start-up time). */
export const VERSION = '0.1.0';
