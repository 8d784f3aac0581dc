// @ts-check
// The dotenv syntax `npm run login` writes and people put in .env.local, read without a dependency:
//   NAME=value            unquoted: trimmed; a " #" starts a comment
//   export NAME=value     the `export` is ignored
//   NAME='{"a": 1}'       single quotes (and backticks): literal, may span lines (JSON goes here)
//   NAME="a\nb"           double quotes: \n, \r, \t, \" and \\ are escapes, may span lines
//   # comment, blank lines

/**
 * @param {string} text
 * @returns {Record<string, string>}
 */
export function parseDotenv(text) {
  /** @type {Record<string, string>} */
  const out = {};
  const src = text.replace(/\r\n?/g, '\n');
  const assignment = /^[ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*/gm;
  let at = 0;
  for (;;) {
    assignment.lastIndex = at;
    const match = assignment.exec(src);
    if (!match) break;
    // Lines between assignments that are not comments or blank are not dotenv: skip them.
    const name = /** @type {string} */ (match[1]);
    let i = match.index + match[0].length;
    const quote = src[i];
    if (quote === "'" || quote === '"' || quote === '`') {
      const end = closingQuote(src, i + 1, quote);
      if (end === -1) throw new Error(`dotenv: the value of ${name} opens a ${quote} quote that is never closed`);
      const raw = src.slice(i + 1, end);
      out[name] = quote === '"' ? unescapeDouble(raw) : raw;
      i = end + 1;
    } else {
      const lineEnd = src.indexOf('\n', i);
      const line = src.slice(i, lineEnd === -1 ? undefined : lineEnd);
      out[name] = line.replace(/(^|[ \t])#.*$/, '').trim();
      i = lineEnd === -1 ? src.length : lineEnd;
    }
    const next = src.indexOf('\n', i);
    at = next === -1 ? src.length : next + 1;
  }
  return out;
}

/** @param {string} src @param {number} from @param {string} quote */
function closingQuote(src, from, quote) {
  for (let i = from; i < src.length; i += 1) {
    if (quote === '"' && src[i] === '\\') i += 1;
    else if (src[i] === quote) return i;
  }
  return -1;
}

/** @param {string} raw */
function unescapeDouble(raw) {
  /** @type {Record<string, string>} */
  const escapes = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' };
  return raw.replace(/\\(.)/g, (whole, char) => escapes[char] ?? whole);
}
