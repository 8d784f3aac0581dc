import { describe, expect, test } from 'vitest';
import { guardRequest, isJsonContentType, isLoopbackOrigin } from '../../lib/http/request-guard.ts';
import { loadConfig } from '../../lib/config.ts';
import type { Logger } from '../../lib/logger.ts';

const recording = () => {
  const warnings: string[] = [];
  const logger: Logger = { error() {}, info() {}, debug() {}, warn: (message) => void warnings.push(message) };
  return { logger, warnings };
};
const post = (headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  new Request('http://gateway/v1/chat/completions', { method: 'POST', headers, body: '{}' });

describe('guardRequest', () => {
  test('an open gateway warns once per isolate, on its first request of any kind', () => {
    const { logger, warnings } = recording();
    const open = loadConfig({});
    guardRequest(new Request('http://gateway/health'), 'none', open, logger);
    guardRequest(post(), 'client', open, logger);
    guardRequest(post(), 'client', open, logger);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('OPENAI_API_KEY is unset');
    const keyed = recording();
    guardRequest(post(), 'client', loadConfig({ OPENAI_API_KEY: 'sk-x' }), keyed.logger);
    expect(keyed.warnings).toEqual([]);
  });

  test('the status page: closed when nothing protects it, open with an admin or a client key', () => {
    const { logger } = recording();
    const get = new Request('http://gateway/v1/status');
    expect(() => guardRequest(get, 'admin', loadConfig({}), logger)).toThrow(expect.objectContaining({ status: 403, code: 'status_page_closed' }));
    expect(() => guardRequest(get, 'admin', loadConfig({ ADMIN_API_KEY: 'a' }), logger)).not.toThrow();
    expect(() => guardRequest(get, 'admin', loadConfig({ OPENAI_API_KEY: 'k' }), logger)).not.toThrow();
  });

  test('content types and origins', () => {
    expect(isJsonContentType('application/json')).toBe(true);
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/problem+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType('application/jsonp')).toBe(false);
    expect(isJsonContentType(null)).toBe(false);
    expect(isLoopbackOrigin('http://localhost:3000')).toBe(true);
    expect(isLoopbackOrigin('http://app.localhost')).toBe(true);
    expect(isLoopbackOrigin('http://127.0.0.1')).toBe(true);
    expect(isLoopbackOrigin('http://[::1]:8080')).toBe(true);
    expect(isLoopbackOrigin('null')).toBe(false);
    expect(isLoopbackOrigin('http://localhost.evil.example')).toBe(false);
    expect(isLoopbackOrigin('http://127.0.0.1.nip.io')).toBe(false);
    expect(isLoopbackOrigin('chrome-extension://abc')).toBe(false);
  });
});

describe('content type', () => {
  test('an open gateway refuses bodies not declared JSON; a keyed one leaves that to its key', () => {
    const { logger } = recording();
    expect(() => guardRequest(post({ 'content-type': 'text/plain' }), 'client', loadConfig({}), logger)).toThrow(
      expect.objectContaining({ status: 415, code: 'unsupported_media_type' }),
    );
    expect(() => guardRequest(post({}), 'client', loadConfig({}), logger)).toThrow(expect.objectContaining({ status: 415 }));
    expect(() => guardRequest(post({ 'content-type': 'text/plain' }), 'client', loadConfig({ OPENAI_API_KEY: 'k' }), logger)).not.toThrow();
  });
});
