import { describe } from 'vitest';
import { defineApiKeyCases } from './api-key-cases.ts';
import { defineGatewayCases } from './gateway-cases.ts';
import { defineResponsesCases } from './responses-cases.ts';
import { defineMessagesCases } from './messages-cases.ts';
import { startCloudflare } from './targets.ts';

describe('cloudflare (workerd via Miniflare)', () => defineGatewayCases(startCloudflare));
describe('cloudflare: Anthropic Messages', () => defineMessagesCases(startCloudflare));
describe('cloudflare: API-key providers', () => defineApiKeyCases(startCloudflare));
describe('cloudflare (workerd via Miniflare): /v1/responses', () => defineResponsesCases(startCloudflare));
