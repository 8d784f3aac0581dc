/** Qwen Code's public OAuth client (protocol §1); it has no secret. */
export const QWEN_OAUTH_CLIENT_ID = 'f0304373b74a44d2b584a3fb70ca9e56';
export const QWEN_OAUTH_TOKEN_PATH = '/api/v1/oauth2/token';
/** Qwen Code refreshes when the access token has less than this left (protocol §3). */
export const TOKEN_REFRESH_BUFFER_MS = 30_000;
/**
 * The Qwen Code version we present as. Qwen's portal has been seen to throttle and refuse clients
 * that do not look like Qwen Code (protocol §5), and Alibaba's firewall answers HTML to requests
 * with no User-Agent at all (protocol §2).
 */
export const QWEN_CODE_VERSION = '0.14.5';
export const QWEN_CODE_USER_AGENT = `QwenCode/${QWEN_CODE_VERSION} (linux; x64)`;
