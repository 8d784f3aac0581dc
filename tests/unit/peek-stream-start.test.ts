import { describe, expect, test } from 'vitest';
import { peekStreamStart } from '../../lib/openai/peek-stream-start.ts';

const encoder = new TextEncoder();
const chunk = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ delta: { content }, index: 0, finish_reason: finish }], object: 'chat.completion.chunk' })}\n\n`;

/** An upstream that yields `pieces`, then hangs (`hang`), fails, or ends. */
function upstream(pieces: string[], end: 'close' | 'hang' | Error = 'close') {
  let i = 0;
  let cancelled = false;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < pieces.length) return controller.enqueue(encoder.encode(pieces[i++]!));
      if (end === 'close') return controller.close();
      if (end === 'hang') return new Promise<void>(() => {});
      controller.error(end);
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

describe('peekStreamStart', () => {
  test("a DashScope error frame first is an ordinary error with the status it carries, and Qwen's stream is cancelled", async () => {
    const up = upstream([':HTTP_STATUS/429\nevent:error\ndata:{"code":"Throttling.AllocationQuota","message":"Allocated quota exceeded"}\n\n'], 'hang');
    const result = await peekStreamStart(up.stream, 1_000);
    expect('error' in result && result.error).toMatchObject({ status: 429, code: 'Throttling.AllocationQuota' });
    expect(up.cancelled()).toBe(true);
  });

  test('an error_finish chunk first is a 429 when it speaks of throttling', async () => {
    const result = await peekStreamStart(upstream([chunk('Throttling: TPM(1/1)', 'error_finish')]).stream, 1_000);
    expect('error' in result && result.error).toMatchObject({ status: 429, code: 'upstream_error_finish' });
  });

  test('a good start is replayed byte for byte, split frames included, followed by the rest', async () => {
    const pieces = [chunk('he').slice(0, 9), chunk('he').slice(9), chunk('llo'), 'data: [DONE]\n\n'];
    const result = await peekStreamStart(upstream(pieces).stream, 1_000);
    expect('source' in result).toBe(true);
    if (!('source' in result)) return;
    let text = '';
    for (let r = await result.source.read(); !r.done; r = await result.source.read()) text += new TextDecoder().decode(r.value);
    expect(text).toBe(pieces.join(''));
  });

  test('a slow first event does not hold the headers: after maxWaitMs the stream is handed on as it is', async () => {
    const result = await peekStreamStart(upstream([': still thinking\n\n'], 'hang').stream, 20);
    expect('source' in result).toBe(true);
    if ('source' in result) {
      expect(new TextDecoder().decode((await result.source.read()).value)).toBe(': still thinking\n\n');
      await result.source.cancel();
    }
  });

  test('a connection that breaks before the first event is a 502', async () => {
    const result = await peekStreamStart(upstream([], new TypeError('reset')).stream, 1_000);
    expect('error' in result && result.error).toMatchObject({ status: 502, code: 'upstream_stream_broken' });
  });
});
