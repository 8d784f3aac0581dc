#!/usr/bin/env node
// @ts-check
// The closing line of .ci/run, from vitest's JSON report: `N passed, N failed`.
//
//   node scripts/ci-summary.mjs vitest.json
//
// Failed = vitest's failed tests, plus test files that failed with no failed test in them (the file
// did not load, or a hook failed and its tests were skipped). vitest's numFailedTestSuites is not
// used: it counts every describe block around a failed test, so one failure printed as several.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/**
 * @param {{ numPassedTests: number, numFailedTests: number, numTotalTests: number,
 *   testResults: { name: string, status: string, message?: string, assertionResults: { status: string }[] }[] }} report
 */
export function summarize(report) {
  const brokenFiles = report.testResults.filter(
    (file) => file.status === 'failed' && !file.assertionResults.some((test) => test.status === 'failed'),
  );
  const failed = report.numFailedTests + brokenFiles.length;
  return {
    passed: report.numPassedTests,
    failed,
    /** Files that failed outside any test, with vitest's reason. */
    brokenFiles: brokenFiles.map((file) => `${file.name}: ${file.message || 'failed outside its tests (a hook?)'}`),
    ok: failed === 0 && report.numTotalTests > 0,
    line: `${report.numPassedTests} passed, ${failed} failed`,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const summary = summarize(JSON.parse(readFileSync(process.argv[2] ?? 'vitest.json', 'utf8')));
  for (const file of summary.brokenFiles) console.log(`failed outside a test: ${file}`);
  console.log(summary.line);
  process.exit(summary.ok ? 0 : 1);
}
