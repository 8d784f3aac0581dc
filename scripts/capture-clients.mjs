#!/usr/bin/env node
// @ts-check
// `node scripts/capture-clients.mjs [claude|codex ...]`: records what the pinned real clients send.
// Each client runs once with a plain prompt and once through a tool loop against a small capture
// server on 127.0.0.1 that answers like Anthropic (/v1/messages) or OpenAI (/v1/responses) would, just
// enough for the client to go on; every request is saved as tests/fixtures/clients/<client>-<version>/
// <scenario>-<nn>-<method>-<path>.json (auth values masked). Rerun it when a pin changes.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientPins, ensureClient } from '../tests/clients/install-client.mjs';
import { runClaude, runCodex } from '../tests/clients/run-client.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const NONCE = 'capture-nonce-4711';
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'cookie', 'proxy-authorization']);

/** @param {Record<string, string | string[] | undefined>} headers */
function maskHeaders(headers) {
  /** @type {Record<string, unknown>} */
  const out = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!SECRET_HEADERS.has(name)) out[name] = value;
    else out[name] = String(value).replace(/^(\w+ )?.*$/, (_, scheme) => `${scheme ?? ''}<masked>`);
  }
  return out;
}

/** @param {string} name @param {unknown} data */
const sse = (name, data) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/** Anthropic's stream for one text or tool_use block. */
function anthropicStream(model, block) {
  const usage = { input_tokens: 12, output_tokens: 6, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };
  const out = [
    sse('message_start', {
      type: 'message_start',
      message: { id: 'msg_capture01', type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    }),
  ];
  if (block.type === 'text') {
    out.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }));
    out.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: block.text } }));
  } else {
    out.push(sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 'toolu_capture01', name: block.name, input: {} } }));
    out.push(sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: JSON.stringify(block.input) } }));
  }
  out.push(sse('content_block_stop', { type: 'content_block_stop', index: 0 }));
  out.push(sse('message_delta', { type: 'message_delta', delta: { stop_reason: block.type === 'text' ? 'end_turn' : 'tool_use', stop_sequence: null }, usage }));
  out.push(sse('message_stop', { type: 'message_stop' }));
  return out.join('');
}

/** OpenAI Responses stream for one message or function_call item. */
function responsesStream(model, item) {
  let seq = 0;
  const ev = (type, data) => sse(type, { type, sequence_number: seq++, ...data });
  const base = { id: 'resp_capture01', object: 'response', created_at: Math.floor(Date.now() / 1000), model, output: [] };
  const out = [ev('response.created', { response: { ...base, status: 'in_progress' } }), ev('response.in_progress', { response: { ...base, status: 'in_progress' } })];
  let done;
  if (item.type === 'text') {
    const part = { type: 'output_text', text: item.text, annotations: [] };
    done = { id: 'msg_capture01', type: 'message', status: 'completed', role: 'assistant', content: [part] };
    out.push(ev('response.output_item.added', { output_index: 0, item: { ...done, status: 'in_progress', content: [] } }));
    out.push(ev('response.content_part.added', { item_id: done.id, output_index: 0, content_index: 0, part: { ...part, text: '' } }));
    out.push(ev('response.output_text.delta', { item_id: done.id, output_index: 0, content_index: 0, delta: item.text }));
    out.push(ev('response.output_text.done', { item_id: done.id, output_index: 0, content_index: 0, text: item.text }));
    out.push(ev('response.content_part.done', { item_id: done.id, output_index: 0, content_index: 0, part }));
  } else {
    done = { id: 'fc_capture01', type: 'function_call', status: 'completed', call_id: 'call_capture01', name: item.name, arguments: JSON.stringify(item.arguments) };
    out.push(ev('response.output_item.added', { output_index: 0, item: { ...done, status: 'in_progress', arguments: '' } }));
    out.push(ev('response.function_call_arguments.delta', { item_id: done.id, output_index: 0, delta: done.arguments }));
    out.push(ev('response.function_call_arguments.done', { item_id: done.id, output_index: 0, arguments: done.arguments }));
  }
  out.push(ev('response.output_item.done', { output_index: 0, item: done }));
  out.push(
    ev('response.completed', {
      response: {
        ...base,
        status: 'completed',
        output: [done],
        usage: { input_tokens: 12, input_tokens_details: { cached_tokens: 0 }, output_tokens: 6, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 },
      },
    }),
  );
  return out.join('');
}

/** Arguments that make a shell tool print NONCE, whatever shape its schema asks for. */
function shellArguments(tool) {
  const props = (tool.parameters ?? tool.input_schema)?.properties ?? {};
  if (props.cmd) return { cmd: `echo ${NONCE}` };
  if (props.command?.type === 'array') return { command: ['bash', '-lc', `echo ${NONCE}`] };
  return { command: `echo ${NONCE}` };
}

/** Text of the last tool result in the conversation, if the last turn is one. */
function lastToolResult(kind, body) {
  if (kind === 'claude') {
    const last = body.messages?.at(-1);
    const block = Array.isArray(last?.content) ? last.content.find((b) => b.type === 'tool_result') : undefined;
    if (!block) return undefined;
    return typeof block.content === 'string' ? block.content : block.content.map((b) => b.text ?? '').join('');
  }
  const last = Array.isArray(body.input) ? body.input.at(-1) : undefined;
  return last?.type === 'function_call_output' ? (typeof last.output === 'string' ? last.output : JSON.stringify(last.output)) : undefined;
}

