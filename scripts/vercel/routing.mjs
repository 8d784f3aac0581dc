// @ts-check
// How Vercel picks the function for a path, for a project with no framework: the filesystem first
// (api/ files, `[name]` matching one path segment), then vercel.json's rewrites in order, else
// Vercel's NOT_FOUND. A rewrite does not change the URL the function sees: it gets the request as
// the client sent it. (Vercel also appends the rewrite's parameters to the query; nothing here
// reads them, so they are left out.)
//
// Plain JavaScript with no Node imports: the dev server uses it in Node to check vercel.json at
// start-up, and bundles it into the Edge runtime to route each request.

/** @typedef {{ file: string, path: string, pattern: RegExp, dynamic: boolean }} FunctionRoute */
/** @typedef {{ source: string, destination: string, pattern: RegExp, keys: string[] }} Rewrite */

const FUNCTION_FILE = /\.(?:ts|mts|js|mjs)$/;

/**
 * Whether Vercel makes a function of this file (a path relative to the project, under api/):
 * not a declaration file, and no part of the path starts with `_` or `.`.
 * @param {string} file e.g. "api/v1/models/[id].ts"
 */
export function isFunctionFile(file) {
  if (!file.startsWith('api/') || !FUNCTION_FILE.test(file) || file.endsWith('.d.ts')) return false;
  return file.split('/').every((part) => !part.startsWith('_') && !part.startsWith('.'));
}

/**
 * The URL path a function file serves: "api/v1/models/[id].ts" → /api/v1/models/[id], matched by
 * ^/api/v1/models/([^/]+)$. An `index` file serves its folder.
 * @param {string} file
 * @returns {FunctionRoute}
 */
export function functionRoute(file) {
  const path = `/${file.replace(FUNCTION_FILE, '')}`.replace(/\/index$/, '') || '/';
  let dynamic = false;
  const source = path
    .split('/')
    .map((segment) => {
      if (/^\[\.\.\..+\]$/.test(segment)) {
        // Outside Next.js Vercel does not treat [...name] as a catch-all; do not pretend it does.
        throw new Error(`${file}: catch-all segments ([...name]) are not supported; use a vercel.json rewrite`);
      }
      if (/^\[[^\]/]+\]$/.test(segment)) {
        dynamic = true;
        return '([^/]+)';
      }
      return escapeRegExp(segment);
    })
    .join('/');
  return { file, path, pattern: new RegExp(`^${source}$`), dynamic };
}

/**
 * A vercel.json rewrite `source` (path-to-regexp syntax, as Vercel reads it: case-sensitive, and a
 * trailing slash is not optional) as a regular expression. Supported: `:name`, `:name?`,
 * `:name*`, `:name+`, `:name(regex)` and unnamed groups `(regex)` (referred to as $1, $2, …).
 * @param {string} source
 * @returns {{ pattern: RegExp, keys: string[] }}
 */
export function compileSource(source) {
  if (!source.startsWith('/')) throw new Error(`rewrite source ${JSON.stringify(source)} must start with /`);
  /** @type {string[]} */
  const keys = [];
  let out = '';
  let i = 0;
  let unnamed = 0;
  while (i < source.length) {
    const char = source[i];
    const prefix = char === '/' && (source[i + 1] === ':' || source[i + 1] === '(') ? '/' : '';
    const at = i + prefix.length;
    const name = source[at] === ':' ? /^:([A-Za-z0-9_]+)/.exec(source.slice(at))?.[1] : undefined;
    if (source[at] === ':' && !name) throw new Error(`rewrite source ${JSON.stringify(source)}: ':' without a name`);
    if (name !== undefined || source[at] === '(') {
      let j = at + (name !== undefined ? name.length + 1 : 0);
      let group = '[^/]+?';
      if (source[j] === '(') {
        const end = closingParen(source, j);
        group = source.slice(j + 1, end);
        j = end + 1;
      }
      const modifier = source[j] !== undefined && '?*+'.includes(source[j]) ? source[j] : '';
      if (modifier) j += 1;
      keys.push(name ?? String(++unnamed));
      const repeated = `${group}(?:/${group})*`;
      if (modifier === '') out += `${escapeRegExp(prefix)}(${group})`;
      else if (modifier === '?') out += `(?:${escapeRegExp(prefix)}(${group}))?`;
      else if (modifier === '+') out += `${escapeRegExp(prefix)}(${repeated})`;
      else out += `(?:${escapeRegExp(prefix)}(${repeated}))?`;
      i = j;
      continue;
    }
    out += escapeRegExp(char ?? '');
    i += 1;
  }
  return { pattern: new RegExp(`^${out}$`), keys };
}

