import { describe, expect, test } from 'vitest';
import { MAX_JSON_DEPTH, jsonDepthExceeds, readJsonBody } from '../../lib/http/read-json-body.ts';

const chunked = (parts: string[]) =>
  new Request('http://gateway/v1/chat/completions', {
    method: 'POST',
    body: new ReadableStream({
      start(controller) {
        for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
        controller.close();
      },
    }),
    duplex: 'half',
  } as RequestInit);

describe('readJsonBody', () => {
  test('a body with a declared length is read and parsed', async () => {
    const request = new Request('http://gateway/', { method: 'POST', body: '{"a":[1,2]}', headers: { 'content-length': '11' } });
    await expect(readJsonBody(request, 100)).resolves.toEqual({ a: [1, 2] });
  });

  test('a declared length over the limit is refused before reading', async () => {
    const request = new Request('http://gateway/', { method: 'POST', body: 'x'.repeat(101), headers: { 'content-length': '101' } });
    await expect(readJsonBody(request, 100)).rejects.toMatchObject({ status: 413, code: 'request_too_large' });
  });

  test('a chunked body is counted as it streams in and cut off past the limit', async () => {
    await expect(readJsonBody(chunked(['{"a":"', 'x'.repeat(60), 'y'.repeat(60), '"}']), 100)).rejects.toMatchObject({ status: 413 });
    await expect(readJsonBody(chunked(['{"a":', '1}']), 100)).resolves.toEqual({ a: 1 });
  });

  test('empty and invalid bodies are 400s that say so', async () => {
    await expect(readJsonBody(new Request('http://gateway/', { method: 'POST', body: ' ' }), 100)).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/empty/) });
    await expect(readJsonBody(new Request('http://gateway/', { method: 'POST', body: '{' }), 100)).rejects.toMatchObject({ status: 400, code: 'invalid_json' });
  });

  test('nesting deeper than MAX_JSON_DEPTH is a 400, found without recursion; brackets inside strings do not count', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const post = (body: string) => new Request('http://gateway/', { method: 'POST', body });
    await expect(readJsonBody(post(deep), 1 << 20)).rejects.toMatchObject({ status: 400, code: 'json_too_deep' });
    const deepSchema = `{"tools":[{"function":{"parameters":${'{"type":"object","properties":{"x":'.repeat(5_000)}{}${'}}'.repeat(5_000)}}}]}`;
    await expect(readJsonBody(post(deepSchema), 1 << 20)).rejects.toMatchObject({ status: 400, code: 'json_too_deep' });
    const atLimit = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
    await expect(readJsonBody(post(atLimit), 1 << 20)).resolves.toBeDefined();
    expect(jsonDepthExceeds(`{"a":"${'['.repeat(1_000)}\\\"{"}`, 3)).toBe(false);
  });

  test('a chunked body over the limit is a 413 even when cancelling the upload never settles (edge-runtime)', async () => {
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.enqueue(new Uint8Array(64));
      },
      cancel: () => new Promise<void>(() => {}),
    });
    const request = new Request('http://gateway/', { method: 'POST', body, duplex: 'half' } as RequestInit);
    await expect(readJsonBody(request, 1_000)).rejects.toMatchObject({ status: 413 });
  });

  test('a client that goes away mid-upload is a 499 client_closed, not an unexpected error', async () => {
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('{"a":'));
        controller.error(new TypeError('terminated'));
      },
    });
    const request = new Request('http://gateway/', { method: 'POST', body, duplex: 'half' } as RequestInit);
    await expect(readJsonBody(request, 1_000)).rejects.toMatchObject({ status: 499, code: 'client_closed' });
  });
});
