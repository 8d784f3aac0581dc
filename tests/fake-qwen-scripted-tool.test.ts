/**
 * The fake Qwen's scripted tool model (the scriptedTool knob), over real HTTP with the OpenAI SDK:
 * the client suite (tests/clients) relies on it to walk Claude Code and Codex through a tool loop.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeQwen, type FakeQwen } from './fake-qwen/index.ts';

const SHELL: ChatCompletionTool = {
  type: 'function',
  function: { name: 'Bash', parameters: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
};
const OTHER: ChatCompletionTool = { type: 'function', function: { name: 'Read', parameters: { type: 'object', properties: {} } } };
const ARGS = { command: 'echo scripted-nonce-1' };

let fake: FakeQwen;
let qwen: OpenAI;
beforeAll(async () => {
  fake = await startFakeQwen({ resourceUrlStyle: 'http-v1', scriptedTool: { name: 'Bash', arguments: ARGS } });
  const creds = fake.mintCredentials();
  qwen = new OpenAI({ baseURL: creds.resource_url, apiKey: creds.access_token, maxRetries: 0 });
});
afterAll(async () => {
  await fake.close();
});

const ask = (messages: ChatCompletionMessageParam[], tools: ChatCompletionTool[]) =>
  qwen.chat.completions.create({ model: 'coder-model', messages, tools });

describe('scriptedTool knob', () => {
  it('calls the named tool when it is offered and no tool result exists yet', async () => {
    const answer = await ask([{ role: 'user', content: 'run it' }], [OTHER, SHELL]);
    const choice = answer.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0]!;
    expect(call.type === 'function' && call.function.name).toBe('Bash');
    expect(call.type === 'function' && JSON.parse(call.function.arguments)).toEqual(ARGS);
    expect(call.id).toMatch(/^call_/);
  });

  it('streams the call as an opening delta and argument fragments that join to the arguments', async () => {
    const stream = await qwen.chat.completions.create({ model: 'coder-model', messages: [{ role: 'user', content: 'run it' }], tools: [SHELL], stream: true });
    let name = '';
    let args = '';
    let fragments = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      for (const delta of choice?.delta.tool_calls ?? []) {
        name += delta.function?.name ?? '';
        args += delta.function?.arguments ?? '';
        fragments += 1;
      }
      finish = choice?.finish_reason ?? finish;
    }
    expect(name).toBe('Bash');
    expect(JSON.parse(args)).toEqual(ARGS);
    expect(fragments).toBeGreaterThan(2);
    expect(finish).toBe('tool_calls');
  });

  it('quotes the tool result when tool messages follow the last assistant turn', async () => {
    const history: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'run it' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'Bash', arguments: JSON.stringify(ARGS) } }] },
      { role: 'tool', tool_call_id: 'call_1', content: [{ type: 'text', text: 'scripted-nonce-1\n' }] },
    ];
    const answer = await ask(history, [SHELL]);
    expect(answer.choices[0]!.finish_reason).toBe('stop');
    expect(answer.choices[0]!.message.content).toBe('Tool result: scripted-nonce-1');
    expect(answer.choices[0]!.message.tool_calls ?? []).toHaveLength(0);
    // A client may add a user note after the results (Claude Code's reminders): still the quoting step.
    const withNote = await ask([...history, { role: 'user', content: 'note' }], [SHELL]);
    expect(withNote.choices[0]!.message.content).toBe('Tool result: scripted-nonce-1');
  });

  it('answers as usual when the tool is not offered, and after the loop is over', async () => {
    const plain = await ask([{ role: 'user', content: 'hello there' }], [OTHER]);
    expect(plain.choices[0]!.message.content).toBe('Echo: hello there');
    const later = await ask(
      [
        { role: 'user', content: 'run it' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'done' },
        { role: 'assistant', content: 'Tool result: done' },
        { role: 'user', content: 'thanks' },
      ],
      [SHELL],
    );
    expect(later.choices[0]!.message.content).toBe('Echo: thanks');
  });

  it('is off by default and settable over the control endpoint like every knob', async () => {
    const other = await startFakeQwen();
    try {
      expect(other.scenario.scriptedTool).toBeNull();
      const res = await fetch(`${other.oauthUrl}/__fake/scenario`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ scriptedTool: { name: 'exec_command', arguments: { cmd: 'echo hi' } } }),
      });
      expect(res.status).toBe(200);
      expect(other.scenario.scriptedTool).toEqual({ name: 'exec_command', arguments: { cmd: 'echo hi' } });
    } finally {
      await other.close();
    }
  });
});
