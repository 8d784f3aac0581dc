import type { Clock } from '../clock.ts';
import type { Store, StoreSetOptions } from './store.ts';
import { addCounters, parseCounters, plainCounters } from './counter-record.ts';

interface Entry {
  value: string;
  expiresAt: number | undefined;
}

/** A process-local store. Atomic within the process; gone when the process (isolate) is. */
export class MemoryStore implements Store {
  readonly name = 'memory';
  readonly atomicSetIfAbsent = true;
  readonly #entries = new Map<string, Entry>();
  readonly #clock: Clock;

  constructor(clock: Clock = { now: () => Date.now() }) {
    this.#clock = clock;
  }

  #live(key: string): Entry | undefined {
    const entry = this.#entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }

  async get(key: string): Promise<string | null> {
    return this.#live(key)?.value ?? null;
  }

  async set(key: string, value: string, options?: StoreSetOptions): Promise<void> {
    const ttl = options?.ttlMs;
    this.#entries.set(key, { value, expiresAt: ttl === undefined ? undefined : this.#clock.now() + ttl });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async setIfAbsent(key: string, value: string, options?: StoreSetOptions): Promise<boolean> {
    if (this.#live(key)) return false;
    await this.set(key, value, options);
    return true;
  }

  async deleteIfValue(key: string, value: string): Promise<boolean> {
    if (this.#live(key)?.value !== value) return false;
    this.#entries.delete(key);
    return true;
  }

  async extendIfValue(key: string, value: string, ttlMs: number): Promise<boolean> {
    const entry = this.#live(key);
    if (entry?.value !== value) return false;
    entry.expiresAt = this.#clock.now() + ttlMs;
    return true;
  }

  async incrementFields(key: string, deltas: Record<string, number>, options?: StoreSetOptions): Promise<Record<string, number>> {
    const next = addCounters(parseCounters(this.#live(key)?.value), deltas);
    await this.set(key, JSON.stringify(next), options);
    return plainCounters(next);
  }

  async getFields(key: string): Promise<Record<string, number>> {
    return plainCounters(parseCounters(this.#live(key)?.value));
  }
}
