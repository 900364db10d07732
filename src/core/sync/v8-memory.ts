/**
 * V8 settings that keep a sync's memory small. A sync makes garbage at the speed mail arrives
 * (each body parsed once, stored, dropped), and its peak RSS has a target (100 MB for a first
 * sync of 10,000 or 50,000 messages). Each setting was measured to cost no time; a V8 that
 * refuses one after start-up just keeps its default, which costs memory only.
 *
 * - The young generation stays at its starting size. V8 would grow it to 16 MB per semi-space:
 *   a third of a first sync's peak RSS. The scavenges are more frequent but no slower overall
 *   (10,000 messages: 157 -> 124 MB peak, same CPU time).
 * - A smaller inlining budget for the optimizing compiler (920 bytes of bytecode by default).
 *   TurboFan compiles on a background thread, and what a compile job allocates stays resident in
 *   that thread's malloc arena once freed (glibc keeps an arena's free memory): at a first sync's
 *   peak about 12 MB (the arenas' resident size in /proc/self/smaps; 0.1 MB with
 *   --no-concurrent-recompilation, which only the command line can set). The largest jobs are
 *   the functions that take a fetched message apart with their parsers inlined (toCachedMessage:
 *   47-58 ms of compiling each time). With 150 bytes the arenas held 8 MB, and first syncs of
 *   10,000 messages peaked at medians of 88.6-88.9 against 92.9-94.6 MB (three rounds of 6-8
 *   alternating runs, the same times), 50,000 at 88 against 91 MB; 75 bytes saved no more, and
 *   no inlining at all cost 12% more CPU at 50,000.
 */
import { setFlagsFromString } from 'node:v8';
import type { Worker } from 'node:worker_threads';

const FLAGS = ['--semi-space-growth-factor=1', '--max-inlined-bytecode-size-cumulative=150'];

export function keepV8MemorySmall(): void {
  for (const flag of FLAGS) {
    try {
      setFlagsFromString(flag);
    } catch {
      // Not essential: memory only.
    }
  }
}

/**
 * Starting a worker thread undoes the young generation's setting for the main thread: measured
 * with Node 20, its young generation grew to 16 MB per semi-space again as soon as a worker had
 * started (32 MB of a first sync's peak RSS with the thread writer), whether or not the flag was
 * set again right after `new Worker()`. Set again once the worker is online, it holds.
 */
export function keepV8MemorySmallAfter(worker: Worker): void {
  worker.once('online', keepV8MemorySmall);
}
