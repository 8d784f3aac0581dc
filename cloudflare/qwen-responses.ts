import { DurableObject } from 'cloudflare:workers';
import type { Env } from './env.ts';

interface Entry {
  record: string;
  expiresAt: number;
}

/**
 * One stored Responses API response (the worker addresses it by `idFromName(responseId)`), kept in
 * the object's own storage: KV's free plan allows 1,000 writes a day and would run out with the
 * first busy hour, while a Durable Object write is cheap. One object per response also means no
 * response ever waits behind another. The object wipes itself with an alarm when the record
 * expires; a read past the expiry finds nothing even before the alarm has run.
 */
export class QwenResponses extends DurableObject<Env> {
  get #storage(): DurableObjectStorage {
    return this.ctx.storage;
  }

  async get(): Promise<string | null> {
    const entry = await this.#storage.get<Entry>('entry');
    return entry && entry.expiresAt > Date.now() ? entry.record : null;
  }

  async put(record: string, ttlMs: number): Promise<void> {
    const expiresAt = Date.now() + ttlMs;
    await this.#storage.put<Entry>('entry', { record, expiresAt });
    await this.#storage.setAlarm(expiresAt);
  }

  async delete(): Promise<boolean> {
    const existed = (await this.get()) !== null;
    await this.#storage.deleteAll();
    return existed;
  }

  override async alarm(): Promise<void> {
    await this.#storage.deleteAll();
  }
}
