"""Channels: the places students talk to the bot (terminal, and later HTTP and Lex)."""
