import { expect, test } from 'vitest';
import { baseUrlFromResource } from '../../lib/qwen/base-url.ts';

const FALLBACK = 'https://dashscope.aliyuncs.com/compatible-mode/v1';

test.each([
  ['portal.qwen.ai', 'https://portal.qwen.ai/v1'],
  ['dashscope.aliyuncs.com', 'https://dashscope.aliyuncs.com/v1'],
  ['http://127.0.0.1:9000', 'http://127.0.0.1:9000/v1'],
  ['http://127.0.0.1:9000/v1', 'http://127.0.0.1:9000/v1'],
  ['HTTPS://Portal.qwen.ai', 'HTTPS://Portal.qwen.ai/v1'],
  [undefined, FALLBACK],
  ['', FALLBACK],
])('resource_url %s → %s (as Qwen Code derives it)', (resource, expected) => {
  expect(baseUrlFromResource(resource, FALLBACK)).toBe(expected);
});
