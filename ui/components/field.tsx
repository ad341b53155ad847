// The frame every one-line entry shares (text input, password): title, the field, the
// validator's refusal if any, and the keys that finish it.
import { Box, Text } from "ink";
import type { ReactNode } from "react";
import { useUi } from "../context.ts";

export function Field({ title, error, children }: { title: string; error: string | null; children: ReactNode }) {
  const { color } = useUi();
  return (
    <Box flexDirection="column">
      <Text bold>{title}</Text>
      <Box marginTop={1}>{children}</Box>
      {error ? <Text color={color ? "red" : undefined}>{`! ${error}`}</Text> : null}
      <Box marginTop={1}>
        <Text dimColor>Enter accepts, Esc cancels</Text>
      </Box>
    </Box>
  );
}
