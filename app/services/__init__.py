"""Framework-free services: storage, conversation, bot, formatting. None of them imports Flask."""
