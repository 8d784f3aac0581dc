import { startVercelDevServer } from '../../scripts/vercel/dev-server.mjs';
import type { StartTarget } from './targets.ts';

/**
 * The api/ functions in edge-runtime, through the same code as `npm run dev:vercel`. The env is
 * exactly the one given (not merged with the test process's), injected as the runtime's process.env.
 */
export const startVercel: StartTarget = async (env) => {
  const server = await startVercelDevServer({ env, port: 0 });
  return { name: 'vercel', url: server.url, close: () => server.close() };
};
