/** A one-line progress display on a terminal's stderr, redrawn at most ten times a second. */
export class ProgressLine {
  private last = 0;
  private shown = false;

  constructor(private readonly stream: NodeJS.WritableStream & { columns?: number }) {}

  update(text: string): void {
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const width = Math.max(20, (this.stream.columns ?? 80) - 1);
    this.stream.write(`\r\u001b[K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
    this.shown = true;
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\u001b[K');
    this.shown = false;
  }
}
