import { describe } from 'vitest';
import { defineGatewayCases } from './gateway-cases.ts';
import { startVercel } from './vercel-target.ts';

describe('vercel (edge functions in edge-runtime)', () => defineGatewayCases(startVercel));
