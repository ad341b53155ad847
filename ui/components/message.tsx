// A notice the user acknowledges with Enter (or Escape).
import { Box, Text } from "ink";
import { useKeyMachine, useUi, type Step } from "../context.ts";
import type { Key } from "../keys.ts";
import type { Tone } from "../prompt.ts";

export function acknowledgeStep(key: Key): Step<null, true> {
  return key.name === "enter" || key.name === "escape" ? { state: null, done: true, result: true } : { state: null };
}

export const TONE_COLOR: Record<Tone, string> = { info: "cyan", success: "green", warning: "yellow", error: "red" };
// The word carries the meaning on a monochrome console.
export const TONE_WORD: Record<Tone, string> = { info: "", success: "OK: ", warning: "WARNING: ", error: "ERROR: " };

export interface MessageProps {
  title: string;
  text: string;
  tone?: Tone;
  onDone?: () => void;
}

export function Message({ title, text, tone = "info", onDone }: MessageProps) {
  const { color } = useUi();
  useKeyMachine(() => null, (_s, key) => acknowledgeStep(key), () => onDone?.());
  return (
    <Box flexDirection="column" borderStyle="single" borderColor={color ? TONE_COLOR[tone] : undefined} paddingX={1}>
      <Text bold color={color && tone !== "info" ? TONE_COLOR[tone] : undefined}>{`${TONE_WORD[tone]}${title}`}</Text>
      <Text>{text}</Text>
      <Box marginTop={1}>
        <Text dimColor>Press Enter to continue</Text>
      </Box>
    </Box>
  );
}
