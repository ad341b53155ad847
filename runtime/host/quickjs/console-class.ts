// console.Console for ink's patch-console: a console that writes to given streams.

interface Writable {
  write(text: string): unknown;
}

function show(value: unknown): string {
  if (typeof value === "string") return value;
  if (value instanceof Error) return value.stack ? `${value.name}: ${value.message}\n${value.stack}` : `${value.name}: ${value.message}`;
  if (typeof value === "object" && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

export function formatArgs(args: unknown[]): string {
  return args.map(show).join(" ");
}

export class ConsoleShim {
  constructor(
    private readonly stdout: Writable,
    private readonly stderr: Writable = stdout,
  ) {}

  log = (...args: unknown[]) => void this.stdout.write(`${formatArgs(args)}\n`);
  info = (...args: unknown[]) => void this.stdout.write(`${formatArgs(args)}\n`);
  debug = (...args: unknown[]) => void this.stdout.write(`${formatArgs(args)}\n`);
  warn = (...args: unknown[]) => void this.stderr.write(`${formatArgs(args)}\n`);
  error = (...args: unknown[]) => void this.stderr.write(`${formatArgs(args)}\n`);
  trace = (...args: unknown[]) => void this.stderr.write(`${formatArgs(args)}\n`);
  dir = (value: unknown) => void this.stdout.write(`${show(value)}\n`);
  assert = (condition: unknown, ...args: unknown[]) => {
    if (!condition) this.stderr.write(`Assertion failed${args.length ? `: ${formatArgs(args)}` : ""}\n`);
  };
  // Grouping, timing and counting only decorate output; ink never depends on them.
  group = () => {};
  groupEnd = () => {};
  time = () => {};
  timeEnd = () => {};
  count = () => {};
  table = (value: unknown) => void this.stdout.write(`${show(value)}\n`);
}
