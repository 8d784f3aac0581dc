import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { GatewayError } from '../../lib/errors.ts';
import { completionToResponse, newResponseContext } from '../../lib/responses/response-object.ts';
import { toChatRequest, validateResponsesRequest } from '../../lib/responses/to-chat-request.ts';
import { toChatTools } from '../../lib/responses/to-chat-tools.ts';
import { shapeQwenBody } from '../../lib/qwen/shape-qwen-body.ts';
import { QWEN_MODEL_LIMITS } from '../../lib/qwen/model-limits.ts';
import { validateResponsesSchema } from '../support/responses-schema.ts';

type Json = Record<string, any>;
const translate = (body: Json, history?: unknown[]) => toChatRequest(validateResponsesRequest(body), history);
const refusal = (body: unknown) => {
  try {
    toChatRequest(validateResponsesRequest(body));
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).status).toBe(400);
    return (error as GatewayError).message;
  }
  throw new Error('not refused');
};

describe('Responses request → Qwen chat body', () => {
  test('a string input with instructions: the instructions are the first system message', () => {
    const { chat } = translate({ model: 'coder-model', instructions: 'be brief', input: 'hi', max_output_tokens: 50, temperature: 0.2, top_p: 0.9 });
    expect(chat).toMatchObject({ messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], max_tokens: 50, temperature: 0.2, top_p: 0.9, stream: false });
  });

  test('developer and system messages anywhere join the one leading system message; one text part is sent as a string', () => {
    const { chat } = translate({
      instructions: 'rules',
      input: [
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'dev one' }] },
        { role: 'user', content: [{ type: 'input_text', text: 'question' }] },
        { type: 'message', role: 'system', content: 'late system' },
        { role: 'user', content: [{ type: 'input_text', text: 'look' }, { type: 'input_image', image_url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' }] },
        { role: 'assistant', content: [{ type: 'output_text', text: 'answer' }] },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'system', content: 'rules\n\ndev one\n\nlate system' },
      { role: 'user', content: 'question' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=', detail: 'high' } }] },
      { role: 'assistant', content: 'answer' },
    ]);
  });

  test('tool history: calls join the assistant turn, outputs become tool messages, reasoning and hosted-tool items are dropped', () => {
    const { chat } = translate({
      tools: [{ type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'mcp', tools: [{ type: 'function', name: 'ping' }] }],
      input: [
        { role: 'user', content: 'go' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'hmm' }], encrypted_content: 'opaque' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'on it' }] },
        { type: 'function_call', call_id: 'c1', name: 'exec_command', arguments: '{"cmd":"ls"}', id: 'fc_1', status: 'completed' },
        { type: 'custom_tool_call', call_id: 'c2', name: 'apply_patch', input: '*** Begin Patch' },
        { type: 'function_call', call_id: 'c3', namespace: 'mcp', name: 'ping', arguments: '' },
        { type: 'function_call_output', call_id: 'c1', output: 'a\nb' },
        { type: 'custom_tool_call_output', call_id: 'c2', output: 'Done!' },
        { type: 'function_call_output', call_id: 'c3', output: [{ type: 'input_text', text: 'pong' }, { type: 'input_image', image_url: 'https://x/y.png' }] },
        { type: 'web_search_call', id: 'ws_1', status: 'completed' },
        { role: 'user', content: 'next' },
      ],
    });
    expect(chat.messages).toEqual([
      { role: 'user', content: 'go' },
      {
        role: 'assistant',
        content: 'on it',
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'exec_command', arguments: '{"cmd":"ls"}' } },
          { id: 'c2', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch"}' } },
          { id: 'c3', type: 'function', function: { name: 'mcp__ping', arguments: '{}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: 'a\nb' },
      { role: 'tool', tool_call_id: 'c2', content: 'Done!' },
      { role: 'tool', tool_call_id: 'c3', content: 'pong' },
      { role: 'user', content: [{ type: 'text', text: 'Images returned by the tool calls above:' }, { type: 'image_url', image_url: { url: 'https://x/y.png' } }] },
      { role: 'user', content: 'next' },
    ]);
  });

  test('tools: functions (strict accepted), custom tools as one string parameter with their grammar, namespaces flattened, hosted tools dropped', () => {
    const { chat, names } = translate({
      input: 'x',
      tool_choice: { type: 'custom', name: 'apply_patch' },
      parallel_tool_calls: false,
      tools: [
        { type: 'function', name: 'exec_command', strict: false, parameters: { type: 'object', properties: { cmd: { type: 'string' } } } },
        { type: 'custom', name: 'apply_patch', description: 'Patch files.', format: { type: 'grammar', syntax: 'lark', definition: 'start: begin_patch' } },
        { type: 'namespace', name: 'multi_agent_v1', description: 'agents', tools: [{ type: 'function', name: 'close_agent', parameters: { type: 'object', properties: {} } }] },
        { type: 'web_search', external_web_access: false },
        { type: 'image_generation' },
        { type: 'local_shell' },
        { type: 'tool_search', execution: 'client' },
      ],
    });
    expect((chat.tools as Json[]).map((t) => t.function.name)).toEqual(['exec_command', 'apply_patch', 'multi_agent_v1__close_agent']);
    const custom = (chat.tools as Json[])[1]!.function;
    expect(custom.parameters).toEqual({ type: 'object', properties: { input: { type: 'string', description: expect.any(String) } }, required: ['input'] });
    expect(custom.description).toContain('Patch files.');
    expect(custom.description).toContain('lark grammar:\nstart: begin_patch');
    expect(chat.tool_choice).toEqual({ type: 'function', function: { name: 'apply_patch' } });
    expect(chat.parallel_tool_calls).toBe(false);
    expect(names.get('multi_agent_v1__close_agent')).toEqual({ name: 'close_agent', namespace: 'multi_agent_v1', custom: false });
    // Through the shaper as Qwen gets it: no strict, schema intact.
    const shaped = shapeQwenBody({ ...chat, model: 'coder-model' }, { stream: false, oauth: false, sessionId: 's', promptId: 'p', modelLimits: QWEN_MODEL_LIMITS });
    expect((shaped.tools as Json[])[0]!.function).not.toHaveProperty('strict');
  });

  test('tool_choice modes, allowed_tools and hosted choices', () => {
    const tools = [{ type: 'function', name: 'f' }];
    expect(translate({ input: 'x', tools, tool_choice: 'required' }).chat.tool_choice).toBe('required');
    expect(translate({ input: 'x', tools, tool_choice: { type: 'allowed_tools', mode: 'required', tools: [] } }).chat.tool_choice).toBe('required');
    expect(translate({ input: 'x', tools, tool_choice: { type: 'web_search' } }).chat.tool_choice).toBe('auto');
    // Only hosted tools: nothing to offer, nothing to choose.
    expect(translate({ input: 'x', tools: [{ type: 'web_search' }], tool_choice: 'auto' }).chat).not.toHaveProperty('tool_choice');
    expect(refusal({ input: 'x', tools, tool_choice: { type: 'function', name: 'nope' } })).toMatch(/nope/);
  });

  test('reasoning effort goes to the shaper as Qwen thinking; text.format becomes response_format', () => {
    const { chat } = translate({ input: 'x', reasoning: { effort: 'low', summary: 'auto' }, text: { verbosity: 'low', format: { type: 'json_schema', name: 'out', strict: true, schema: { type: 'object' } } } });
    expect(chat.reasoning).toEqual({ effort: 'low' });
    expect(chat.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'out', strict: true, schema: { type: 'object' } } });
    const shaped = shapeQwenBody({ ...chat, model: 'coder-model' }, { stream: false, oauth: false, sessionId: 's', promptId: 'p', modelLimits: QWEN_MODEL_LIMITS });
    expect(shaped).toMatchObject({ enable_thinking: true, thinking_budget: 1024 });
    expect(shaped).not.toHaveProperty('reasoning');
    expect(translate({ input: 'x', text: { format: { type: 'json_object' } } }).chat.response_format).toEqual({ type: 'json_object' });
    expect(translate({ input: 'x', text: { format: { type: 'text' } } }).chat).not.toHaveProperty('response_format');
  });

  // A trimmed copy (long texts cut) of the second request of Codex 0.171.0's tool loop, as recorded
  // against a local server (branch issue-clients, tests/fixtures/clients/codex-0.171.0/tool-02-…).
  test("Codex's recorded request is accepted as it is", () => {
    const codex = JSON.parse(readFileSync(new URL('../fixtures/responses/codex-tool-loop-request.json', import.meta.url), 'utf8'));
    const { chat, names } = translate(codex);
    expect(chat.messages[0]!.role).toBe('system');
    expect(chat.messages.filter((m: Json) => m.role === 'system')).toHaveLength(1);
    expect(chat.messages.slice(-2).map((m: Json) => m.role)).toEqual(['assistant', 'tool']);
    expect(names.get('multi_agent_v1__close_agent')?.namespace).toBe('multi_agent_v1');
    expect((chat.tools as Json[]).every((t) => t.type === 'function')).toBe(true);
  });

  test('previous items come before this input', () => {
    const { chat } = translate({ input: 'second' }, [
      { type: 'message', role: 'user', content: 'first' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'one' }] },
    ]);
    expect(chat.messages).toEqual([{ role: 'user', content: 'first' }, { role: 'assistant', content: 'one' }, { role: 'user', content: 'second' }]);
  });

  test('what cannot be honoured is a 400 that says why', () => {
    expect(refusal([1])).toMatch(/JSON object/);
    expect(refusal({ input: 5 })).toMatch(/input/);
    expect(refusal({ instructions: 'only' })).toMatch(/input/);
    expect(refusal({ input: [{ role: 'wizard', content: 'x' }] })).toMatch(/role/);
    expect(refusal({ input: [{ type: 'function_call_output', output: 'x' }] })).toMatch(/call_id/);
    expect(refusal({ input: [{ type: 'item_reference', id: 'msg_1' }] })).toMatch(/item_reference/);
    expect(refusal({ input: [{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }] })).toMatch(/image_url/);
    expect(refusal({ input: 'x', background: true })).toMatch(/Background/);
    expect(refusal({ input: 'x', max_output_tokens: -3 })).toMatch(/max_output_tokens/);
    expect(refusal({ input: 'x', stream: 'yes' })).toMatch(/stream/);
  });
});

