// A titled, bordered panel of text lines: the smallest screen bootward draws.
import { Box, Text } from "ink";

export interface CardProps {
  title: string;
  lines: string[];
}

export function Card({ title, lines }: CardProps) {
  return (
    <Box borderStyle="round" flexDirection="column" paddingX={1}>
      <Text bold>{title}</Text>
      {lines.map((line, i) => (
        <Text key={i}>{line}</Text>
      ))}
    </Box>
  );
}
