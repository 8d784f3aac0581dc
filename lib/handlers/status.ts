import type { Deps } from '../deps.ts';

/** GET /v1/status (and /admin/status): the operator's view of every account. Never a token. */
export async function accountStatus(_request: Request, deps: Deps): Promise<Response> {
  const accounts = await deps.accounts.status();
  return Response.json({
    object: 'gateway.status',
    version: deps.config.version,
    accounts,
    serving: accounts.filter((a) => a.state === 'ok').length,
  });
}
