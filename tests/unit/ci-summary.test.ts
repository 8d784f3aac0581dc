import { describe, expect, test } from 'vitest';
import { summarize, type VitestReport } from '../../scripts/ci-summary.mjs';

// Shaped as vitest 4 writes them (--reporter=json): a failed test inside two describe blocks, a file
// that threw while loading, and a file whose beforeAll threw (its tests are then "skipped").
const report = (files: VitestReport['testResults'], counts: Partial<VitestReport> = {}): VitestReport => ({
  numPassedTests: files.flatMap((f) => f.assertionResults).filter((t) => t.status === 'passed').length,
  numFailedTests: files.flatMap((f) => f.assertionResults).filter((t) => t.status === 'failed').length,
  numTotalTests: files.flatMap((f) => f.assertionResults).length,
  testResults: files,
  ...counts,
});
const nested = { name: '/r/a.test.ts', status: 'failed', message: '', assertionResults: [{ status: 'failed' }, { status: 'passed' }] };
const unloadable = { name: '/r/b.test.ts', status: 'failed', message: 'boom at load', assertionResults: [] };
const hookFailed = { name: '/r/c.test.ts', status: 'failed', message: '', assertionResults: [{ status: 'skipped' }, { status: 'skipped' }] };
const green = { name: '/r/d.test.ts', status: 'passed', message: '', assertionResults: [{ status: 'passed' }, { status: 'passed' }] };

describe('the CI summary line', () => {
  test('one failed test in nested describe blocks is one failure (not one per block)', () => {
    // vitest counts every describe block around the failure in numFailedTestSuites; that is not read.
    expect(summarize({ ...report([nested, green]), numFailedTestSuites: 3 } as VitestReport)).toMatchObject({ line: '3 passed, 1 failed', ok: false });
  });

  test('a file that failed to load, or whose hook failed, counts once each', () => {
    const summary = summarize(report([nested, unloadable, hookFailed, green]));
    expect(summary.line).toBe('3 passed, 3 failed');
    expect(summary.brokenFiles).toEqual(['/r/b.test.ts: boom at load', '/r/c.test.ts: failed outside its tests (a hook?)']);
  });

  test('green only when something ran and nothing failed', () => {
    expect(summarize(report([green]))).toMatchObject({ line: '2 passed, 0 failed', ok: true });
    expect(summarize(report([])).ok).toBe(false);
  });
});
