/** The Responses API's schemas come from OpenAI's own spec, carried in the repository (openai-schema.ts). */
export { validateResponsesSchema, type ResponsesSchemaName } from './openai-schema.ts';
