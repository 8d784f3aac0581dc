#!/usr/bin/env node
// @ts-check
// The closing line of .ci/run, from vitest's JSON report: `N passed, N failed`.
//
//   node scripts/ci-summary.mjs vitest.json [vitest-clients.json ...]
//
// Several reports (the main suite and the real-client suite) are added up into one line; a report
// that is missing (its run died before writing it) counts as one failure.
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
  const files = process.argv.length > 2 ? process.argv.slice(2) : ['vitest.json'];
  let passed = 0;
  let failed = 0;
  let ok = true;
  for (const file of files) {
    let summary;
    try {
      summary = summarize(JSON.parse(readFileSync(file, 'utf8')));
    } catch (error) {
      console.log(`${file}: no vitest report (${error instanceof Error ? error.message : String(error)})`);
      failed += 1;
      ok = false;
      continue;
    }
    for (const broken of summary.brokenFiles) console.log(`failed outside a test: ${broken}`);
    passed += summary.passed;
    failed += summary.failed;
    ok &&= summary.ok;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(ok ? 0 : 1);
}
