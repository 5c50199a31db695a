-- 0001: the schemas, the enumerated types, and the one trigger function shared by every schema.
--
-- Seed 2 names seven schemas; seed 1's user tables (public there) get an eighth, accounts. The
-- public schema is not used (PUBLIC loses CREATE on it). Enum labels sort in declaration order,
-- so timeframes compare by length ('1m' < '1h' < '1d') and can be ranged over.

CREATE SCHEMA accounts;
COMMENT ON SCHEMA accounts IS 'Users and their watchlists (seed 1); the shared set_updated_at() trigger function.';

CREATE SCHEMA market_data;
COMMENT ON SCHEMA market_data IS 'Tradeable assets and their OHLCV candles (seed 1 assets/candles, seed 2 market_data.ohlcv).';

CREATE SCHEMA economic_data;
COMMENT ON SCHEMA economic_data IS 'Macroeconomic series observations, e.g. FRED (seed 2).';

CREATE SCHEMA news;
COMMENT ON SCHEMA news IS 'News articles (seed 2).';

CREATE SCHEMA events;
COMMENT ON SCHEMA events IS 'Economic calendar and corporate events (seed 2).';

CREATE SCHEMA derived;
COMMENT ON SCHEMA derived IS 'Data computed from candles: technical indicators and trading signals (seed 1).';

CREATE SCHEMA strategies;
COMMENT ON SCHEMA strategies IS 'Trading strategy definitions (seed 3).';

CREATE SCHEMA execution;
COMMENT ON SCHEMA execution IS 'Executed trades and current positions (seed 3).';

CREATE TYPE market_data.asset_type AS ENUM ('stock', 'etf', 'crypto', 'forex', 'commodity');

-- Seed 1's candle interval list; seed 2's free-text timeframe is constrained to it.
CREATE TYPE market_data.timeframe AS ENUM ('1m', '5m', '15m', '30m', '1h', '4h', '1d', '1w', '1M');

CREATE TYPE derived.indicator_type AS ENUM (
    'sma', 'ema', 'rsi', 'macd', 'bbands', 'atr', 'obv', 'stoch', 'adx', 'cci'
);

CREATE TYPE derived.signal_type AS ENUM ('buy', 'sell', 'hold', 'strong_buy', 'strong_sell');

CREATE TYPE execution.trade_side AS ENUM ('buy', 'sell');

-- Seed 3's "triggers for timestamp updates", for the relational tables only: a row trigger on
-- a hypertable would cost every ingested row, so candle and indicator loaders set updated_at
-- (or computed_at) themselves in their ON CONFLICT ... DO UPDATE.
CREATE FUNCTION accounts.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog
AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$;
COMMENT ON FUNCTION accounts.set_updated_at() IS 'BEFORE UPDATE row trigger: stamps updated_at with the transaction time.';
