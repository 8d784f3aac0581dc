// The one runtime module the Worker entry uses, declared minimally so the project type-checks
// against DOM types instead of pulling @cloudflare/workers-types (which Miniflare's own typings
// use in the tests) into every file of lib/.
declare module 'cloudflare:workers' {
  export abstract class DurableObject<Env = unknown> {
    protected ctx: {
      storage: import('../lib/store/durable-object-store.ts').DurableObjectStorageLike;
      waitUntil(promise: Promise<unknown>): void;
    };
    protected env: Env;
    constructor(ctx: unknown, env: Env);
  }
}
