import { MemoryStore } from '../../lib/store/memory-store.ts';
import { defineStoreContract } from './store-contract.ts';

defineStoreContract(
  'memory',
  async () => {
    let now = 1_700_000_000_000;
    const store = new MemoryStore({ now: () => now });
    return { store, cleanup: async () => {}, advanceClock: (ms: number) => void (now += ms) };
  },
  { expiry: { kind: 'clock' } },
);
