import { describe, expect, test } from 'vitest';
import { readJsonBody } from '../../lib/http/read-json-body.ts';

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
});
