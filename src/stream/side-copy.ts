/**
 * A pass-through that also writes every chunk to a second, optional destination (a streaming
 * upload), waiting for it when it pushes back, so that memory stays bounded by both consumers.
 * The side copy is best effort: when its destination fails, it is dropped and the main stream
 * goes on untouched; {@link SideCopy.failure} tells why.
 */
import { Transform, type TransformCallback, type Writable } from 'node:stream';

/** See the file comment. */
export class SideCopy extends Transform {
  private side: Writable | undefined;
  private failed: Error | undefined;
  private waiting: (() => void) | undefined;

  constructor(side: Writable) {
    super();
    this.side = side;
    side.once('error', (err: Error) => this.detach(err));
    side.once('close', () => {
      if (!side.writableFinished) this.detach(new Error('the side copy closed early'));
    });
  }

  /** Why the side copy was dropped, if it was. */
  failure(): Error | undefined {
    return this.failed;
  }

  private detach(err: Error): void {
    this.failed ??= err;
    this.side = undefined;
    const go = this.waiting;
    this.waiting = undefined;
    go?.();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const side = this.side;
    if (!side || side.write(chunk)) return cb(null, chunk);
    const go = (): void => {
      side.off('drain', go);
      this.waiting = undefined;
      cb(null, chunk);
    };
    this.waiting = go;
    side.on('drain', go);
  }

  override _flush(cb: TransformCallback): void {
    this.side?.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    // Only a failure takes the side copy down: after a normal end it may still be flushing.
    if (err) this.side?.destroy(err);
    cb(err);
  }
}
