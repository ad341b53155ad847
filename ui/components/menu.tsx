// A list of choices with Heads' hot-keys: arrows move, Enter takes the highlighted item,
// a hot-key takes its item at once, Escape goes back when the caller allows it.
import { Box, Text } from "ink";
import { useKeyMachine, useUi, type Step } from "../context.ts";
import type { Key } from "../keys.ts";
import type { MenuItem, Tone } from "../prompt.ts";
import { TONE_COLOR, TONE_WORD } from "./message.tsx";

export interface MenuState<T> {
  /** The list `index` and `first` count in; a live menu's items may have changed since. */
  items: MenuItem<T>[];
  index: number;
  /** First item row shown when the list is longer than the screen. */
  first: number;
}

export type MenuResult<T> = { kind: "select"; value: T } | { kind: "back" };

function nextEnabled<T>(items: MenuItem<T>[], from: number, delta: 1 | -1): number {
  for (let n = 1; n <= items.length; n++) {
    const i = (((from + delta * n) % items.length) + items.length) % items.length;
    if (!items[i]!.disabled) return i;
  }
  return from;
}

/** Moves the window the least needed to keep `index` visible. */
function scrolled(index: number, first: number, rows: number, count: number): number {
  let top = first;
  if (index < top) top = index;
  if (index >= top + rows) top = index - rows + 1;
  return Math.max(0, Math.min(top, Math.max(0, count - rows)));
}

export function initialMenuState<T>(items: MenuItem<T>[], rows: number, index?: number): MenuState<T> {
  const start = index ?? items.findIndex((item) => !item.disabled);
  const i = start < 0 ? 0 : start;
  return { items, index: i, first: scrolled(i, 0, rows, items.length) };
}

/**
 * The state over a live menu's new items. The highlight stays on the item the user was
 * looking at while it is offered (the same value, or else the same text: a flow may build new
 * values for the same drive); when it went, it stays on the same row, or the last one.
 */
export function followItems<T>(state: MenuState<T>, items: MenuItem<T>[], rows: number): MenuState<T> {
  if (state.items === items) return state;
  const was = state.items[state.index];
  let index = was ? items.findIndex((item) => !item.disabled && item.value === was.value) : -1;
  if (index < 0 && was) index = items.findIndex((item) => !item.disabled && item.label === was.label);
  if (index < 0) {
    const row = Math.min(state.index, items.length - 1);
    index = row >= 0 && items[row]!.disabled ? nextEnabled(items, row, 1) : Math.max(0, row);
  }
  return { items, index, first: scrolled(index, state.first, rows, items.length) };
}

export function menuStep<T>(
  items: MenuItem<T>[],
  rows: number,
  allowBack: boolean,
  last: MenuState<T>,
  key: Key,
): Step<MenuState<T>, MenuResult<T>> {
  const state = followItems(last, items, rows);
  const move = (index: number): Step<MenuState<T>, MenuResult<T>> =>
    index === state.index ? { state } : { state: { items, index, first: scrolled(index, state.first, rows, items.length) } };
  const current = items[state.index];
  switch (key.name) {
    case "up":
      return move(nextEnabled(items, state.index, -1));
    case "down":
    case "tab":
      return move(nextEnabled(items, state.index, 1));
    case "home":
      return move(nextEnabled(items, -1, 1));
    case "end":
      return move(nextEnabled(items, items.length, -1));
    case "pageup": {
      let i = state.index;
      for (let n = 0; n < rows - 1 && i > 0; n++) i--;
      return move(items[i]!.disabled ? nextEnabled(items, i, 1) : i);
    }
    case "pagedown": {
      let i = state.index;
      for (let n = 0; n < rows - 1 && i < items.length - 1; n++) i++;
      return move(items[i]!.disabled ? nextEnabled(items, i, -1) : i);
    }
    case "enter":
      return current && !current.disabled ? { state, done: true, result: { kind: "select", value: current.value } } : { state };
    case "escape":
      return allowBack ? { state, done: true, result: { kind: "back" } } : { state };
    case "char": {
      const index = items.findIndex((item) => item.key === key.text && !item.disabled);
      if (index < 0) return { state };
      return { state: { items, index, first: scrolled(index, state.first, rows, items.length) }, done: true, result: { kind: "select", value: items[index]!.value } };
    }
    default:
      return { state };
  }
}

export interface MenuProps<T> {
  title: string;
  text?: string;
  tone?: Tone;
  /** A live menu is drawn again with new items; the highlight follows them (followItems). */
  items: MenuItem<T>[];
  allowBack?: boolean;
  /** Item rows that fit on the screen; longer lists scroll. */
  rows?: number;
  /** Highlighted item at first (for rendering a given state); the first enabled one otherwise. */
  initialIndex?: number;
  onDone?: (result: MenuResult<T>) => void;
}

export function Menu<T>({ title, text, tone = "info", items, allowBack = false, rows = items.length, initialIndex, onDone }: MenuProps<T>) {
  const { color } = useUi();
  const visible = Math.max(1, rows);
  // A live menu's items change under the state the keys left; it is followed onto them here.
  const state = followItems(
    useKeyMachine(
      () => initialMenuState(items, visible, initialIndex),
      (s, key) => menuStep(items, visible, allowBack, s, key),
      (result) => onDone?.(result),
    ),
    items,
    visible,
  );
  const shown = items.slice(state.first, state.first + visible);
  const below = items.length - state.first - shown.length;
  return (
    <Box flexDirection="column">
      <Text bold color={color && tone !== "info" ? TONE_COLOR[tone] : undefined}>{`${TONE_WORD[tone]}${title}`}</Text>
      {text ? <Text>{text}</Text> : null}
      <Box flexDirection="column" marginTop={1}>
        {state.first > 0 ? <Text dimColor>{`    ^ ${state.first} more above`}</Text> : null}
        {shown.map((item, i) => {
          const selected = state.first + i === state.index;
          const line = `${selected ? ">" : " "} ${item.key}  ${item.label}${item.disabled ? "  (unavailable)" : ""}`;
          return (
            <Text key={`${item.key}:${state.first + i}`} inverse={selected} dimColor={item.disabled} color={color && selected ? "cyan" : undefined}>
              {line}
            </Text>
          );
        })}
        {below > 0 ? <Text dimColor>{`    v ${below} more below`}</Text> : null}
      </Box>
      <Box marginTop={1}>
        <Text dimColor>{`Up/Down move, Enter selects, or press the key shown${allowBack ? ", Esc goes back" : ""}`}</Text>
      </Box>
    </Box>
  );
}
