import { describe } from 'vitest';
import { startCloudflare } from '../e2e/targets.ts';
import { defineClientCases } from './client-cases.ts';

describe('real clients against cloudflare (workerd via Miniflare)', () => defineClientCases(startCloudflare));
