/**
 * The requests this isolate is serving, by their host's waitUntil. Work that must outlive the
 * request that started it (a token refresh nobody waits for any more, a credentials write being
 * retried) is handed to every request in flight: the one that started it is among them, and the host
 * keeps the isolate alive until that work ends. Without it, Vercel may freeze an isolate whose
 * last response went out while a refresh was still on the wire, which spends the refresh token.
 */
export class InFlightRequests {
  readonly #hosts = new Set<(work: Promise<unknown>) => void>();

  /** Registers a request; call the returned function when it has finished (its stream included). */
  enter(waitUntil: (work: Promise<unknown>) => void): () => void {
    const host = (work: Promise<unknown>) => waitUntil(work);
    this.#hosts.add(host);
    return () => this.#hosts.delete(host);
  }

  keep(work: Promise<unknown>): void {
    for (const host of this.#hosts) host(work);
  }
}
