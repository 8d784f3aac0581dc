import { Ajv, type ValidateFunction } from 'ajv';

/**
 * The Responses API's shapes, as a validator the e2e and unit tests check every answer and event
 * against. STOPGAP: these are the required fields and types of OpenAI's own schemas (Response,
 * OutputItem, ResponseUsage and each stream event the gateway sends, openai-openapi.yaml 2.3.0),
 * written out by hand because tests may not read ../shared. The test-suite issue carries OpenAI's
 * schemas into the repository (tests/fixtures/openai-schemas.json) with the same entry point,
 * `validateResponsesSchema(name, value)`; once it is merged, this file becomes a re-export of that
 * one and every caller is checked against the real schemas unchanged.
 */
export type ResponsesSchemaName = 'Response' | 'ResponseStreamEvent';

const str = { type: 'string' };
const int = { type: 'integer' };
const strOrNull = { type: ['string', 'null'] };
const obj = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', required, properties });
const constant = (value: string) => ({ type: 'string', const: value });

const outputText = obj(['type', 'text', 'annotations', 'logprobs'], { type: constant('output_text'), text: str, annotations: { type: 'array' }, logprobs: { type: 'array' } });
const summaryText = obj(['type', 'text'], { type: constant('summary_text'), text: str });
const itemStatus = { type: 'string', enum: ['in_progress', 'completed', 'incomplete'] };

const outputItem = {
  oneOf: [
    obj(['id', 'type', 'role', 'content', 'status'], { id: str, type: constant('message'), role: constant('assistant'), status: itemStatus, content: { type: 'array', items: outputText } }),
    obj(['type', 'call_id', 'name', 'arguments'], { id: str, type: constant('function_call'), call_id: str, name: str, namespace: str, arguments: str, status: itemStatus }),
    obj(['type', 'call_id', 'name', 'input'], { id: str, type: constant('custom_tool_call'), call_id: str, name: str, namespace: str, input: str }),
    obj(['id', 'summary', 'type'], { id: str, type: constant('reasoning'), summary: { type: 'array', items: summaryText }, encrypted_content: strOrNull }),
  ],
};

const usage = obj(['input_tokens', 'input_tokens_details', 'output_tokens', 'output_tokens_details', 'total_tokens'], {
  input_tokens: int,
  input_tokens_details: obj(['cached_tokens', 'cache_write_tokens'], { cached_tokens: int, cache_write_tokens: int }),
  output_tokens: int,
  output_tokens_details: obj(['reasoning_tokens'], { reasoning_tokens: int }),
  total_tokens: int,
});

const response = obj(
  ['id', 'object', 'created_at', 'error', 'incomplete_details', 'instructions', 'model', 'tools', 'output', 'parallel_tool_calls', 'metadata', 'tool_choice', 'temperature', 'top_p'],
  {
    id: { type: 'string', pattern: '^resp_' },
    object: constant('response'),
    created_at: int,
    completed_at: { type: ['integer', 'null'] },
    status: { type: 'string', enum: ['completed', 'failed', 'in_progress', 'cancelled', 'queued', 'incomplete'] },
    error: { anyOf: [{ type: 'null' }, obj(['code', 'message'], { code: str, message: str })] },
    incomplete_details: { anyOf: [{ type: 'null' }, obj([], { reason: { type: 'string', enum: ['max_output_tokens', 'content_filter'] } })] },
    model: str,
    output: { type: 'array', items: outputItem },
    // FunctionTool requires `strict` and `parameters` (each may be null); NamespaceToolParam a description.
    tools: {
      type: 'array',
      items: {
        allOf: [
          { if: obj(['type'], { type: constant('function') }), then: { required: ['name', 'strict', 'parameters'] } },
          { if: obj(['type'], { type: constant('namespace') }), then: { required: ['name', 'description', 'tools'] } },
        ],
      },
    },
    parallel_tool_calls: { type: 'boolean' },
    metadata: { type: ['object', 'null'] },
    temperature: { type: ['number', 'null'] },
    top_p: { type: ['number', 'null'] },
    usage,
    user: str,
  },
);

const where = { item_id: str, output_index: int };
const event = (type: string, required: string[], properties: Record<string, unknown>) =>
  obj(['type', 'sequence_number', ...required], { type: constant(type), sequence_number: int, ...properties });

const streamEvent = {
  oneOf: [
    ...['response.created', 'response.in_progress', 'response.completed', 'response.failed', 'response.incomplete'].map((type) =>
      event(type, ['response'], { response }),
    ),
    ...['response.output_item.added', 'response.output_item.done'].map((type) => event(type, ['output_index', 'item'], { output_index: int, item: outputItem })),
    ...['response.content_part.added', 'response.content_part.done'].map((type) =>
      event(type, ['item_id', 'output_index', 'content_index', 'part'], { ...where, content_index: int, part: outputText }),
    ),
    event('response.output_text.delta', ['item_id', 'output_index', 'content_index', 'delta', 'logprobs'], { ...where, content_index: int, delta: str, logprobs: { type: 'array' } }),
    event('response.output_text.done', ['item_id', 'output_index', 'content_index', 'text', 'logprobs'], { ...where, content_index: int, text: str, logprobs: { type: 'array' } }),
    event('response.function_call_arguments.delta', ['item_id', 'output_index', 'delta'], { ...where, delta: str }),
    event('response.function_call_arguments.done', ['item_id', 'name', 'output_index', 'arguments'], { ...where, name: str, arguments: str }),
    event('response.custom_tool_call_input.delta', ['item_id', 'output_index', 'delta'], { ...where, delta: str }),
    event('response.custom_tool_call_input.done', ['item_id', 'output_index', 'input'], { ...where, input: str }),
    ...['response.reasoning_summary_part.added', 'response.reasoning_summary_part.done'].map((type) =>
      event(type, ['item_id', 'output_index', 'summary_index', 'part'], { ...where, summary_index: int, part: summaryText }),
    ),
    event('response.reasoning_summary_text.delta', ['item_id', 'output_index', 'summary_index', 'delta'], { ...where, summary_index: int, delta: str }),
    event('response.reasoning_summary_text.done', ['item_id', 'output_index', 'summary_index', 'text'], { ...where, summary_index: int, text: str }),
  ],
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validators: Record<ResponsesSchemaName, ValidateFunction> = {
  Response: ajv.compile(response),
  ResponseStreamEvent: ajv.compile(streamEvent),
};

/** Throws with ajv's errors when `value` does not match the named Responses API schema. */
export function validateResponsesSchema(name: ResponsesSchemaName, value: unknown): void {
  const validate = validators[name];
  if (!validate(value)) {
    throw new Error(
      `${name} does not match the Responses schema:\n${JSON.stringify(validate.errors?.slice(0, 8), null, 2)}\nvalue: ${JSON.stringify(value).slice(0, 2000)}`,
    );
  }
}
