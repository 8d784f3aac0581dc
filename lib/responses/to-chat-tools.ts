import { invalidRequest } from '../errors.ts';

type Json = Record<string, unknown>;

/** What a name Qwen calls stands for on the client's side. */
export interface ClientTool {
  name: string;
  namespace?: string;
  /** A freeform (`custom`) tool: its input is one raw string, not JSON arguments. */
  custom: boolean;
}

/** Qwen's flat function names, each mapped back to the client's tool. */
export type ToolNames = Map<string, ClientTool>;

/** The one string parameter a freeform tool is offered with. */
export const CUSTOM_INPUT_PARAMETER = 'input';

/**
 * Responses tools → Chat Completions tools Qwen can call:
 * - `function` → a chat function (`strict` is dropped later by the shaper: Qwen has no strict mode);
 * - `custom` (freeform, e.g. Codex's apply_patch with a Lark grammar) → a function with one string
 *   parameter, its grammar in the description so the model knows the format; the call goes back
 *   as a `custom_tool_call` whose `input` is that string;
 * - `namespace` groups (MCP servers in Codex) → their tools, flattened as `<namespace>__<name>`
 *   and restored in the answer;
 * - hosted tools Qwen cannot run (web_search, image_generation, local_shell, tool_search, file
 *   search, computer use, MCP connectors, ...) → dropped: refusing them would break every Codex
 *   request, and the model simply does not see them.
 */
export function toChatTools(tools: unknown): { tools: Json[]; names: ToolNames } {
  const names: ToolNames = new Map();
  const out: Json[] = [];
  if (tools === undefined || tools === null) return { tools: out, names };
  if (!Array.isArray(tools)) throw invalidRequest("Invalid type for 'tools': must be an array.", 'tools', 'invalid_type');
  tools.forEach((tool, index) => {
    if (!isObject(tool)) throw invalidRequest(`Invalid type for 'tools[${index}]': must be an object.`, `tools[${index}]`, 'invalid_type');
    if (tool.type === 'namespace') {
      const namespace = requireName(tool, `tools[${index}]`);
      const inner = Array.isArray(tool.tools) ? tool.tools : [];
      inner.forEach((member, memberIndex) => {
        if (isObject(member)) addTool(member, `tools[${index}].tools[${memberIndex}]`, out, names, namespace);
      });
      return;
    }
    addTool(tool, `tools[${index}]`, out, names, undefined);
  });
  return { tools: out, names };
}

function addTool(tool: Json, at: string, out: Json[], names: ToolNames, namespace: string | undefined): void {
  if (tool.type !== 'function' && tool.type !== 'custom') return;
  const name = requireName(tool, at);
  const flat = namespace === undefined ? name : `${namespace}__${name}`;
  const custom = tool.type === 'custom';
  names.set(flat, { name, custom, ...(namespace === undefined ? {} : { namespace }) });
  const description = typeof tool.description === 'string' ? tool.description : undefined;
  if (!custom) {
    const parameters = isObject(tool.parameters) ? tool.parameters : { type: 'object', properties: {} };
    out.push({ type: 'function', function: { name: flat, ...(description === undefined ? {} : { description }), parameters } });
    return;
  }
  out.push({
    type: 'function',
    function: {
      name: flat,
      description: customDescription(description, tool.format),
      parameters: {
        type: 'object',
        properties: { [CUSTOM_INPUT_PARAMETER]: { type: 'string', description: 'The whole raw input of this tool, as one string.' } },
        required: [CUSTOM_INPUT_PARAMETER],
      },
    },
  });
}

function customDescription(description: string | undefined, format: unknown): string {
  const parts = [description ?? 'A freeform tool.', `Pass the tool's raw input as the single string parameter \`${CUSTOM_INPUT_PARAMETER}\`.`];
  if (isObject(format) && format.type === 'grammar' && typeof format.definition === 'string') {
    const syntax = typeof format.syntax === 'string' ? format.syntax : 'grammar';
    parts.push(`The input must match this ${syntax} grammar:\n${format.definition}`);
  }
  return parts.join('\n\n');
}

/**
 * tool_choice in the Responses shape → the chat shape: the modes pass as they are; a named
 * function or custom tool becomes a named function (flattened when namespaced); `allowed_tools`
 * keeps its mode (every tool stays offered, which keeps Qwen's prompt cache warm); a hosted tool
 * Qwen does not have falls back to `auto`.
 */
export function toChatToolChoice(choice: unknown, names: ToolNames): unknown {
  if (choice === undefined || choice === null) return undefined;
  if (typeof choice === 'string') return choice;
  if (!isObject(choice)) throw invalidRequest("Invalid type for 'tool_choice': must be a string or an object.", 'tool_choice', 'invalid_type');
  if ((choice.type === 'function' || choice.type === 'custom') && typeof choice.name === 'string') {
    const flat = typeof choice.namespace === 'string' ? `${choice.namespace}__${choice.name}` : choice.name;
    if (!names.has(flat)) throw invalidRequest(`tool_choice names '${choice.name}', which is not among the request's tools.`, 'tool_choice');
    return { type: 'function', function: { name: flat } };
  }
  if (choice.type === 'allowed_tools') return choice.mode === 'required' ? 'required' : 'auto';
  return 'auto';
}

/** The name Qwen knows a call from the history by (flattened when it came from a namespace). */
export function flatToolName(item: Json): string {
  const name = typeof item.name === 'string' ? item.name : '';
  return typeof item.namespace === 'string' && item.namespace !== '' ? `${item.namespace}__${name}` : name;
}

function requireName(tool: Json, at: string): string {
  if (typeof tool.name === 'string' && tool.name !== '') return tool.name;
  throw invalidRequest(`Missing required parameter: '${at}.name'.`, `${at}.name`, 'missing_required_parameter');
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
