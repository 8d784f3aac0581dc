import { describe } from 'vitest';
import { defineGatewayCases } from './gateway-cases.ts';
import { defineMessagesCases } from './messages-cases.ts';
import { startVercel } from './vercel-target.ts';

describe('vercel (edge functions in edge-runtime)', () => defineGatewayCases(startVercel));
describe('vercel: Anthropic Messages', () => defineMessagesCases(startVercel));
