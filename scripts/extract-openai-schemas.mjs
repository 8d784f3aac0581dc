#!/usr/bin/env node
// @ts-check
// Writes tests/fixtures/openai-schemas.json: the schemas of OpenAI's API spec that the tests validate
// the gateway's answers against, with everything they reference, and nothing else. The whole spec is
// 2.9 MB of YAML; parsing and compiling it took the test process about a second. The spec is MIT
// licensed (OpenAI, https://github.com/openai/openai-openapi); its version and licence are kept in
// the output's `info`.
//
//   node scripts/extract-openai-schemas.mjs path/to/openai-openapi.yaml
//
// (the spec: https://github.com/openai/openai-openapi; it is not kept in the repository, only the extract)
//
// Re-run it after updating the spec, or after adding a name to ROOTS.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

/** The schemas the tests name (tests/support/openai-schema.ts); their references come along. */
export const ROOTS = [
  'CreateChatCompletionResponse',
  'CreateChatCompletionStreamResponse',
  'ListModelsResponse',
  'Model',
  'ErrorResponse',
  'Response',
  'ResponseStreamEvent',
];

const OUT = fileURLToPath(new URL('../tests/fixtures/openai-schemas.json', import.meta.url));
const REF = '#/components/schemas/';

/**
 * The named schemas and every schema they reach through `$ref`, with the spec's `info`.
 * @param {{ info: Record<string, unknown>, components: { schemas: Record<string, unknown> } }} spec
 * @param {string[]} roots
 */
export function extractSchemas(spec, roots) {
  const all = spec.components.schemas;
  /** @type {Record<string, unknown>} */
  const picked = {};
  const pending = [...roots];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (name in picked) continue;
    if (!(name in all)) throw new Error(`the spec has no schema ${name}`);
    picked[name] = lean(all[name]);
    for (const ref of refsIn(all[name])) {
      if (!ref.startsWith(REF)) throw new Error(`${name} refers to ${ref}, outside components/schemas`);
      pending.push(decodeURIComponent(ref.slice(REF.length)));
    }
  }
  const sorted = Object.fromEntries(Object.keys(picked).sort().map((name) => [name, picked[name]]));
  const { title, version, license } = spec.info;
  return {
    info: {
      title,
      version,
      license,
      source: 'https://github.com/openai/openai-openapi (openapi.yaml), MIT licence, Copyright (c) OpenAI',
      generatedBy: 'scripts/extract-openai-schemas.mjs',
      roots,
    },
    components: { schemas: sorted },
  };
}

/** Prose and vendor keywords validate nothing; without them the file is half the size. */
const DOCUMENTATION = new Set(['description', 'title', 'example', 'examples', 'deprecated']);

/**
 * A copy of a schema without its documentation keywords. Under `properties` the keys are property
 * names (a property may well be called `description`), so they are all kept.
 * @param {unknown} node @param {boolean} [namesOnly] @returns {unknown}
 */
function lean(node, namesOnly = false) {
  if (Array.isArray(node)) return node.map((item) => lean(item));
  if (typeof node !== 'object' || node === null) return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => namesOnly || !(DOCUMENTATION.has(key) || key.startsWith('x-')))
      .map(([key, value]) => [key, lean(value, !namesOnly && (key === 'properties' || key === 'patternProperties'))]),
  );
}

/** @param {unknown} node @returns {string[]} */
function refsIn(node) {
  if (Array.isArray(node)) return node.flatMap(refsIn);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const source = process.argv[2];
  if (!source) {
    console.error('usage: node scripts/extract-openai-schemas.mjs path/to/openai-openapi.yaml');
    process.exit(2);
  }
  const spec = parse(readFileSync(source, 'utf8'), { maxAliasCount: -1 });
  const out = extractSchemas(spec, ROOTS);
  writeFileSync(OUT, `${JSON.stringify(out, null, 1)}\n`);
  console.log(`${Object.keys(out.components.schemas).length} schemas (OpenAI API ${out.info.version}) -> ${OUT}`);
}
