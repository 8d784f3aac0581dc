type Message = Record<string, unknown>;

/**
 * Qwen accepts the roles system, user, assistant and tool only ("messages[0].role must be one of
 * system, user, assistant, tool"), while OpenAI clients also send:
 * - `developer` (OpenAI's newer name for system, sent by o-series-aware clients): becomes `system`;
 * - legacy function calling, `assistant.function_call` followed by a `function` message: becomes
 *   the equivalent tool call and `tool` answer, paired by a synthesised id.
 * Messages that need no change are passed as the same objects.
 */
export function toQwenMessages(messages: readonly Message[]): Message[] {
  const pendingCalls = new Map<string, string[]>();
  let synthesised = 0;
  return messages.map((message) => {
    if (message.role === 'developer') return { ...message, role: 'system' };
    if (message.role === 'assistant' && isObject(message.function_call) && message.tool_calls == null) {
      const { function_call, ...rest } = message;
      const id = `call_fn_${synthesised++}`;
      const name = String(function_call.name ?? '');
      pendingCalls.set(name, [...(pendingCalls.get(name) ?? []), id]);
      return { ...rest, tool_calls: [{ id, type: 'function', function: { name, arguments: function_call.arguments ?? '' } }] };
    }
    if (message.role === 'function') {
      const name = String(message.name ?? '');
      const id = pendingCalls.get(name)?.shift() ?? `call_fn_${synthesised++}`;
      const { name: _name, ...rest } = message;
      return { ...rest, role: 'tool', tool_call_id: id };
    }
    return message;
  });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
