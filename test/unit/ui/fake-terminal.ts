// A terminal for tests of the ink session: an output stream that records what is written
// and an input stream the test types into, byte by byte as a console would deliver them.
import { EventEmitter } from "node:events";

// Not ui/render-to-string's stripAnsi: that module imports ink, and ink must be imported
// only after the ink-prompt test has cleared CI from the environment.
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;
const stripAnsi = (text: string) => text.replace(ANSI, "");

export class FakeOutput extends EventEmitter {
  readonly isTTY = true;
  columns = 80;
  rows = 24;
  private chunks: string[] = [];

  write(data: string | Uint8Array): boolean {
    this.chunks.push(typeof data === "string" ? data : Buffer.from(data).toString("utf8"));
    return true;
  }

  /** Everything written, colour and cursor codes removed. */
  text(): string {
    return stripAnsi(this.chunks.join(""));
  }

  raw(): string {
    return this.chunks.join("");
  }

  /** Forgets what was written, so a later wait sees only new output. */
  mark(): void {
    this.chunks = [];
  }

  /** Resolves once `needle` has been written since the last mark. */
  async waitFor(needle: string, timeoutMs = 3000): Promise<void> {
    const start = Date.now();
    while (!this.text().includes(needle)) {
      if (Date.now() - start > timeoutMs) throw new Error(`the screen never showed ${JSON.stringify(needle)}; it showed:\n${this.text()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

export class FakeInput extends EventEmitter {
  readonly isTTY = true;
  rawMode = false;
  rawModeChanges: boolean[] = [];
  paused = false;

  setRawMode(raw: boolean): this {
    this.rawMode = raw;
    this.rawModeChanges.push(raw);
    return this;
  }

  pause(): this {
    this.paused = true;
    return this;
  }

  resume(): this {
    this.paused = false;
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  setEncoding(): this {
    return this;
  }

  read(): null {
    return null;
  }

  /** Delivers bytes as one read from the console. */
  type(bytes: string | number[]): void {
    this.emit("data", typeof bytes === "string" ? Buffer.from(bytes, "utf8") : Uint8Array.from(bytes));
  }
}

export const KEY = {
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  upSs3: "\x1bOA",
  downSs3: "\x1bOB",
  enter: "\r",
  escape: "\x1b",
  backspace: "\x7f",
  backspaceBs: "\x08",
} as const;
