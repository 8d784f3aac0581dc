/**
 * The fake's own time. It runs with the wall clock plus an offset, so that token lifetimes and
 * poll intervals behave naturally, and tests jump ahead with advance() instead of sleeping.
 * freeze() stops it (every now() returns the same value) for tests that compare exact timestamps.
 */
export class FakeClock {
  private offsetMs = 0;
  private frozenAt: number | null = null;

  now(): number {
    return this.frozenAt ?? Date.now() + this.offsetMs;
  }

  advance(ms: number): void {
    if (this.frozenAt !== null) this.frozenAt += ms;
    else this.offsetMs += ms;
  }

  /** Make now() return `epochMs` from this instant on (still running unless frozen). */
  set(epochMs: number): void {
    if (this.frozenAt !== null) this.frozenAt = epochMs;
    else this.offsetMs = epochMs - Date.now();
  }

  freeze(frozen = true): void {
    if (frozen && this.frozenAt === null) this.frozenAt = this.now();
    if (!frozen && this.frozenAt !== null) {
      this.offsetMs = this.frozenAt - Date.now();
      this.frozenAt = null;
    }
  }

  reset(): void {
    this.offsetMs = 0;
    this.frozenAt = null;
  }
}
