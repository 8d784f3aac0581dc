// @ts-check
/**
 * Qwen's OAuth constants, exactly as Qwen Code uses them (protocol §1). The client is public: there
 * is no secret, PKCE is what ties the token request to the device-code request.
 */

export const DEFAULT_QWEN_OAUTH_BASE_URL = 'https://chat.qwen.ai';
export const QWEN_OAUTH_CLIENT_ID = 'f0304373b74a44d2b584a3fb70ca9e56';
export const QWEN_OAUTH_SCOPE = 'openid profile email model.completion';
export const QWEN_OAUTH_DEVICE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:device_code';
export const DEVICE_CODE_PATH = '/api/v1/oauth2/device/code';
export const TOKEN_PATH = '/api/v1/oauth2/token';

/** Qwen's servers answer HTML instead of JSON to clients without a User-Agent (protocol §2). */
export const QWEN_CODE_VERSION = '0.14.5';
export const USER_AGENT = `QwenCode/${QWEN_CODE_VERSION} (${process.platform}; ${process.arch})`;

/**
 * `QWEN_OAUTH_BASE_URL` overrides the server, as it does in the gateway (lib/config.ts).
 * @param {NodeJS.ProcessEnv} env
 */
export function oauthBaseUrlFrom(env) {
  const value = env.QWEN_OAUTH_BASE_URL?.trim();
  return (value ? value : DEFAULT_QWEN_OAUTH_BASE_URL).replace(/\/+$/, '');
}
