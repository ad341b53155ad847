// The screen session on the console: ink over the process streams (QuickJS's shim on the
// firmware, Node's own on a host). It can step aside for an interactive program (the
// recovery shell) and come back, and be rebuilt after an error.
import { createInkPrompt, type InkPrompt, type InputStream, type OutputStream } from "../../ui/ink-prompt.tsx";
import type { Device, Sys } from "../host/sys.ts";
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
 * A mirror that stops taking writes is dropped rather than taking the UI down with it.
 */
function mirrored(primary: OutputStream, mirror: Device): OutputStream {
  const encoder = new TextEncoder();
  let alive = true;
  return {
    write(data: string) {
      if (alive) {
        try {
          mirror.write(encoder.encode(data));
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

export interface ConsoleUiOptions {
  /** A terminal device that shows a copy of the screen (output only). */
  mirror?: string;
}

export function createConsoleUi(sys: Sys, options: ConsoleUiOptions = {}): FlowUi {
  const proc = (globalThis as { process?: ProcessStreams }).process;
  if (!proc?.stdout || !proc.stdin) throw new ConsoleUiError("there is no process.stdout/stdin (the QuickJS shims were not loaded)");
  const color = colourFor(sys.env("TERM"));
  let stdout = proc.stdout;
  let mirrorDevice: Device | null = null;
  if (options.mirror) {
    try {
      mirrorDevice = sys.openDevice(options.mirror, "rw");
      stdout = mirrored(proc.stdout, mirrorDevice);
    } catch (error) {
      sys.console.writeError(`no copy of the screen on ${options.mirror}: ${describeError(error)}\n`);
    }
  }
  const clear = "\u001b[2J\u001b[H";
  const open = (): InkPrompt => {
    // ink draws relative to the cursor: start from a clear screen, not below kernel messages or a shell's output.
    stdout.write(clear);
    return createInkPrompt({ stdout, stdin: proc.stdin, color, clock: () => sys.now() });
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
      mirrorDevice?.close();
      mirrorDevice = null;
    },
  };
}
