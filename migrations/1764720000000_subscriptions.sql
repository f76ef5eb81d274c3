-- Up Migration

-- Tenant API keys: created and revoked by the operator (ADMIN_TOKEN); a key manages its tenant's
-- subscriptions only. Only a SHA-256 of the key is kept (keys are 256 random bits: no slow hash needed).
CREATE TABLE api_keys (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  name text NOT NULL,
  key_hash bytea NOT NULL UNIQUE,
  -- The key's first characters, to tell keys apart in a listing.
  key_prefix text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, created_at);

-- A tenant's HTTPS endpoint and which events it receives.
CREATE TABLE subscriptions (
  id uuid PRIMARY KEY,
  tenant_id text NOT NULL,
  url text NOT NULL,
  description text NOT NULL DEFAULT '',
  -- Routing-key patterns (`message.*`, `status.read`, `notification.#`); an event matching any is delivered.
  event_filter text[] NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  -- Why it is disabled when it was not paused by hand: `gone` (the endpoint answered 410).
  disabled_reason text,
  -- Standard Webhooks secrets (`whsec_…`); during a rotation the previous one signs too, until it expires.
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id, created_at, id);

-- Down Migration
DROP TABLE subscriptions;
DROP TABLE api_keys;
