import type { Deps } from '../deps.ts';

/**
 * GET /health: liveness only. No auth, and nothing about accounts or configuration except whether
 * client keys guard the gateway ("auth": "key") or it is open to local clients ("open").
 */
export async function health(_request: Request, deps: Deps): Promise<Response> {
  return Response.json({
    status: 'ok',
    uptime: Math.max(0, Math.round((deps.clock.now() - deps.startedAt) / 1000)),
    version: deps.config.version,
    auth: deps.config.apiKeys.length > 0 ? 'key' : 'open',
  });
}
