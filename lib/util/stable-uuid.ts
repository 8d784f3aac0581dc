/**
 * A UUID-shaped id derived from `text`: the same text always gives the same id. Not a
 * cryptographic hash (it names a conversation, it guards nothing), and synchronous: four
 * multiplicative hashes over the text, mixed at the end. A native SHA-256 costs more per request
 * in a Worker than hashing a typical opening (a system prompt and a first message) this way.
 */
export function stableUuid(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  let c = 0x85ebca6b;
  let d = 0xc2b2ae35;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193);
    b = Math.imul(b ^ code, 0x5bd1e995);
    c = Math.imul(c ^ code, 0x27d4eb2d);
    d = Math.imul(d ^ code, 0x165667b1);
  }
  const words = [mix(a, b), mix(b, c), mix(c, d), mix(d, a)];
  const hex = words.map((w) => (w >>> 0).toString(16).padStart(8, '0')).join('');
  // Version 5 and variant bits, so the id is a well-formed UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function mix(x: number, y: number): number {
  let h = Math.imul(x ^ (y >>> 15), 0x2c1b3c6d);
  h = Math.imul(h ^ (h >>> 12), 0x297a2d39);
  return h ^ (h >>> 15);
}
