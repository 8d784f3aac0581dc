/**
 * The scripted model of the `scriptedTool` knob: it plays an agent's model through one tool round
 * trip, so a real coding agent (Claude Code, Codex) can be driven end to end through the gateway.
 *   - the request offers a tool named `name` and no tool result is in the messages yet: one call to
 *     that tool with `arguments` (streamed like [[tools]] calls), finish_reason "tool_calls";
 *   - tool results follow the last assistant message: a text that quotes them,
 *     "Tool result: <content>" (several joined by newlines);
 *   - anything else: the usual reply.
 */
import { randomBytes } from 'node:crypto';
import { contentText, countTokens, pieces, words, type Reply } from './generate-reply.ts';

export interface ScriptedTool {
  /** The tool to call, as the client names it (e.g. Claude Code's "Bash", Codex's "exec_command"). */
  name: string;
  /** Its arguments, sent as the call's JSON string. */
  arguments: Record<string, unknown>;
}

export const TOOL_RESULT_PREFIX = 'Tool result: ';

type Message = Record<string, unknown>;

function offersTool(tools: unknown, name: string): boolean {
  return Array.isArray(tools) && tools.some((t: { function?: { name?: unknown } } | null) => t?.function?.name === name);
}

/** `reply` (the fake's ordinary answer to `body`) replaced by the scripted step, when one applies. */
export function applyScriptedTool(reply: Reply, body: { messages?: unknown; tools?: unknown }, script: ScriptedTool | null): Reply {
  if (script === null) return reply;
  const messages = Array.isArray(body.messages) ? (body.messages as Message[]) : [];
  const lastAssistant = messages.findLastIndex((m) => m.role === 'assistant');
  const results = messages.slice(lastAssistant + 1).filter((m) => m.role === 'tool');

  if (results.length > 0) {
    const text = TOOL_RESULT_PREFIX + results.map((m) => contentText(m.content).trim()).join('\n');
    const contentChunks = words(text);
    return { ...reply, contentChunks, toolCalls: [], finishReason: 'stop', completionTokens: countTokens(reply.reasoningChunks.join('') + text) };
  }
  if (offersTool(body.tools, script.name) && !messages.some((m) => m.role === 'tool')) {
    const args = JSON.stringify(script.arguments);
    const call = { id: `call_${randomBytes(12).toString('hex')}`, streamIndex: 0, name: script.name, arguments: args, fragments: pieces(args, 7) };
    return { ...reply, contentChunks: [], toolCalls: [call], finishReason: 'tool_calls', completionTokens: countTokens(reply.reasoningChunks.join('') + script.name + args) };
  }
  return reply;
}
