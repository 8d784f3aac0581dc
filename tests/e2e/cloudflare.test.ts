import { describe } from 'vitest';
import { defineGatewayCases } from './gateway-cases.ts';
import { defineMessagesCases } from './messages-cases.ts';
import { startCloudflare } from './targets.ts';

describe('cloudflare (workerd via Miniflare)', () => defineGatewayCases(startCloudflare));
describe('cloudflare: Anthropic Messages', () => defineMessagesCases(startCloudflare));
