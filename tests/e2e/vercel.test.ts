import { describe } from 'vitest';
import { defineGatewayCases } from './gateway-cases.ts';
import { defineResponsesCases } from './responses-cases.ts';
import { startVercel } from './vercel-target.ts';

describe('vercel (edge functions in edge-runtime)', () => defineGatewayCases(startVercel));
describe('vercel (edge functions in edge-runtime): /v1/responses', () => defineResponsesCases(startVercel));
