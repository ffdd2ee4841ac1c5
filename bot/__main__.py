"""Lets `python -m bot` run the same CLI as `coursebot`."""

from bot.cli import main

main()
