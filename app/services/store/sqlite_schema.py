"""The SQLite file's layout, by version (`PRAGMA user_version`), and how to migrate it."""

SCHEMA_VERSION = 4
PROVIDER_STATUS = """
CREATE TABLE IF NOT EXISTS provider_status (
    dialect TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    code TEXT,
    message TEXT,
    since TEXT NOT NULL
);
"""
OPERATORS = """
CREATE INDEX IF NOT EXISTS messages_provider_id ON messages (provider_message_id)
    WHERE provider_message_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS whatsapp_sessions_attention ON whatsapp_sessions (updated_at DESC)
    WHERE attention IS NOT NULL;
CREATE TABLE IF NOT EXISTS message_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id TEXT NOT NULL,
    event TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS message_events_message ON message_events (message_id, id);
"""
# What turns a file of each older version into the next one.
MIGRATIONS = {
    2: """
ALTER TABLE whatsapp_sessions ADD COLUMN last_inbound_at TEXT;
ALTER TABLE messages ADD COLUMN error_kind TEXT;
ALTER TABLE messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN delivery_error_kind TEXT;
""" + PROVIDER_STATUS,
    3: """
ALTER TABLE whatsapp_sessions ADD COLUMN profile_name TEXT;
ALTER TABLE whatsapp_sessions ADD COLUMN handoff_by TEXT;
ALTER TABLE whatsapp_sessions ADD COLUMN handoff_at TEXT;
ALTER TABLE whatsapp_sessions ADD COLUMN operator_at TEXT;
ALTER TABLE whatsapp_sessions ADD COLUMN attention TEXT;
ALTER TABLE whatsapp_sessions ADD COLUMN attention_at TEXT;
ALTER TABLE messages ADD COLUMN author TEXT;
""" + OPERATORS,
}
SCHEMA = """
CREATE TABLE IF NOT EXISTS whatsapp_sessions (
    wa_id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL UNIQUE,
    phone_number_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    seq INTEGER NOT NULL DEFAULT 0,
    lock_owner TEXT,
    lock_until TEXT,
    last_inbound_at TEXT,
    profile_name TEXT,
    handoff_by TEXT,
    handoff_at TEXT,
    operator_at TEXT,
    attention TEXT,
    attention_at TEXT
);
CREATE INDEX IF NOT EXISTS whatsapp_sessions_updated_at ON whatsapp_sessions (updated_at DESC);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    dialect TEXT,
    wa_id TEXT,
    business_number TEXT,
    provider_message_id TEXT,
    inbound_key TEXT UNIQUE,
    in_reply_to TEXT UNIQUE,
    send_state TEXT,
    parts_sent INTEGER NOT NULL DEFAULT 0,
    provider_message_ids TEXT NOT NULL DEFAULT '[]',
    error_kind TEXT,
    error_code TEXT,
    error_message TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivery_status TEXT,
    delivery_rank INTEGER NOT NULL DEFAULT 0,
    delivery_error_kind TEXT,
    delivery_error_code TEXT,
    delivery_error_title TEXT,
    author TEXT
);
CREATE INDEX IF NOT EXISTS messages_position ON messages (conversation_id, position);
CREATE INDEX IF NOT EXISTS messages_queued ON messages (created_at) WHERE status = 'queued';
CREATE TABLE IF NOT EXISTS sent_ids (
    provider_message_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL
);
""" + PROVIDER_STATUS + OPERATORS
