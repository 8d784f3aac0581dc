import { GatewayError, invalidRequest } from '../errors.ts';

/**
 * Reads a JSON request body without ever holding more than `maxBytes` of it: a declared
 * Content-Length over the limit is refused before reading, and a body that grows past it while
 * streaming in (chunked uploads declare nothing) is cut off.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const length = request.headers.get('content-length');
  const declared = length === null ? Number.NaN : Number(length);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) throw invalidRequest('The request has no body. Send a JSON object.');
  // A declared length the runtime enforces: read it natively in one go. Only a body of unknown
  // length (chunked) is counted as it streams in.
  if (Number.isInteger(declared)) return parse(await request.text());
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return parse(new TextDecoder().decode(bytes));
}

function parse(text: string): unknown {
  if (text.trim() === '') throw invalidRequest('The request body is empty. Send a JSON object.');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw invalidRequest(
      `We could not parse the JSON body of your request (${error instanceof Error ? error.message : 'invalid JSON'}).`,
      null,
      'invalid_json',
    );
  }
}

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError({
    status: 413,
    type: 'invalid_request_error',
    code: 'request_too_large',
    message: `The request body is larger than the gateway's limit of ${maxBytes} bytes (MAX_BODY_BYTES).`,
  });
}
