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
  if (Number.isInteger(declared)) return parse(await receive(() => request.text()));
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await receive(() => reader.read());
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      // Not awaited: in edge-runtime cancel() never settles, and the 413 must not wait for it. What
      // it might report (the client already gone) changes nothing about the answer.
      reader.cancel().catch(() => {});
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

/** The body stopped arriving: the client went away mid-upload (logged as 499, not as a gateway fault). */
async function receive<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new GatewayError({
      status: 499,
      code: 'client_closed',
      message: `The client went away while sending the request body (${error instanceof Error ? error.message : String(error)}).`,
      cause: error,
    });
  }
}

/**
 * Deeper nesting than any real request needs. Everything after parsing (validation, schema cleaning,
 * JSON.stringify towards Qwen) recurses, so a 100,000-level array would overflow the stack there.
 */
export const MAX_JSON_DEPTH = 128;

function parse(text: string): unknown {
  if (text.trim() === '') throw invalidRequest('The request body is empty. Send a JSON object.');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw invalidRequest(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`, null, 'json_too_deep');
  }
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

/** One pass over the text, no recursion: brackets outside strings, with escapes honoured. */
export function jsonDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}
