-- 0002: market_data.assets, the securities every market, derived and execution row points at.
--
-- Seed 1's assets table with a UUID key. Seed 2 and seed 3 identify an instrument by symbol
-- (seed 3 also by exchange: 'BTC/USDT' on 'binance'); here that pair is the natural key, and
-- every other table holds the asset's id. Assets are listed once and rarely change.

CREATE TABLE market_data.assets (
    id uuid NOT NULL DEFAULT gen_random_uuid(),
    symbol varchar(20) NOT NULL,
    name varchar(200),
    asset_type market_data.asset_type NOT NULL,
    exchange varchar(50),
    sector varchar(100),
    industry varchar(100),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT assets_pkey PRIMARY KEY (id),
    -- One row per symbol and venue; an asset without a venue (an index, a FRED-like reference
    -- price) may be listed once, hence NULLS NOT DISTINCT.
    CONSTRAINT assets_symbol_exchange_key UNIQUE NULLS NOT DISTINCT (symbol, exchange),
    CONSTRAINT assets_symbol_check CHECK (symbol <> '')
);
COMMENT ON TABLE market_data.assets IS 'Tradeable securities (seed 1 assets); (symbol, exchange) is seed 2/3''s way of naming one.';

CREATE TRIGGER assets_set_updated_at
    BEFORE UPDATE ON market_data.assets
    FOR EACH ROW EXECUTE FUNCTION accounts.set_updated_at();