describe('chat completion → Response', () => {
  test('reasoning, text and both kinds of tool call, with usage', () => {
    const { names } = toChatTools([{ type: 'custom', name: 'apply_patch' }, { type: 'namespace', name: 'mcp', tools: [{ type: 'function', name: 'ping' }] }]);
    const ctx = newResponseContext({ input: 'x', store: false }, 'coder-model', names, false, 1_700_000_000_000);
    const response = completionToResponse(
      {
        choices: [
          {
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              content: 'Patching.',
              reasoning_content: 'think',
              tool_calls: [
                { id: 'call_a', type: 'function', function: { name: 'apply_patch', arguments: '{"input":"*** Begin Patch\\n"}' } },
                { id: 'call_b', type: 'function', function: { name: 'mcp__ping', arguments: '{}' } },
              ],
            },
          },
        ],
        usage: { prompt_tokens: 3, completion_tokens: 4, total_tokens: 7 },
      },
      ctx,
      1_700_000_001_000,
    );
    validateResponsesSchema('Response', response);
    expect(response).toMatchObject({ object: 'response', status: 'completed', store: false, created_at: 1_700_000_000, completed_at: 1_700_000_001, usage: { input_tokens: 3, output_tokens: 4, total_tokens: 7 } });
    expect(response.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect((response.output as Json[]).map((i) => i.type)).toEqual(['reasoning', 'message', 'custom_tool_call', 'function_call']);
    expect((response.output as Json[])[2]).toMatchObject({ call_id: 'call_a', name: 'apply_patch', input: '*** Begin Patch\n' });
    expect((response.output as Json[])[3]).toMatchObject({ call_id: 'call_b', namespace: 'mcp', name: 'ping', arguments: '{}' });
  });
});
