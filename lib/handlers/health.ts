import type { Deps } from '../deps.ts';

/**
 * GET /health: liveness only. No auth, and nothing about accounts. Of configuration, only the names
 * of the settings that are unusable (the other routes answer 503 until they are fixed), and whether
 * client keys guard the gateway ("auth": "key") or it is open to local clients ("open").
 */
export async function health(_request: Request, deps: Deps): Promise<Response> {
  const { problems } = deps.config;
  return Response.json({
    status: problems.length > 0 ? 'misconfigured' : 'ok',
    ...(problems.length > 0 ? { misconfigured: problems.map((p) => p.variable) } : {}),
    uptime: Math.max(0, Math.round((deps.clock.now() - deps.startedAt) / 1000)),
    version: deps.config.version,
    auth: deps.config.apiKeys.length > 0 ? 'key' : 'open',
  });
}
