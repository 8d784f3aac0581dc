/**
 * Writes SSE the way the fake's knobs ask: `data: ` or `data:`, LF or CRLF, `: keep-alive` comments,
 * and optionally cut into byte pieces that ignore event, line and UTF-8 character boundaries.
 */
import type { ServerResponse } from 'node:http';

export interface SseFormat {
  crlf: boolean;
  noSpace: boolean;
  comments: boolean;
  /** Piece sizes in bytes (a list cycles); null writes each event whole. */
  split: number | number[] | null;
}

export class SseWriter {
  /** data events written so far, `[DONE]` excluded (the unit of stallAfterChunks & co). */
  dataEvents = 0;
  private carry: Buffer = Buffer.alloc(0);
  private pieceNo = 0;
  private readonly eol: string;
  private readonly sizes: number[] | null;
  /** Settles when the last write has been handed to the kernel (its write callback ran). */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly res: ServerResponse,
    private readonly format: SseFormat,
    private readonly signal: AbortSignal,
  ) {
    this.eol = format.crlf ? '\r\n' : '\n';
    const sizes = format.split === null ? null : ([] as number[]).concat(format.split).filter((n) => n > 0);
    this.sizes = sizes && sizes.length > 0 ? sizes : null;
  }

  get closed(): boolean {
    return this.signal.aborted || this.res.destroyed;
  }

  async data(json: string): Promise<void> {
    if (this.format.comments) await this.comment();
    await this.emit(`data:${this.format.noSpace ? '' : ' '}${json}${this.eol}${this.eol}`);
    this.dataEvents += 1;
  }

  async done(): Promise<void> {
    if (this.format.comments) await this.comment();
    await this.emit(`data:${this.format.noSpace ? '' : ' '}[DONE]${this.eol}${this.eol}`);
  }

  /** A raw frame (e.g. DashScope's `event:error` frame), terminated by a blank line. */
  async frame(lines: string[]): Promise<void> {
    await this.emit(lines.join(this.eol) + this.eol + this.eol);
  }

  async comment(): Promise<void> {
    await this.emit(`: keep-alive${this.eol}${this.eol}`);
  }

  /** Writes bytes held back by splitting (before a stall, a reset or the end). */
  async flush(): Promise<void> {
    if (this.carry.length === 0) return;
    const rest = this.carry;
    this.carry = Buffer.alloc(0);
    await this.write(rest);
  }

  /** Flushes held-back bytes and waits until everything written has left Node's buffers (before a deliberate reset). */
  async settle(): Promise<void> {
    await this.flush();
    if (this.closed) return;
    await Promise.race([this.lastWrite, this.event('close')]);
  }

  private async emit(text: string): Promise<void> {
    const bytes = Buffer.from(text, 'utf8');
    if (!this.sizes) return this.write(bytes);
    this.carry = Buffer.concat([this.carry, bytes]);
    for (;;) {
      const size = this.sizes[this.pieceNo % this.sizes.length] ?? 1;
      if (this.carry.length < size) return;
      const piece = this.carry.subarray(0, size);
      this.carry = this.carry.subarray(size);
      this.pieceNo += 1;
      await this.write(piece);
      // Yield so each piece leaves as its own write (and usually its own TCP segment).
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async write(bytes: Buffer): Promise<void> {
    if (this.closed || bytes.length === 0) return;
    let ok = true;
    this.lastWrite = new Promise<void>((resolve) => {
      ok = this.res.write(bytes, () => resolve());
    });
    if (!ok) await this.event('drain');
  }

  /** Resolves on `name` or on close, and removes both listeners either way (long streams wait thousands of times). */
  private event(name: 'drain' | 'close'): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.res.off(name, done);
        this.res.off('close', done);
        resolve();
      };
      if (this.res.destroyed) return resolve();
      this.res.on(name, done);
      this.res.on('close', done);
    });
  }
}
