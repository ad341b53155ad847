// Raw mode on the console for QuickJS. os.ttySetRaw can only enter raw mode, and it saves
// the terminal's settings on every call (restored at exit), so a second call while raw
// would make the raw settings "the original" and leave the terminal raw after exit.
// So: enter at most once while cooked, and leave by running stty (busybox has the applet).
import * as os from "os";

let raw = false;

function findProgram(name: string): string | null {
  for (const dir of ["/bin", "/sbin", "/usr/bin", "/usr/sbin"]) {
    const [st, err] = os.stat(`${dir}/${name}`);
    if (err === 0 && (st.mode & os.S_IFMT) === os.S_IFREG) return `${dir}/${name}`;
  }
  return null;
}

export function enterRawMode(): void {
  if (raw || !os.isatty(0)) return;
  os.ttySetRaw(0);
  raw = true;
}

/** Back to cooked mode (echo, line editing) for an interactive program; false when stty is missing. */
export function leaveRawMode(): boolean {
  if (!raw) return true;
  const stty = findProgram("stty");
  if (!stty) return false;
  // stty acts on its stdin, which is our console (inherited).
  const status = os.exec([stty, "sane"], { block: true, usePath: false, file: stty });
  if (status !== 0) return false;
  raw = false;
  return true;
}

// The settings os.ttySetRaw gives the console, as stty words, so both terminals behave alike.
const RAW_SETTINGS = ["-ignbrk", "-brkint", "-parmrk", "-istrip", "-inlcr", "-igncr", "-icrnl", "-ixon", "opost",
  "-echo", "-echonl", "-icanon", "-iexten", "-parenb", "cs8", "min", "1", "time", "0"];

/**
 * Raw or cooked mode on a terminal other than fd 0. stty (on that fd as its stdin) does
 * both ways: os.ttySetRaw would record this terminal's settings as the ones to restore on
 * fd 0 at exit. False when stty is missing or refuses.
 */
export function setTerminalMode(fd: number, raw: boolean): boolean {
  const stty = findProgram("stty");
  if (!stty) return false;
  const args = raw ? RAW_SETTINGS : ["sane"];
  return os.exec([stty, ...args], { block: true, usePath: false, file: stty, stdin: fd }) === 0;
}
