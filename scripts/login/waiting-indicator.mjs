// @ts-check
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Without a TTY (CI logs, tests) a line per tick would flood the log; say it now and then. */
const PLAIN_EVERY_MS = 30_000;

/**
 * Shows that the CLI is waiting for approval and how long the code stays valid: a spinner line
 * redrawn in place on a terminal, an occasional plain line otherwise.
 * @param {NodeJS.WriteStream} stream
 * @param {number} deadline  epoch ms
 * @param {{ tty: boolean }} options
 * @returns {{ stop(): void }}
 */
export function startWaitingIndicator(stream, deadline, { tty }) {
  const text = () => `Waiting for approval in the browser... ${formatLeft(deadline - Date.now())} left (Ctrl-C to cancel)`;
  if (!tty) {
    stream.write(`${text()}\n`);
    const timer = setInterval(() => stream.write(`${text()}\n`), PLAIN_EVERY_MS);
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }
  let frame = 0;
  const draw = () => {
    frame = (frame + 1) % FRAMES.length;
    stream.write(`\r\x1b[2K${FRAMES[frame]} ${text()}`);
  };
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}

/** @param {number} ms */
function formatLeft(ms) {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
}
