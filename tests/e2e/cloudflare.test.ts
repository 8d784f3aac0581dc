import { describe } from 'vitest';
import { defineGatewayCases } from './gateway-cases.ts';
import { defineResponsesCases } from './responses-cases.ts';
import { startCloudflare } from './targets.ts';

describe('cloudflare (workerd via Miniflare)', () => defineGatewayCases(startCloudflare));
describe('cloudflare (workerd via Miniflare): /v1/responses', () => defineResponsesCases(startCloudflare));
