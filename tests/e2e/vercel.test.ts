import { describe } from 'vitest';
import { defineApiKeyCases } from './api-key-cases.ts';
import { defineGatewayCases } from './gateway-cases.ts';
import { defineResponsesCases } from './responses-cases.ts';
import { defineMessagesCases } from './messages-cases.ts';
import { startVercel } from './vercel-target.ts';

describe('vercel (edge functions in edge-runtime)', () => defineGatewayCases(startVercel));
describe('vercel: Anthropic Messages', () => defineMessagesCases(startVercel));
describe('vercel: API-key providers', () => defineApiKeyCases(startVercel));
describe('vercel (edge functions in edge-runtime): /v1/responses', () => defineResponsesCases(startVercel));
