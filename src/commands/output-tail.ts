/** Keeps the last lines of a step's output for its error message, within a byte budget. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    while (this.bytes > this.maxBytes && this.chunks.length > 1) {
      this.bytes -= this.chunks.shift()?.length ?? 0;
    }
  }

  /** The kept output's last `maxLines` lines, without a trailing newline. */
  text(): string {
    const all = Buffer.concat(this.chunks).toString('utf8').slice(-this.maxBytes);
    return all.replace(/\n$/, '').split('\n').slice(-this.maxLines).join('\n');
  }
}
