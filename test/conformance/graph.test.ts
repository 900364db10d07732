// The conformance suite against the Microsoft Graph backend, over the local Graph fake (HTTPS,
// $batch, delta, Graph's throttling limits). What Graph lacks is declared in graph-harness.ts: no
// answered state.
import { describeBackend } from './suite.js';
import { graphHarness } from './graph-harness.js';

describeBackend(graphHarness());