const CLIENTS = {
  claude: {
    scenarios: ['plain', 'tool'],
    answer(body, scenario) {
      const result = lastToolResult('claude', body);
      const bash = body.tools?.find((t) => t.name === 'Bash');
      if (scenario === 'tool' && bash && result === undefined) return { type: 'tool_use', name: 'Bash', input: { command: `echo ${NONCE}`, description: 'Print the nonce' } };
      return { type: 'text', text: result === undefined ? 'Hello from the capture server.' : `The tool printed: ${result.trim()}` };
    },
    run(bin, serverUrl, scenario) {
      const prompt = scenario === 'tool' ? `Run the shell command: echo ${NONCE}` : 'Say hello.';
      return runClaude({ bin, baseUrl: serverUrl, apiKey: 'capture-client-key', prompt, allowBash: scenario === 'tool', quiet: false, timeoutMs: 90_000 });
    },
  },
  codex: {
    scenarios: ['plain', 'tool', 'known-model'],
    answer(body, scenario) {
      const result = lastToolResult('codex', body);
      const shell = body.tools?.find((t) => ['exec_command', 'shell', 'shell_command'].includes(t.name));
      if (scenario === 'tool' && shell && result === undefined) return { type: 'function_call', name: shell.name, arguments: shellArguments(shell) };
      return { type: 'text', text: result === undefined ? 'Hello from the capture server.' : `The tool printed: ${result.trim()}` };
    },
    run(bin, serverUrl, scenario) {
      const prompt = scenario === 'tool' ? `Run the shell command: echo ${NONCE}` : 'Say hello.';
      // With a model it has metadata for, Codex offers more (apply_patch as a custom tool, reasoning).
      const model = scenario === 'known-model' ? 'gpt-5.5' : 'qwen3-coder-plus';
      return runCodex({ bin, baseUrl: `${serverUrl}/v1`, apiKey: 'capture-client-key', prompt, model, runCommands: scenario === 'tool', quiet: false, timeoutMs: 90_000 });
    },
  },
};

async function capture(name, scenario) {
  const client = CLIENTS[name];
  const pin = clientPins[name];
  const outDir = path.join(root, 'tests', 'fixtures', 'clients', `${pin.bin === 'claude' ? 'claude-code' : 'codex'}-${pin.version}`);
  await mkdir(outDir, { recursive: true });
  for (const f of await readdir(outDir)) if (f.startsWith(`${scenario}-`) && f.endsWith('.json')) await rm(path.join(outDir, f));
  const bin = await ensureClient(name);
  let n = 0;
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body = raw === '' ? null : raw;
      try {
        body = raw === '' ? null : JSON.parse(raw);
      } catch {}
      const url = new URL(req.url ?? '/', 'http://x');
      const seq = ++n;
      /** @type {{status: number, type: string, text: string, summary: string}} */
      let answer;
      const model = body?.model ?? 'unknown';
      if (req.method === 'POST' && url.pathname === '/v1/messages' && name === 'claude') {
        const block = client.answer(body, scenario);
        answer = body.stream
          ? { status: 200, type: 'text/event-stream', text: anthropicStream(model, block), summary: `anthropic SSE ${block.type}` }
          : {
              status: 200,
              type: 'application/json',
              text: JSON.stringify({ id: 'msg_capture01', type: 'message', role: 'assistant', model, content: [block.type === 'text' ? block : { ...block, id: 'toolu_capture01' }], stop_reason: block.type === 'text' ? 'end_turn' : 'tool_use', stop_sequence: null, usage: { input_tokens: 12, output_tokens: 6 } }),
              summary: `anthropic JSON ${block.type}`,
            };
      } else if (req.method === 'POST' && url.pathname === '/v1/messages/count_tokens') {
        answer = { status: 200, type: 'application/json', text: JSON.stringify({ input_tokens: 100 }), summary: 'count_tokens 100' };
      } else if (req.method === 'POST' && url.pathname === '/v1/responses' && name === 'codex') {
        const item = client.answer(body, scenario);
        answer = { status: 200, type: 'text/event-stream', text: responsesStream(model, item), summary: `responses SSE ${item.type}` };
      } else if (req.method === 'GET' && url.pathname === '/v1/models') {
        answer = { status: 200, type: 'application/json', text: JSON.stringify({ object: 'list', data: [{ id: 'qwen3-coder-plus', object: 'model', created: 0, owned_by: 'qwen' }] }), summary: 'models list' };
      } else {
        answer = { status: 404, type: 'application/json', text: JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'capture server: not served' } }), summary: '404' };
      }
      const record = { seq, scenario, method: req.method, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: maskHeaders(req.headers), body, capture_server_answered: answer.summary };
      const slug = url.pathname.replace(/^\//, '').replace(/[^a-z0-9]+/gi, '_');
      await writeFile(path.join(outDir, `${scenario}-${String(seq).padStart(2, '0')}-${req.method}-${slug}.json`), JSON.stringify(record, null, 2) + '\n');
      res.writeHead(answer.status, { 'content-type': answer.type, 'request-id': `req_capture${seq}`, 'x-request-id': `req_capture${seq}` });
      res.end(answer.text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
  const result = await client.run(bin, `http://127.0.0.1:${port}`, scenario);
  server.closeAllConnections();
  server.close();
  console.log(`== ${name} ${scenario}: exit ${result.code ?? result.signal} after ${result.ms} ms, ${n} requests`);
  console.log(`-- stdout:\n${result.stdout}\n-- stderr:\n${result.stderr.slice(-4000)}`);
}

const names = process.argv.slice(2).filter((a) => a in CLIENTS);
for (const name of names.length > 0 ? names : Object.keys(CLIENTS)) {
  for (const scenario of CLIENTS[name].scenarios) await capture(name, scenario);
}
