import { describe } from 'vitest';
import { startVercel } from '../e2e/vercel-target.ts';
import { defineClientCases } from './client-cases.ts';

describe('real clients against vercel (edge functions in edge-runtime)', () => defineClientCases(startVercel));
