// The screen session on the console: ink over the process streams (QuickJS's shim on the
// firmware, Node's own on a host). It can step aside for an interactive program (the
// recovery shell) and come back, and be rebuilt after an error.
import { createInkPrompt, type InkPrompt, type InputStream, type OutputStream } from "../../ui/ink-prompt.tsx";
import type { Sys, Terminal } from "../host/sys.ts";
import { describeError } from "../errors.ts";
import type { FlowUi } from "./context.ts";

// Terminals known to draw ANSI colours; vt100/vt102 are monochrome, and an unknown or dumb
// terminal gets the monochrome screens too (meaning is carried by words and inverse video).
const COLOUR_TERMS = /^(linux|xterm|screen|tmux|rxvt|vt220|ansi|putty|konsole|alacritty|foot|kitty|st)(-|$)|color/;

export function colourFor(term: string | undefined): boolean {
  return !!term && COLOUR_TERMS.test(term);
}

interface ProcessStreams {
  stdout: OutputStream;
  stdin: InputStream;
}

export class ConsoleUiError extends Error {
  constructor(why: string) {
    super(`The console UI cannot start: ${why}`);
    this.name = "ConsoleUiError";
  }
}

/**
 * Copies the screen to a second terminal (tty1 on the framebuffer while the serial line is
 * /dev/console). Its size is the primary's, so both show the same 80×24 (or larger) frame.
 * A terminal that stops taking writes is dropped rather than taking the UI down with it.
 */
function mirrored(primary: OutputStream, second: Terminal): OutputStream {
  let alive = true;
  return {
    write(data: string) {
      if (alive) {
        try {
          second.write(data);
        } catch {
          alive = false;
        }
      }
      return primary.write(data);
    },
    get columns() {
      return primary.columns;
    },
    get rows() {
      return primary.rows;
    },
    get isTTY() {
      return primary.isTTY;
    },
    on: (event, listener) => primary.on(event, listener),
    off: (event, listener) => primary.off(event, listener),
  };
}

/**
 * Keys from both keyboards: the console's and the second terminal's (a USB keyboard on
 * tty1). Raw mode goes on and off on both together, so a shell finds both cooked.
 */
function merged(primary: InputStream, second: Terminal, warn: (why: string) => void): InputStream {
  const stops = new Map<(chunk: Uint8Array | string) => void, () => void>();
  return {
    on(event, listener) {
      primary.on(event, listener);
      if (!stops.has(listener)) stops.set(listener, second.onKeys(listener));
      return this;
    },
    off(event, listener) {
      primary.off(event, listener);
      stops.get(listener)?.();
      stops.delete(listener);
      return this;
    },
    get isTTY() {
      return primary.isTTY;
    },
    setRawMode(raw: boolean) {
      primary.setRawMode?.(raw);
      try {
        second.setRaw(raw);
      } catch (error) {
        warn(describeError(error));
      }
      return this;
    },
    pause: () => primary.pause?.(),
    resume: () => primary.resume?.(),
  };
}

export interface ConsoleUiOptions {
  /** A second terminal that shows the screen and whose keyboard drives it too. */
  second?: string;
}

export function createConsoleUi(sys: Sys, options: ConsoleUiOptions = {}): FlowUi {
  const proc = (globalThis as { process?: ProcessStreams }).process;
  if (!proc?.stdout || !proc.stdin) throw new ConsoleUiError("there is no process.stdout/stdin (the QuickJS shims were not loaded)");
  const color = colourFor(sys.env("TERM"));
  let stdout = proc.stdout;
  let stdin = proc.stdin;
  let second: Terminal | null = null;
  if (options.second) {
    const where = options.second;
    try {
      second = sys.openTerminal(where);
      stdout = mirrored(proc.stdout, second);
      stdin = merged(proc.stdin, second, (why) => sys.console.writeError(`keys on ${where}: ${why}\n`));
    } catch (error) {
      sys.console.writeError(`${where} shows no copy of the screen and takes no keys: ${describeError(error)}\n`);
    }
  }
  const clear = "\u001b[2J\u001b[H";
  const open = (): InkPrompt => {
    // ink draws relative to the cursor: start from a clear screen, not below kernel messages or a shell's output.
    stdout.write(clear);
    return createInkPrompt({ stdout, stdin, color, clock: () => sys.now() });
  };
  let current: InkPrompt | null = open();
  const live = (): InkPrompt => (current ??= open());
  return {
    get prompt() {
      return live();
    },
    async suspend(run) {
      current?.close();
      current = null;
      // Leave the screen tidy for the program: clear it and show the cursor.
      stdout.write(`\u001b[?25h${clear}`);
      sys.console.setRaw(false);
      try {
        return await run();
      } finally {
        current = open();
      }
    },
    reset() {
      try {
        current?.close();
      } catch (error) {
        sys.console.writeError(`closing the broken UI: ${describeError(error)}\n`);
      }
      current = null;
    },
    close() {
      current?.close();
      current = null;
      second?.close();
      second = null;
    },
  };
}
