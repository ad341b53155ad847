// The Prompt API on a console: one ink app for the whole session, the status header on top
// and one screen below it. Keys are read from the given stdin and decoded by ui/keys.ts,
// not by ink, so a vt100 serial line and the Linux console behave the same.
import { Box, render, Text, type Instance } from "ink";
import { Component, type ReactNode } from "react";
import { UiContext, type KeySource, type UiSettings } from "./context.ts";
import { Confirm } from "./components/confirm.tsx";
import { Menu } from "./components/menu.tsx";
import { Message } from "./components/message.tsx";
import { Password } from "./components/password.tsx";
import { Progress } from "./components/progress.tsx";
import { QrView } from "./components/qr.tsx";
import { StatusHeader } from "./components/status-header.tsx";
import { TextInput } from "./components/text-input.tsx";
import { createKeyDecoder, type Key } from "./keys.ts";
import type { ConfirmOptions, InputOptions, MenuOptions, MessageOptions, PasswordOptions, ProgressHandle, Prompt, QrScreenOptions, Status } from "./prompt.ts";

/** The parts of a Node (or process-shim) output stream the session uses. */
export interface OutputStream {
  write(data: string): boolean;
  columns?: number;
  rows?: number;
  isTTY?: boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** The parts of an input stream the session uses. */
export interface InputStream {
  on(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  off(event: "data", listener: (chunk: Uint8Array | string) => void): unknown;
  isTTY?: boolean;
  setRawMode?(raw: boolean): unknown;
  pause?(): unknown;
  resume?(): unknown;
}

export interface InkPromptOptions {
  stdout: OutputStream;
  stdin: InputStream;
  /** False for a monochrome console; true by default. */
  color?: boolean;
  /** ms since the epoch, for the header's clock and TOTP countdown. */
  clock?: () => number;
  /** How long a lone ESC waits for the rest of an arrow key before it counts as Escape. */
  escapeDelayMs?: number;
}

export interface InkPrompt extends Prompt {
  /** Unmounts the app and gives the terminal back (cooked mode, cursor shown). */
  close(): void;
}

export class PromptBusyError extends Error {
  constructor(asked: string, showing: string) {
    super(`The UI was asked for a ${asked} while a ${showing} is still waiting for an answer; prompts must be awaited one at a time.`);
    this.name = "PromptBusyError";
  }
}

export class PromptClosedError extends Error {
  constructor(what: string) {
    super(`The UI was closed while a ${what} was waiting for an answer.`);
    this.name = "PromptClosedError";
  }
}

export class ScreenRenderError extends Error {
  constructor(what: string, cause: unknown) {
    super(`The ${what} screen failed to draw: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "ScreenRenderError";
  }
}

/** Hands keys to the one screen waiting for them; keys typed while none waits are dropped. */
class KeyHub implements KeySource {
  private handler: ((key: Key) => void) | null = null;

  subscribe(handler: (key: Key) => void): () => void {
    this.handler = handler;
    return () => {
      if (this.handler === handler) this.handler = null;
    };
  }

  detach(): void {
    this.handler = null;
  }

  dispatch(key: Key): void {
    this.handler?.(key);
  }
}

interface BoundaryProps {
  onError: (error: unknown) => void;
  children: ReactNode;
}

/** A screen that throws while drawing shows the error instead of blanking the console. */
class ScreenBoundary extends Component<BoundaryProps, { error: unknown }> {
  override state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  override componentDidCatch(error: unknown) {
    this.props.onError(error);
  }

  override render() {
    if (this.state.error) {
      const e = this.state.error;
      return <Text>{`This screen failed to draw: ${e instanceof Error ? e.message : String(e)}`}</Text>;
    }
    return this.props.children;
  }
}

interface Screen {
  id: number;
  kind: string;
  draw: () => ReactNode;
  /** Set while a question waits; progress screens have none. */
  fail?: (error: Error) => void;
}

// Lines the header takes (text + its bottom rule), and the title, margins and help line
// around a menu's items.
const HEADER_LINES = 2;
const MENU_CHROME_LINES = 5;

export function createInkPrompt(options: InkPromptOptions): InkPrompt {
  const { stdout, stdin } = options;
  const clock = options.clock ?? (() => Date.now());
  const escapeDelay = options.escapeDelayMs ?? 50;
  const hub = new KeyHub();
  const settings: UiSettings = { color: options.color ?? true, keys: hub };
  const decoder = createKeyDecoder();

  let status: Status | null = null;
  let screen: Screen | null = null;
  let nextId = 1;
  let spinnerFrame = 0;
  let closed = false;
  let escapeTimer: ReturnType<typeof setTimeout> | null = null;

  const rows = () => (stdout.rows && stdout.rows > 0 ? stdout.rows : 24);

  const tree = () => (
    <UiContext.Provider value={settings}>
      <Box flexDirection="column">
        {status ? <StatusHeader status={status} now={clock()} /> : null}
        {screen ? (
          <ScreenBoundary key={screen.id} onError={(e) => screen?.fail?.(new ScreenRenderError(screen.kind, e))}>
            {screen.draw()}
          </ScreenBoundary>
        ) : null}
      </Box>
    </UiContext.Provider>
  );

  // ink's writes go to our streams only; it must not patch the console or exit on ctrl-c
  // (PID 1 has nowhere to exit to).
  const ink: Instance = render(tree(), {
    stdout: stdout as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    exitOnCtrlC: false,
    patchConsole: false,
    // ink 6.8's incremental mode left stale and shifted lines on a real pty when the next
    // screen was taller (menu → System Info under tmux); whole frames draw correctly.
    incrementalRendering: false,
    maxFps: 60,
  });
  // Changes made in one turn (a flow sets the status, then asks) become one frame: each
  // rerender is a full React pass and layout, which costs QuickJS tens of milliseconds.
  // Microtasks run before the next I/O callback, so a key never reaches a screen not yet drawn.
  let redrawQueued = false;
  const redraw = () => {
    if (closed || redrawQueued) return;
    redrawQueued = true;
    queueMicrotask(() => {
      redrawQueued = false;
      if (!closed) ink.rerender(tree());
    });
  };

  const deliver = (keys: Key[]) => {
    for (const key of keys) hub.dispatch(key);
  };
  const onData = (chunk: Uint8Array | string) => {
    if (escapeTimer) clearTimeout(escapeTimer);
    escapeTimer = null;
    deliver(decoder.push(chunk));
    if (decoder.pending()) {
      escapeTimer = setTimeout(() => {
        escapeTimer = null;
        deliver(decoder.flush());
      }, escapeDelay);
    }
  };
  stdin.setRawMode?.(true);
  stdin.on("data", onData);
  stdin.resume?.();

  // The header's clock and TOTP countdown tick once a second, the spinner four times.
  let ticks = 0;
  const ticker = setInterval(() => {
    ticks++;
    const spinning = screen?.kind === "progress";
    if (spinning) spinnerFrame++;
    if (spinning || (status && ticks % 4 === 0)) redraw();
  }, 250);

  /**
   * Shows the screen `build` draws (again at each redraw, so it may draw what changed) until
   * it calls `finish`. `watch`, when given, runs once the screen is up and may redraw it with
   * the function it gets; what it returns is called once the screen is answered or closed.
   */
  function ask<R>(kind: string, build: (finish: (result: R) => void) => ReactNode, watch?: (redraw: () => void) => () => void): Promise<R> {
    if (closed) return Promise.reject(new PromptClosedError(kind));
    if (screen?.fail) return Promise.reject(new PromptBusyError(kind, screen.kind));
    return new Promise<R>((resolve, reject) => {
      const id = nextId++;
      let stopWatch: (() => void) | null = null;
      const settle = () => {
        hub.detach();
        stopWatch?.();
        stopWatch = null;
        // The answered screen stays drawn as it was until the next one replaces it.
        if (screen?.id === id) {
          const last = screen.draw();
          screen = { id, kind, draw: () => last };
        }
      };
      const finish = (result: R) => {
        settle();
        resolve(result);
      };
      screen = {
        id,
        kind,
        draw: () => build(finish),
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      redraw();
      if (!watch) return;
      let live = true;
      try {
        const stop = watch(() => {
          if (live && screen?.id === id) redraw();
        });
        stopWatch = () => {
          live = false;
          stop();
        };
      } catch (error) {
        // A watch that cannot start must not leave a question no one can answer on screen.
        live = false;
        screen?.fail?.(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  const prompt: InkPrompt = {
    menu<T>(o: MenuOptions<T>): Promise<T | "back"> {
      const textLines = o.text ? o.text.split("\n").length : 0;
      const room = rows() - (status ? HEADER_LINES : 0) - MENU_CHROME_LINES - textLines - 1;
      let items = o.items;
      const watch = o.watch;
      return ask<T | "back">(
        "menu",
        (finish) => (
          <Menu
            title={o.title}
            text={o.text}
            tone={o.tone}
            items={items}
            allowBack={o.allowBack}
            rows={Math.max(3, room)}
            onDone={(r) => finish(r.kind === "back" ? "back" : r.value)}
          />
        ),
        watch &&
          ((redrawMenu) =>
            watch((next) => {
              items = next;
              redrawMenu();
            })),
      );
    },
    confirm(o: ConfirmOptions) {
      return ask<boolean>("confirmation", (finish) => <Confirm title={o.title} text={o.text} defaultYes={o.defaultYes} onDone={finish} />);
    },
    input(o: InputOptions) {
      return ask<string | null>("text input", (finish) => (
        <TextInput title={o.title} label={o.label} initial={o.initial} validate={o.validate} onDone={finish} />
      ));
    },
    password(o: PasswordOptions) {
      return ask<Uint8Array | null>("password", (finish) => <Password title={o.title} label={o.label} validate={o.validate} onDone={finish} />);
    },
    message(o: MessageOptions) {
      return ask<void>("message", (finish) => <Message title={o.title} text={o.text} tone={o.tone} onDone={() => finish()} />);
    },
    showQr(o: QrScreenOptions) {
      const room = rows() - (status ? HEADER_LINES : 0) - 4 - o.text.split("\n").length;
      return ask<void>("QR code", (finish) => (
        <QrView title={o.title} text={o.text} payload={o.payload} maxLines={room} onDone={() => finish()} />
      ));
    },
    progress(label: string): ProgressHandle {
      if (screen?.fail) throw new PromptBusyError("progress display", screen.kind);
      const id = nextId++;
      const draw = (fraction: number | null, detail?: string) => {
        screen = { id, kind: "progress", draw: () => <Progress label={label} fraction={fraction} detail={detail} frame={spinnerFrame} /> };
        redraw();
      };
      // It replaces the answered question still on screen; its updates must not replace a newer screen.
      if (!closed) draw(0);
      return {
        update(fraction, detail) {
          if (!closed && screen?.id === id) draw(fraction, detail);
        },
        done() {
          if (screen?.id === id) {
            screen = null;
            redraw();
          }
        },
      };
    },
    setStatus(next: Status) {
      status = { ...next };
      redraw();
    },
    close() {
      if (closed) return;
      const waiting = screen?.fail;
      closed = true;
      clearInterval(ticker);
      if (escapeTimer) clearTimeout(escapeTimer);
      stdin.off("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause?.();
      ink.unmount();
      hub.detach();
      if (waiting && screen) waiting(new PromptClosedError(screen.kind));
    },
  };
  return prompt;
}