/** @param {string} source @param {number} open index of "(" */
function closingParen(source, open) {
  let depth = 0;
  for (let k = open; k < source.length; k += 1) {
    if (source[k] === '\\') k += 1;
    else if (source[k] === '(') depth += 1;
    else if (source[k] === ')' && --depth === 0) return k;
  }
  throw new Error(`rewrite source ${JSON.stringify(source)}: unbalanced "("`);
}

/** @param {string} text */
function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Reads vercel.json's rewrites, refusing what this emulator would get wrong (conditions, external
 * destinations) instead of silently routing differently from Vercel.
 * @param {unknown} vercelJson the parsed file ({} when there is none)
 * @returns {Rewrite[]}
 */
export function readRewrites(vercelJson) {
  const config = /** @type {{ rewrites?: unknown, routes?: unknown }} */ (vercelJson ?? {});
  if (config.routes !== undefined) throw new Error('vercel.json: legacy "routes" are not supported by the dev server; use "rewrites"');
  if (config.rewrites === undefined) return [];
  if (!Array.isArray(config.rewrites)) throw new Error('vercel.json: "rewrites" must be an array');
  return config.rewrites.map((entry, index) => {
    const { source, destination, ...rest } = /** @type {Record<string, unknown>} */ (entry ?? {});
    if (typeof source !== 'string' || typeof destination !== 'string') {
      throw new Error(`vercel.json rewrites[${index}]: needs a string "source" and "destination"`);
    }
    if (Object.keys(rest).length > 0) {
      throw new Error(`vercel.json rewrites[${index}]: ${Object.keys(rest).join(', ')} not supported by the dev server`);
    }
    if (!destination.startsWith('/')) {
      throw new Error(`vercel.json rewrites[${index}]: only destinations inside the project are supported, not ${destination}`);
    }
    return { source, destination, ...compileSource(source) };
  });
}

/**
 * The routing of one deployment.
 * @param {string[]} files every file of the project under api/ (relative paths)
 * @param {Rewrite[]} rewrites
 */
export function createRouter(files, rewrites) {
  const functions = files.filter(isFunctionFile).map(functionRoute);
  // Static paths before dynamic ones, as on Vercel: /api/v1/models never goes to a [id] sibling.
  functions.sort((a, b) => Number(a.dynamic) - Number(b.dynamic));

  /** @param {string} pathname @returns {FunctionRoute | undefined} */
  const fromFilesystem = (pathname) => functions.find((f) => f.pattern.test(pathname));

  return {
    functions,
    /**
     * The function serving `pathname` and how it was found, or undefined for NOT_FOUND.
     * @param {string} pathname
     * @returns {{ fn: FunctionRoute, rewrite?: Rewrite } | undefined}
     */
    resolve(pathname) {
      const direct = fromFilesystem(pathname);
      if (direct) return { fn: direct };
      for (const rewrite of rewrites) {
        const match = rewrite.pattern.exec(pathname);
        if (!match) continue;
        const target = fromFilesystem(fillDestination(rewrite, match).split('?')[0] ?? '');
        return target ? { fn: target, rewrite } : undefined;
      }
      return undefined;
    },
    /** Throws when a rewrite leads nowhere: a typo in vercel.json should stop the server, not 404 later. */
    check() {
      for (const rewrite of rewrites) {
        const sample = rewrite.destination.replace(/:[A-Za-z0-9_]+|\$\d+/g, 'x').split('?')[0] ?? '';
        if (!fromFilesystem(sample)) {
          throw new Error(`vercel.json rewrite ${rewrite.source} → ${rewrite.destination}: no api/ function serves ${sample}`);
        }
      }
    },
  };
}

/**
 * The destination with the parameters the source matched put in (`:name`, `$1`).
 * @param {Rewrite} rewrite
 * @param {RegExpExecArray} match
 */
function fillDestination(rewrite, match) {
  /** @type {Record<string, string>} */
  const params = {};
  rewrite.keys.forEach((key, index) => (params[key] = match[index + 1] ?? ''));
  return rewrite.destination.replace(/:([A-Za-z0-9_]+)|\$(\d+)/g, (whole, name, number) => params[name ?? number] ?? whole);
}
