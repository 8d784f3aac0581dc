import { customInput } from './response-object.ts';

export interface CustomInputStream {
  /** The next fragment of Qwen's JSON arguments in; the newly decoded part of the raw input out. */
  push(fragment: string): string;
  /** All arguments are in: what is still to send so that everything sent is the whole input. */
  finish(args: string): string;
}

const OPENING = /^\s*\{\s*"input"\s*:\s*"/;
const OPENING_TEXT = '{"input":"';
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/**
 * Streams a freeform tool's raw input while Qwen is still writing the arguments it was asked for,
 * `{"input":"…"}`: the string's characters are decoded as they arrive (an escape cut between two
 * fragments waits for its end), so a long apply_patch reaches the client as it is written, at a
 * cost linear in its length. Arguments of another shape are not streamed: the whole input is sent
 * at the end, as customInput reads it.
 */
export function createCustomInputStream(): CustomInputStream {
  let state: 'seek' | 'in' | 'done' | 'off' = 'seek';
  let seen = '';
  let pending = '';
  let sent = '';

  const decode = (text: string): string => {
    let out = '';
    let i = 0;
    let run = 0;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c !== 34 && c !== 92) {
        i++;
        continue;
      }
      out += text.slice(run, i);
      if (c === 34) {
        state = 'done';
        return out;
      }
      const next = text[i + 1];
      if (next === undefined || (next === 'u' && i + 6 > text.length)) {
        pending = text.slice(i);
        return out;
      }
      if (next === 'u') {
        out += String.fromCharCode(Number.parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        out += ESCAPES[next] ?? next;
        i += 2;
      }
      run = i;
    }
    return out + text.slice(run);
  };

  return {
    push(fragment) {
      let out = '';
      if (state === 'seek') {
        seen += fragment;
        const opening = OPENING.exec(seen);
        if (opening) {
          state = 'in';
          out = decode(seen.slice(opening[0].length));
        } else if (!OPENING_TEXT.startsWith(seen.replace(/\s+/g, ''))) {
          state = 'off';
        }
      } else if (state === 'in') {
        const text = pending + fragment;
        pending = '';
        out = decode(text);
      }
      sent += out;
      return out;
    },
    finish(args) {
      const input = customInput(args);
      const rest = input.startsWith(sent) ? input.slice(sent.length) : '';
      sent += rest;
      return rest;
    },
  };
}
