-- 0005: strategies.strategies, the trading strategy definitions (seed 3).
--
-- Seed 3 refers to a strategy by a readable id ('arbitrage-btc-usdt'), seed 1's signals by a
-- strategy name: both are the unique name here; other tables hold the UUID key.

CREATE TABLE strategies.strategies (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    name varchar(100) NOT NULL,
    description text,
    parameters jsonb NOT NULL DEFAULT '{}',
    is_active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT strategies_pkey PRIMARY KEY (id),
    CONSTRAINT strategies_name_key UNIQUE (name),
    CONSTRAINT strategies_name_check CHECK (name <> ''),
    CONSTRAINT strategies_parameters_check CHECK (jsonb_typeof(parameters) = 'object')
);
COMMENT ON TABLE strategies.strategies IS 'Trading strategy definitions (seed 3); retired by is_active = false, not deleted, since signals and trades keep pointing at them.';
COMMENT ON COLUMN strategies.strategies.name IS 'Seed 3''s strategy id, e.g. arbitrage-btc-usdt; seed 1''s signals.strategy.';

CREATE TRIGGER strategies_set_updated_at
    BEFORE UPDATE ON strategies.strategies
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();
