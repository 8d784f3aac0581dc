// @ts-check
import { LoginError } from './login-error.mjs';

/**
 * Sets `NAME='value'` in dotenv text (`.dev.vars` read by wrangler, `.env.local` read by Vercel),
 * replacing any existing assignment of NAME, including `export NAME=…` and a quoted value that
 * spans several lines, and leaving every other line exactly as it was. The value is JSON, which is
 * full of double quotes, so it goes inside single quotes where dotenv takes it literally.
 * @param {string} text  the file's current content ('' when it does not exist)
 * @param {string} name
 * @param {string} value  one line, without single quotes
 * @returns {string}
 */
export function upsertDotenvLine(text, name, value) {
  if (/[\r\n']/.test(value)) {
    throw new LoginError(`Cannot write ${name} as a single-quoted dotenv value (it contains a quote or newline).`);
  }
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const lines = text === '' ? [] : text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop(); // the final newline
  const assignment = new RegExp(`^\\s*(?:export\\s+)?${name}\\s*=\\s*(.*)$`);
  const line = `${name}='${value}'`;

  /** @type {string[]} */
  const out = [];
  let replaced = false;
  for (let i = 0; i < lines.length; i += 1) {
    const match = assignment.exec(/** @type {string} */ (lines[i]));
    if (!match) {
      out.push(/** @type {string} */ (lines[i]));
      continue;
    }
    // Skip the continuation lines of a quoted value left open on this line.
    const rest = match[1] ?? '';
    const quote = /^["'`]/.test(rest) ? rest[0] : undefined;
    if (quote && !closesQuote(rest.slice(1), quote)) {
      while (i + 1 < lines.length && !closesQuote(/** @type {string} */ (lines[i + 1]), quote)) i += 1;
      if (i + 1 < lines.length) i += 1;
    }
    if (!replaced) out.push(line); // the first assignment keeps its place; duplicates go
    replaced = true;
  }
  if (!replaced) out.push(line);
  return out.join(eol) + eol;
}

/**
 * Whether `text` holds the closing `quote`. Inside double quotes dotenv honours backslash escapes
 * (a JSON value written as "{\"a\":1}" is full of \"), inside single quotes and backticks it does not.
 * @param {string} text
 * @param {string} quote
 */
function closesQuote(text, quote) {
  for (let i = 0; i < text.length; i += 1) {
    if (quote === '"' && text[i] === '\\') i += 1;
    else if (text[i] === quote) return true;
  }
  return false;
}
