import type { ResponseStore } from '../lib/responses/response-store.ts';
import type { QwenResponses } from './qwen-responses.ts';

type ResponsesStub = Pick<QwenResponses, 'get' | 'put' | 'delete'>;

/** The slice of the QWEN_RESPONSES binding used here (tests pass a fake). */
export type ResponsesNamespace = { idFromName(name: string): DurableObjectId; get(id: DurableObjectId): ResponsesStub };

/** Stored responses on Cloudflare: each in its own QwenResponses Durable Object, named by its id. */
export class DurableObjectResponses implements ResponseStore {
  readonly name = 'durable-object';

  constructor(private readonly namespace: ResponsesNamespace) {}

  /** A stub per call: workerd refuses I/O through a stub another request created. */
  #stub(id: string): ResponsesStub {
    return this.namespace.get(this.namespace.idFromName(id));
  }

  get(id: string): Promise<string | null> {
    return this.#stub(id).get();
  }

  put(id: string, record: string, ttlMs: number): Promise<void> {
    return this.#stub(id).put(record, ttlMs);
  }

  delete(id: string): Promise<boolean> {
    return this.#stub(id).delete();
  }
}
