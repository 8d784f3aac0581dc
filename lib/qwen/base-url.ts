/**
 * The OpenAI base URL for a credentials' resource_url, derived exactly as Qwen Code does
 * (protocol §4): a scheme is added when missing, `/v1` appended when missing, nothing else touched.
 */
export function baseUrlFromResource(resourceUrl: string | undefined, fallback: string): string {
  const base = resourceUrl || fallback;
  const withScheme = /^https?:\/\//i.test(base) ? base : `https://${base}`;
  return withScheme.endsWith('/v1') ? withScheme : `${withScheme}/v1`;
}
