/** Qwen Code's credential file, `~/.qwen/oauth_creds.json`, as it writes it (protocol §1). */
export interface QwenCredentials {
  access_token: string;
  refresh_token: string;
  token_type: string;
  resource_url?: string;
  /** Milliseconds since the epoch. */
  expiry_date: number;
}

/** One configured account: where its first credentials came from and its stable, non-secret id. */
export interface AccountSeed {
  /** Short and non-secret: used in logs and storage keys. */
  id: string;
  kind: 'qwen-oauth';
  /** The credentials as deployed (QWEN_CLI_AUTH). Stored, refreshed credentials may be newer. */
  credentials: QwenCredentials;
  /**
   * Fingerprint of the deployed refresh token. Stored credentials remember the fingerprint of the
   * deployment they descend from; when the operator deploys a new login this changes and the new
   * credentials win over whatever the store holds (stale stored tokens never shadow a fresh login).
   */
  lineage: string;
}
