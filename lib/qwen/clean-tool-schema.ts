/**
 * Cleans a tool's `parameters` JSON Schema before it goes to Qwen.
 *
 * Clients that sit in front of other models (Claude Code routers, Roo, Kilo, MCP bridges) send the
 * schemas their tools were generated with: zod-to-json-schema and the MCP SDKs add `$schema`,
 * `additionalProperties: false` everywhere, `const`, conditional keywords. Qwen's gateway refuses
 * some of these with an opaque 400 "bad request" (protocol §5), and router-for-me/CLIProxyAPI
 * strips them for Qwen ("Qwen rejects these keywords similarly to Gemini", `cleanQwenToolSchemas`).
 * CLIProxyAPI reuses its whole Gemini cleaner, which also rewrites unions and moves every
 * constraint into descriptions; that loses meaning for no Qwen-specific reason. This cleaner is
 * narrower: it removes what a source ties to Qwen or what cannot mean anything to the model, and
 * keeps every keyword that tells the model what to generate.
 *
 * Removed (at every schema level):
 * - `$schema`, `$id`: meta-declarations with no meaning for generation. Qwen Code itself drops
 *   them from every tool schema it sends ("some gateways reject unknown keywords",
 *   `relaxSchemaForFunctionCalling`, qwen-code #7315); CLIProxyAPI drops them too.
 * - `$comment`: a note for schema authors, never for the model (CLIProxyAPI drops it).
 * - `additionalProperties: false` on an object level that has optional properties: Qwen Code
 *   #7315 removes exactly this, because OpenAI-compatible gateways enforcing strict-mode rules
 *   promote every property to required, and the model is then forced to fill optional (even
 *   mutually exclusive) fields. Where every property is already required it is kept: there is
 *   nothing to promote. `additionalProperties` with a schema or `true` is kept (cleaned).
 * - `patternProperties`, `propertyNames`: object-key constraints CLIProxyAPI strips for Qwen
 *   (its Qwen comment names `patternProperties`).
 * - `if` / `then` / `else`: conditional validation CLIProxyAPI strips for Qwen; it constrains
 *   validation, not what the model is asked to produce, and OpenAI's own function-calling subset
 *   does not include it either.
 * - `$defs` / `definitions` that no `$ref` uses: dead weight in the prompt. Referenced ones stay,
 *   with their `$ref`s, because Qwen Code sends MCP schemas with `$ref` as they are.
 *
 * Rewritten:
 * - `const: v` becomes `enum: [v]` (what CLIProxyAPI and Qwen Code's OpenAPI 3.0 mode do): the
 *   same constraint in the keyword every schema dialect knows.
 *
 * Kept on purpose: `default`, `examples`, `format`, `minLength`…, `anyOf`/`oneOf`/`allOf`, `not`,
 * `title`, `description`. No source shows Qwen refusing them, Qwen Code sends them, and they
 * tell the model what a good argument looks like.
 *
 * Keys of name → schema maps (`properties`, `$defs`, `definitions`, `dependentSchemas`) are names,
 * not keywords: a property called `$schema` or `if` survives. Values of data keywords (`enum`,
 * `const`, `default`, `examples`, `required`) are data and are never walked.
 *
 * Pure: returns new objects and never mutates the input.
 */
export function cleanToolSchema(schema: unknown): unknown {
  const usesRef = containsRef(schema);
  return clean(schema, usesRef);
}

const DROPPED = new Set(['$schema', '$id', '$comment', 'patternProperties', 'propertyNames', 'if', 'then', 'else']);
const NAME_MAPS = new Set(['properties', '$defs', 'definitions', 'dependentSchemas']);
const DATA_VALUED = new Set(['enum', 'const', 'default', 'examples', 'example', 'required']);

function clean(node: unknown, usesRef: boolean): unknown {
  if (Array.isArray(node)) return node.map((item) => clean(item, usesRef));
  if (!isObject(node)) return node;
  const out: Record<string, unknown> = {};
  const optional = hasOptionalProperties(node);
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    if (key === 'additionalProperties' && value === false && optional) continue;
    if ((key === '$defs' || key === 'definitions') && !usesRef) continue;
    if (key === 'const') {
      // An `enum` beside it already says at least as much; otherwise the const becomes the enum.
      if (!('enum' in node)) out.enum = [value];
      continue;
    }
    if (NAME_MAPS.has(key) && isObject(value)) {
      const map: Record<string, unknown> = {};
      for (const [name, sub] of Object.entries(value)) setOwn(map, name, clean(sub, usesRef));
      setOwn(out, key, map);
      continue;
    }
    setOwn(out, key, DATA_VALUED.has(key) ? value : clean(value, usesRef));
  }
  return out;
}

/** Assignment would treat a property named `__proto__` (a client's schema may have one) as the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** An object level some of whose declared properties are not listed in `required`. */
function hasOptionalProperties(node: Record<string, unknown>): boolean {
  const properties = node.properties;
  if (!isObject(properties)) return false;
  const required = Array.isArray(node.required) ? node.required : [];
  return Object.keys(properties).some((name) => !required.includes(name));
}

/** Whether any schema level uses `$ref` (as a keyword, not as a property name or a data value). */
function containsRef(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(containsRef);
  if (!isObject(node)) return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' && typeof value === 'string') return true;
    if (DATA_VALUED.has(key)) continue;
    if (NAME_MAPS.has(key) && isObject(value)) {
      if (Object.values(value).some(containsRef)) return true;
      continue;
    }
    if (containsRef(value)) return true;
  }
  return false;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
