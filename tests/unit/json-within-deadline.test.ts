import { describe, expect, test, vi } from 'vitest';
import { jsonWithinDeadline } from '../../lib/http/json-within-deadline.ts';
import { GatewayError } from '../../lib/errors.ts';

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe('jsonWithinDeadline', () => {
  test('an answer ready in time is a plain JSON response', async () => {
    const res = await jsonWithinDeadline(Promise.resolve({ ok: 1 }), { deadlineMs: 1_000, onLateError: vi.fn(), onCancel: vi.fn() });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('{"ok":1}');
  });

  test('an error in time keeps its status: it is thrown to the one place that renders errors', async () => {
    const error = new GatewayError({ status: 429, message: 'slow down' });
    await expect(jsonWithinDeadline(Promise.reject(error), { deadlineMs: 1_000, onLateError: vi.fn(), onCancel: vi.fn() })).rejects.toBe(error);
  });

  test('a late answer commits to 200 with leading whitespace, and the body still parses as the JSON', async () => {
    const res = await jsonWithinDeadline(later(80, { id: 'chatcmpl-1' }), { deadlineMs: 10, onLateError: vi.fn(), onCancel: vi.fn() });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith(' ')).toBe(true);
    expect(JSON.parse(text)).toEqual({ id: 'chatcmpl-1' });
  });

  test('a late failure becomes an OpenAI error body under the committed 200, and is reported', async () => {
    const onLateError = vi.fn();
    const failing = later(50, null).then(() => {
      throw new GatewayError({ status: 502, message: 'Qwen broke', code: 'upstream_stream_broken' });
    });
    const res = await jsonWithinDeadline(failing, { deadlineMs: 5, onLateError, onCancel: vi.fn() });
    expect(JSON.parse(await res.text())).toEqual({ error: { message: 'Qwen broke', type: 'server_error', param: null, code: 'upstream_stream_broken' } });
    expect(onLateError).toHaveBeenCalledWith(expect.objectContaining({ status: 502 }));
  });

  test('a client that leaves while waiting cancels the upstream request', async () => {
    const onCancel = vi.fn();
    const res = await jsonWithinDeadline(later(200, {}), { deadlineMs: 5, onLateError: vi.fn(), onCancel });
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    expect(onCancel).toHaveBeenCalled();
  });
});
