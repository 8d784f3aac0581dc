import { expect, test } from 'vitest';
import { stableUuid } from '../../lib/util/stable-uuid.ts';

test('a stable, well-formed UUID per text, different for different texts', () => {
  const id = stableUuid('[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]');
  expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(stableUuid('[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]')).toBe(id);
  const ids = new Set(Array.from({ length: 2000 }, (_, i) => stableUuid(`conversation ${i}`)));
  expect(ids.size).toBe(2000);
  expect(stableUuid('')).not.toBe(stableUuid(' '));
});
