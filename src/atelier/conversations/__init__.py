"""Chat: conversations and their messages (seed 002), a user's own; replies come later."""
