export interface VitestReport {
  numPassedTests: number;
  numFailedTests: number;
  numTotalTests: number;
  testResults: { name: string; status: string; message?: string; assertionResults: { status: string }[] }[];
}
export function summarize(report: VitestReport): { passed: number; failed: number; brokenFiles: string[]; ok: boolean; line: string };
