import { describe, expect, test, vi } from 'vitest';
import { InFlightRequests } from '../../lib/http/in-flight-requests.ts';
import { createDeps } from '../../lib/create-deps.ts';
import { handle } from '../../lib/handle.ts';
import { MemoryStore } from '../../lib/store/memory-store.ts';
import { silentLogger } from '../../lib/logger.ts';

describe('InFlightRequests', () => {
  test('work is handed to every request in flight, and to none that has finished', () => {
    const requests = new InFlightRequests();
    const a = vi.fn();
    const b = vi.fn();
    const leaveA = requests.enter(a);
    const leaveB = requests.enter(b);
    const work = Promise.resolve();
    requests.keep(work);
    expect(a).toHaveBeenCalledWith(work);
    expect(b).toHaveBeenCalledWith(work);
    leaveA();
    requests.keep(Promise.resolve());
    expect(a).toHaveBeenCalledTimes(1);
    expect(b).toHaveBeenCalledTimes(2);
    leaveB();
  });

  test('handle() registers a request for its lifetime only', async () => {
    const deps = createDeps({ env: { OPENAI_API_KEY: 'k' }, store: new MemoryStore(), logger: silentLogger });
    const waitUntil = vi.fn();
    const seen: number[] = [];
    const enter = deps.inFlight!.enter.bind(deps.inFlight);
    deps.inFlight!.enter = (host) => {
      const leave = enter(host);
      // While the request runs, work reaches its waitUntil.
      deps.inFlight!.keep(Promise.resolve('during'));
      seen.push(waitUntil.mock.calls.length);
      return leave;
    };
    const res = await handle(new Request('http://gateway/health'), { ...deps, waitUntil });
    expect(res.status).toBe(200);
    expect(seen).toEqual([1]);
    deps.inFlight!.keep(Promise.resolve('after'));
    expect(waitUntil).toHaveBeenCalledTimes(1);
  });
});
