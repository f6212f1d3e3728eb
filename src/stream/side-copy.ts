/**
 * A pass-through that also writes every chunk to a second destination (a streaming upload),
 * waiting for it when it pushes back, so that memory stays bounded by both consumers. The side
 * is opened only once `startAfter` bytes have passed (they are held until then, so at most that
 * much is buffered): a stream shorter than that never opens it — small layers are cheaper to
 * upload after the fact than to stream. The side copy is best effort: when its destination fails
 * or cannot be opened, it is dropped and the main stream goes on untouched;
 * {@link SideCopy.failure} tells why.
 */
import { Transform, type TransformCallback, type Writable } from 'node:stream';

/** See the file comment. */
export class SideCopy extends Transform {
  private side: Writable | undefined;
  private state: 'waiting' | 'open' | 'off' = 'waiting';
  private held: Buffer[] = [];
  private heldBytes = 0;
  private failed: Error | undefined;
  private drained: (() => void) | undefined;

  constructor(
    private readonly open: () => Promise<Writable | undefined>,
    private readonly startAfter = 0,
  ) {
    super();
  }

  /** Why the side copy was dropped, if it was. */
  failure(): Error | undefined {
    return this.failed;
  }

  /** Whether the side was opened (and not dropped since). */
  opened(): boolean {
    return this.state === 'open';
  }

  private detach(err: Error): void {
    this.failed ??= err;
    this.state = 'off';
    this.side = undefined;
    this.held = [];
    const go = this.drained;
    this.drained = undefined;
    go?.();
  }

  /** Writes to the side; calls `then` at once, or when the side drains or is dropped. */
  private toSide(chunk: Buffer, then: () => void): void {
    const side = this.side;
    if (!side || side.write(chunk)) return then();
    const go = (): void => {
      side.off('drain', go);
      this.drained = undefined;
      then();
    };
    this.drained = go;
    side.on('drain', go);
  }

  private async start(): Promise<void> {
    let side: Writable | undefined;
    try {
      side = await this.open();
    } catch (err) {
      return this.detach(err instanceof Error ? err : new Error(String(err)));
    }
    if (!side) return this.detach(new Error('no side copy to write to'));
    this.side = side;
    this.state = 'open';
    side.once('error', (err: Error) => this.detach(err));
    side.once('close', () => {
      if (!side.writableFinished) this.detach(new Error('the side copy closed early'));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.state === 'open') return this.toSide(chunk, () => cb(null, chunk));
    if (this.state === 'off') return cb(null, chunk);
    this.held.push(chunk);
    this.heldBytes += chunk.length;
    if (this.heldBytes < this.startAfter) return cb(null, chunk);
    void this.start().then(() => {
      const held = this.held;
      this.held = [];
      const next = (i: number): void => {
        const c = held[i];
        if (c === undefined || this.state !== 'open') return cb(null, chunk);
        this.toSide(c, () => next(i + 1));
      };
      next(0);
    });
  }

  override _flush(cb: TransformCallback): void {
    // Shorter than startAfter: the side was never opened, and is not needed.
    this.held = [];
    if (this.state === 'waiting') this.state = 'off';
    this.side?.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // Only a failure takes the side copy down: after a normal end it may still be flushing.
    if (err) this.side?.destroy(err);
    cb(err);
  }
}
