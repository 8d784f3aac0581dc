// @ts-check
import { createRequire } from 'node:module';

/**
 * qrcode-terminal is CommonJS without type declarations; loading it through require keeps the
 * checker quiet without a hand-written .d.ts that would clash with @types/qrcode-terminal later.
 * @type {{ generate(text: string, options: { small: boolean }, done: (qr: string) => void): void }}
 */
const qrcode = createRequire(import.meta.url)('qrcode-terminal');

/**
 * Tells the user where to approve the login: the URL (which already carries the code), the code
 * itself to compare with what the page shows, and the URL as a QR code for signing in on a phone
 * when this terminal is on a server.
 * @param {(line?: string) => void} print
 * @param {import('./request-device-code.mjs').DeviceAuthorization} device
 * @param {{ qr: boolean }} options
 */
export function showVerification(print, device, { qr }) {
  print('Sign in to Qwen to authorize this gateway:');
  print();
  print(`  Open:  ${device.verificationUriComplete}`);
  print(`  Code:  ${device.userCode}   (check that the page shows this code)`);
  print();
  if (qr) {
    qrcode.generate(device.verificationUriComplete, { small: true }, (/** @type {string} */ code) => {
      print(code.replace(/^/gm, '  '));
    });
    print();
  }
}
