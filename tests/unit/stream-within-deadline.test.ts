import { describe, expect, test, vi } from 'vitest';
import { streamWithinDeadline } from '../../lib/http/stream-within-deadline.ts';
import { GatewayError } from '../../lib/errors.ts';
import { chatStreamEncoder } from '../../lib/openai/chat-stream-encoder.ts';

const later = <T>(ms: number, value: () => T) => new Promise<T>((resolve, reject) => setTimeout(() => {
  try {
    resolve(value());
  } catch (error) {
    reject(error);
  }
}, ms));
const sse = (events: string[], onCancel?: () => void) =>
  new Response(
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const event of events) controller.enqueue(new TextEncoder().encode(event));
        controller.close();
      },
      cancel: onCancel,
    }),
    { headers: { 'content-type': 'text/event-stream; charset=utf-8' } },
  );
const options = (extra: Partial<Parameters<typeof streamWithinDeadline>[1]> = {}) => ({
  deadlineMs: 20,
  keepAliveMs: 15,
  onLateError: vi.fn(),
  onCancel: vi.fn(),
  encoder: chatStreamEncoder({ includeUsage: false }),
  ...extra,
});

describe('streamWithinDeadline', () => {
  test('a stream that starts in time is answered as it is', async () => {
    const response = sse(['data: {"a":1}\n\n', 'data: [DONE]\n\n']);
    expect(await streamWithinDeadline(Promise.resolve(response), options({ deadlineMs: 1_000 }))).toBe(response);
  });

  test('an error in time keeps its status: it is thrown to the one place that renders errors', async () => {
    const error = new GatewayError({ status: 429, message: 'slow down' });
    await expect(streamWithinDeadline(Promise.reject(error), options({ deadlineMs: 1_000 }))).rejects.toBe(error);
  });

  test('a late stream is committed at the deadline with keep-alives, then relays Qwen unchanged', async () => {
    const started = Date.now();
    const res = await streamWithinDeadline(later(120, () => sse(['data: {"a":1}\n\n', 'data: [DONE]\n\n'])), options());
    expect(Date.now() - started).toBeLessThan(100);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const text = await res.text();
    expect(text.startsWith(': keep-alive\n\n')).toBe(true);
    expect(text.match(/: keep-alive/g)!.length).toBeGreaterThanOrEqual(3);
    expect(text.endsWith('data: {"a":1}\n\ndata: [DONE]\n\n')).toBe(true);
  });

  test('a late failure is an in-band OpenAI error event, and is reported', async () => {
    const onLateError = vi.fn();
    const failing = later(60, () => {
      throw new GatewayError({ status: 504, code: 'upstream_timeout', message: 'Qwen did not answer' });
    });
    const res = await streamWithinDeadline(failing, options({ onLateError }));
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('data: {"error":{"message":"Qwen did not answer","type":"timeout_error","param":null,"code":"upstream_timeout"}}\n\n');
    expect(text).not.toContain('[DONE]');
    expect(onLateError).toHaveBeenCalledWith(expect.objectContaining({ status: 504 }));
  });

  test('a client that leaves while waiting cancels the upstream request and releases a stream that starts later', async () => {
    const onCancel = vi.fn();
    const released = vi.fn();
    const res = await streamWithinDeadline(later(80, () => sse(['data: x\n\n'], released)), options({ onCancel }));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(onCancel).toHaveBeenCalled();
    await new Promise((r) => setTimeout(r, 120));
    expect(released).toHaveBeenCalled();
  });
});
