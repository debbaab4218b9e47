"""Text -> syntax tree: the lark grammar, the parser and the frozen AST."""
