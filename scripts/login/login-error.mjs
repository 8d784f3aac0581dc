// @ts-check
/**
 * An expected failure: the CLI prints `message` (never a stack trace) and exits with `exitCode`.
 * Anything else that escapes is a bug and is reported as one.
 */
export class LoginError extends Error {
  /**
   * @param {string} message  one or two sentences for the user, never containing a token
   * @param {{ exitCode?: number, cause?: unknown, transient?: boolean }} [options]
   *   `transient`: a network hiccup or a 5xx, worth another try while polling
   */
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LoginError';
    this.exitCode = options.exitCode ?? 1;
    this.transient = options.transient ?? false;
  }
}

/** Exit codes: 1 = the login failed, 2 = bad command line, 130 = interrupted (Ctrl-C), as shells do. */
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_INTERRUPTED = 130;
