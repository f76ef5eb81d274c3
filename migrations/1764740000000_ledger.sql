-- Up Migration

-- The message ledger (ROLE=ledger): every event once, by event id, partitioned by the day the
-- receiver accepted the webhook that carried it (a replay and a broker redelivery carry the same
-- receivedAt, so they meet the row they would repeat). One partition per UTC day, made ahead by
-- the ledger role and dropped past LEDGER_RETENTION_DAYS.
CREATE TABLE ledger_events (
  received_at timestamptz NOT NULL,
  event_id uuid NOT NULL,
  tenant_id text NOT NULL,
  kind text NOT NULL,
  type text NOT NULL,
  routing_key text NOT NULL,
  message_id text,
  wa_id text,
  user_id text,
  -- When it happened, per Meta (the event's timestamp).
  occurred_at timestamptz NOT NULL,
  correlation_id text NOT NULL,
  raw_key text NOT NULL,
  source text NOT NULL,
  -- The hand-off attempt that published it (2 and more: after a retry), and why the one before failed.
  handoff_attempt integer,
  handoff_last_error text,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  event jsonb NOT NULL,
  PRIMARY KEY (event_id, received_at)
) PARTITION BY RANGE (received_at);
CREATE INDEX ledger_events_by_message ON ledger_events (message_id, tenant_id) WHERE message_id IS NOT NULL;

-- One row per tenant and wamid: the message's latest state by invariant 6 (a state only moves up:
-- sent < delivered < read < played < failed; a late one is recorded on its event, not here) and
-- the time of each state. Removed LEDGER_RETENTION_DAYS after its last change.
CREATE TABLE ledger_messages (
  tenant_id text NOT NULL,
  message_id text NOT NULL,
  -- inbound (a customer's message) or outbound (the business's: statuses, echoes).
  direction text,
  type text,
  state text,
  state_rank integer NOT NULL DEFAULT 0,
  first_at timestamptz,
  received_at timestamptz,
  sent_at timestamptz,
  delivered_at timestamptz,
  read_at timestamptz,
  played_at timestamptz,
  failed_at timestamptz,
  -- Statuses that came after a later state was already recorded.
  out_of_order integer NOT NULL DEFAULT 0,
  error_codes integer[] NOT NULL DEFAULT '{}',
  pricing_category text,
  pricing_type text,
  conversation_id text,
  media_key text,
  wa_id text,
  user_id text,
  events integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, message_id)
);
CREATE INDEX ledger_messages_updated ON ledger_messages (updated_at);

-- Counts per tenant and UTC day (of receipt): events by kind and type, statuses with the message's
-- pricing category and, for failures, the error code. Written in the batch that writes the events,
-- for the events written (a copy written nothing counts nothing). Small: kept past the retention.
CREATE TABLE ledger_daily (
  tenant_id text NOT NULL,
  day date NOT NULL,
  kind text NOT NULL,
  type text NOT NULL,
  category text NOT NULL DEFAULT '',
  error_code text NOT NULL DEFAULT '',
  events bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, day, kind, type, category, error_code)
);

-- Down Migration

DROP TABLE ledger_daily;
DROP TABLE ledger_messages;
DROP TABLE ledger_events;
