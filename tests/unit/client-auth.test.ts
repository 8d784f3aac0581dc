import { describe, expect, test } from 'vitest';
import { authenticateClient } from '../../lib/http/client-auth.ts';

const withKey = (headers: Record<string, string>) => new Request('http://gateway/v1/models', { headers });

describe('authenticateClient', () => {
  test('no keys configured: open', async () => {
    await expect(authenticateClient(withKey({}), [])).resolves.toBeUndefined();
  });

  test('Bearer (any case) or x-api-key; any of the configured keys', async () => {
    const keys = ['sk-one', 'sk-two'];
    await expect(authenticateClient(withKey({ authorization: 'Bearer sk-one' }), keys)).resolves.toBeUndefined();
    await expect(authenticateClient(withKey({ authorization: 'bearer   sk-two ' }), keys)).resolves.toBeUndefined();
    await expect(authenticateClient(withKey({ 'x-api-key': 'sk-two' }), keys)).resolves.toBeUndefined();
  });

  test('missing, wrong, prefix or longer keys are refused with OpenAI-shaped 401s', async () => {
    const keys = ['sk-one'];
    await expect(authenticateClient(withKey({}), keys)).rejects.toMatchObject({ status: 401, code: 'missing_api_key' });
    for (const presented of ['sk-on', 'sk-one1', 'SK-ONE', 'Basic sk-one']) {
      const header = presented.startsWith('Basic') ? { authorization: presented } : { authorization: `Bearer ${presented}` };
      await expect(authenticateClient(withKey(header), keys)).rejects.toMatchObject({ status: 401 });
    }
  });

  test('a key verified before stops working as soon as the configured keys change', async () => {
    await expect(authenticateClient(withKey({ authorization: 'Bearer sk-old' }), ['sk-old'])).resolves.toBeUndefined();
    await expect(authenticateClient(withKey({ authorization: 'Bearer sk-old' }), ['sk-new'])).rejects.toMatchObject({ code: 'invalid_api_key' });
  });
});
