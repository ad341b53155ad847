// Renders an ink element to text, for tests, the selftest and non-interactive output.
import { renderToString } from "ink";
import type { ReactNode } from "react";

// CSI sequences (colours, cursor moves) and OSC sequences (hyperlinks, titles).
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** The element as the terminal would show it, `columns` wide; `plain` drops colour codes. */
export function renderToText(node: ReactNode, options: { columns?: number; plain?: boolean } = {}): string {
  const text = renderToString(node, { columns: options.columns ?? 80 });
  return options.plain ? stripAnsi(text) : text;
}
