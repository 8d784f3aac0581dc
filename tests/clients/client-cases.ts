import { randomBytes } from 'node:crypto';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { contentText } from '../fake-qwen/generate-reply.ts';
import { TOOL_RESULT_PREFIX } from '../fake-qwen/scripted-tool-model.ts';
import { useHarness } from '../e2e/harness.ts';
import type { GatewayTarget, StartTarget } from '../e2e/targets.ts';
import { ensureClient } from './install-client.mjs';
import { runClaude, runCodex, type ClientRun } from './run-client.mjs';

/**
 * The real coding agents against one host of the gateway, with the fake Qwen behind it: Claude Code
 * over /v1/messages and Codex over /v1/responses, each answering a prompt and completing a tool loop
 * in which the fake plays a model that calls the client's own shell tool.
 */
export function defineClientCases(start: StartTarget): void {
  const harness = useHarness(start);
  let gw: GatewayTarget;
  let key: string;
  let claude: string;
  let codex: string;

  beforeAll(async () => {
    [claude, codex] = await Promise.all([ensureClient('claude'), ensureClient('codex')]);
    gw = await harness.gateway();
    key = harness.keys[0]!;
  });
  beforeEach(() => {
    harness.fake.setScenario({ scriptedTool: null });
  });

  const nonce = (what: string) => `${what}-${randomBytes(4).toString('hex')}`;

  /** The run as a failure message shows it: how it ended, and the tail of what it printed. */
  const transcript = (run: ClientRun) =>
    `exit ${run.code ?? run.signal} after ${run.ms} ms\n--- stdout\n${run.stdout.slice(-3000)}\n--- stderr\n${run.stderr.slice(-3000)}`;

  /** The chat calls Qwen received during `body`, as parsed JSON. */
  async function qwenCallsDuring<T>(body: () => Promise<T>): Promise<{ result: T; calls: Array<Record<string, unknown>> }> {
    const from = harness.chatCalls().length;
    const result = await body();
    const calls = harness.chatCalls().slice(from).map((r) => r.json as Record<string, unknown>);
    return { result, calls };
  }

  type QwenMessage = { role: string; content?: unknown; tool_call_id?: string; tool_calls?: Array<{ id: string; function: { name: string } }> };
  const messagesOf = (call: Record<string, unknown>) => (call.messages ?? []) as QwenMessage[];
  const toolNames = (call: Record<string, unknown>) =>
    ((call.tools ?? []) as Array<{ function?: { name?: string } }>).map((t) => t.function?.name);

  /** Qwen got the client's shell tool, called it, and the tool's output came back as a tool message. */
  function expectToolLoopReachedQwen(calls: Array<Record<string, unknown>>, tool: string, printed: string): void {
    expect(calls.some((c) => toolNames(c).includes(tool)), `no Qwen request offered ${tool}`).toBe(true);
    const withResult = calls.find((c) => messagesOf(c).some((m) => m.role === 'tool'));
    expect(withResult, 'no Qwen request carried a tool message').toBeDefined();
    const messages = messagesOf(withResult!);
    const result = messages.find((m) => m.role === 'tool')!;
    expect(contentText(result.content)).toContain(printed);
    const caller = messages.find((m) => m.role === 'assistant' && m.tool_calls?.some((t) => t.id === result.tool_call_id));
    expect(caller?.tool_calls?.find((t) => t.id === result.tool_call_id)?.function.name).toBe(tool);
  }

  describe('Claude Code (/v1/messages)', () => {
    test('claude -p prints the answer Qwen gave', async () => {
      const word = nonce('plain');
      const { result: run, calls } = await qwenCallsDuring(() =>
        runClaude({ bin: claude, baseUrl: gw.url, apiKey: key, prompt: `Reply with the word ${word}.` }),
      );
      expect(run.code, transcript(run)).toBe(0);
      expect(run.stdout, transcript(run)).toContain(`Echo:`);
      expect(run.stdout).toContain(word);
      expect(calls.length).toBeGreaterThan(0);
    });

    test('claude -p runs the Bash call Qwen makes and hands the output back', async () => {
      const word = nonce('bash');
      harness.fake.setScenario({ scriptedTool: { name: 'Bash', arguments: { command: `echo ${word}`, description: 'Print a word' } } });
      const { result: run, calls } = await qwenCallsDuring(() =>
        runClaude({ bin: claude, baseUrl: gw.url, apiKey: key, prompt: 'Print the secret word with the shell.', allowBash: true }),
      );
      expect(run.code, transcript(run)).toBe(0);
      expect(run.stdout, transcript(run)).toContain(`${TOOL_RESULT_PREFIX}${word}`);
      expectToolLoopReachedQwen(calls, 'Bash', word);
    });
  });

  describe('Codex CLI (/v1/responses)', () => {
    test('codex exec prints the answer Qwen gave', async () => {
      const word = nonce('plain');
      const { result: run, calls } = await qwenCallsDuring(() =>
        runCodex({ bin: codex, baseUrl: `${gw.url}/v1`, apiKey: key, prompt: `Reply with the word ${word}.`, retries: 0 }),
      );
      expect(run.code, transcript(run)).toBe(0);
      expect(run.stdout, transcript(run)).toContain('Echo:');
      expect(run.stdout).toContain(word);
      expect(calls.length).toBeGreaterThan(0);
    });

    test('codex exec runs the exec_command call Qwen makes and hands the output back', async () => {
      const word = nonce('exec');
      harness.fake.setScenario({ scriptedTool: { name: 'exec_command', arguments: { cmd: `echo ${word}` } } });
      const { result: run, calls } = await qwenCallsDuring(() =>
        runCodex({ bin: codex, baseUrl: `${gw.url}/v1`, apiKey: key, prompt: 'Print the secret word with the shell.', runCommands: true, retries: 0 }),
      );
      expect(run.code, transcript(run)).toBe(0);
      expect(run.stdout, transcript(run)).toContain(TOOL_RESULT_PREFIX);
      expect(run.stdout).toContain(word);
      expectToolLoopReachedQwen(calls, 'exec_command', word);
    });
  });
}
