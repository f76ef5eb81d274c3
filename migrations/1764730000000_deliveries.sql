-- Up Migration

-- One event for one subscription: made once per (subscription, event) however often the event is
-- delivered to the fan-out, attempted until delivered, failed or its subscription is deleted.
CREATE TABLE deliveries (
  id uuid PRIMARY KEY,
  subscription_id uuid NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  tenant_id text NOT NULL,
  event_id text NOT NULL,
  routing_key text NOT NULL,
  -- Standard Webhooks `webhook-id`: the same on every attempt and replay.
  webhook_id text NOT NULL,
  -- The event as published (the exact bytes, as text).
  payload text NOT NULL,
  -- pending (to attempt at next_attempt_at), delivered, failed.
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  UNIQUE (subscription_id, event_id)
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_subscription ON deliveries (subscription_id, created_at, id);
CREATE INDEX deliveries_finished ON deliveries (finished_at) WHERE status <> 'pending';

-- Every attempt: when, how long, what came back (the first KB of the body).
CREATE TABLE delivery_attempts (
  id bigserial PRIMARY KEY,
  delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  started_at timestamptz NOT NULL,
  latency_ms integer NOT NULL,
  status_code integer,
  error text,
  response text
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, attempt);

-- Down Migration
DROP TABLE delivery_attempts;
DROP TABLE deliveries;
